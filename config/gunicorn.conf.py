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
import sys
from typing import Any

from broker import metrics_dir as metrics_dir_module
from broker.errors import ConfigError
from broker.key_checks import check_keys
from broker.settings import load_settings

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

# -- /metrics across workers -------------------------------------------------------------------
# Each worker writes its metrics to files in one folder, and a scrape of any worker adds up
# all of them (prometheus_client's multiprocess mode, README "Metrics and logs"). The variable
# must be set before a worker imports Loper, so it is set here, in the master: an explicit
# PROMETHEUS_MULTIPROC_DIR (the systemd unit: /run/loper/metrics), else a folder in RAM named
# after the instance (broker/metrics_dir.py says why not the instance folder).
metrics_dir = metrics_dir_module.chosen(os.environ)
os.environ[metrics_dir_module.ENV] = str(metrics_dir)


def on_starting(server: Any) -> None:
    """A fresh start counts from zero: the files of the last run's workers go. Settings or a
    key Loper cannot start with stop the server here, before it listens: Loper's one line as
    gunicorn's reason, exit status 3 (as a worker that fails to boot), once, not once per
    worker; a key that is missing is left to the workers (one made before sealing existed
    gets its sealing key there)."""
    metrics_dir_module.prepare(metrics_dir)
    try:
        check_keys(load_settings().keys_dir, missing_ok=True)
    except ConfigError as exc:
        server.halt(reason=str(exc), exit_status=server.WORKER_BOOT_ERROR)


def post_fork(server: Any, worker: Any) -> None:
    """A worker that cannot load Loper for a reason the operator must fix (a ConfigError: a
    registry without a schema, a missing key) logs Loper's one line and exits with gunicorn's
    worker boot error, which stops the server; without this gunicorn prints a traceback."""
    load_wsgi = worker.load_wsgi

    def load_or_say_why() -> None:
        try:
            load_wsgi()
        except ConfigError as exc:
            worker.log.error("%s", exc)
            sys.exit(server.WORKER_BOOT_ERROR)

    worker.load_wsgi = load_or_say_why


def child_exit(server: object, worker: Any) -> None:
    """What a worker counted stays in the sum after it exits; its live gauges do not."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(metrics_dir))
