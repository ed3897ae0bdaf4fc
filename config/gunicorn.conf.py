"""Gunicorn settings for Loper:  gunicorn -c config/gunicorn.conf.py 'app:create_app()'

Worker model (README, "Worker model"): threaded workers (gthread). A login spends most of its
time waiting on a school (discovery, token, user info) or on Redis, not on the CPU; a thread
that waits for a slow or dead school holds one of `threads` slots of its worker for at most
Loper's outbound deadline (outbound_timeout, 10 s), while the worker's other threads go on
serving every other school. With sync workers each such wait held a whole worker: two pupils
of one hanging school stopped every login of every school (measured: README).

Every setting can be changed on the command line (it wins over this file) or with the
LOPER_WORKERS / LOPER_THREADS environment variables.
"""

from __future__ import annotations

import os

worker_class = "gthread"

workers = int(os.environ.get("LOPER_WORKERS", os.cpu_count() or 1))
"""One process per core: the threads of a worker share one interpreter lock, so more
processes than cores buy no CPU, only memory."""

threads = int(os.environ.get("LOPER_THREADS", "16"))
"""Requests one worker serves at once. Enough that a few pupils waiting for dead schools
(each ties a thread up for up to outbound_timeout) leave most of them free."""

worker_connections = threads
"""A worker accepts a connection only when one of its threads is free: a request is never
queued inside a busy worker while another worker idles; it waits in the listen backlog."""

keepalive = 0
"""No keep-alive: every connection closes after its answer (as with sync workers). A gthread
worker with keep-alive gave bimodal throughput in benchmarks; browsers reach Loper through a
TLS proxy that keeps its own connections, and a login is a handful of requests."""

timeout = 30
"""A worker whose main loop does not check in for this long is restarted. Threads waiting on
a school do not block the main loop; outbound_timeout (at most 25 s) ends those waits first."""

graceful_timeout = 15
