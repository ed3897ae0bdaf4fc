"""What one process knows of the hosts it calls: which timed out a moment ago, and how many
calls to each are waiting now.

A host that timed out is refused at once for `failure_ttl` seconds: a dead school costs one
timeout per worker process, not one per pupil. At most `per_host` calls to one host wait at
the same time; one more is refused at once, so the pupils of one slow school, arriving before
its first timeout, cannot tie up every thread of a worker. Both live in this process's memory:
nothing to share or clean up, and each worker learns about a dead school by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from broker.messages import msg
from broker.outbound.errors import OutboundBusy, OutboundTimeout


class Hosts:
    def __init__(self, failure_ttl: float, per_host: int | None) -> None:
        self.failure_ttl = failure_ttl
        self.per_host = per_host
        self._down: dict[str, float] = {}
        self._waiting: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def call(self, origin: str, shown: str, timeout: float) -> Iterator[None]:
        """Around one call to `origin`; raises OutboundTimeout at once if it is down or busy."""
        with self._lock:
            until = self._down.get(origin)
            if until is not None and until <= time.monotonic():
                del self._down[origin]
                until = None
            waiting = self._waiting.get(origin, 0)
            if until is None and (self.per_host is None or waiting < self.per_host):
                self._waiting[origin] = waiting + 1
        if until is not None:
            raise OutboundTimeout(msg("outbound.timed_out_recently", host=shown,
                                      seconds=f"{timeout:g}",
                                      again=f"{until - time.monotonic():.0f}"), shown)
        if self.per_host is not None and waiting >= self.per_host:
            raise OutboundBusy(msg("outbound.busy", host=shown, waiting=waiting), shown)
        try:
            yield
        finally:
            with self._lock:
                left = self._waiting[origin] - 1
                if left:
                    self._waiting[origin] = left
                else:
                    del self._waiting[origin]

    def timed_out(self, origin: str) -> None:
        if self.failure_ttl > 0:
            with self._lock:
                self._down[origin] = time.monotonic() + self.failure_ttl
