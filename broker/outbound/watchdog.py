"""Cutting a call off at its deadline, however slowly the other side sends.

A socket timeout bounds one read, not a call: a server that sends its headers or body a few
bytes at a time is never timed out by it. One thread per process keeps the deadlines of the
calls in flight and, when one passes, shuts that call's socket down; the reading thread then
fails at once and sees `Watch.fired`. The thread sleeps until the earliest deadline and costs
nothing while calls finish in time. In a forked child (a gunicorn worker) it starts afresh.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time


class Watch:
    """One call's deadline; `fired` once the deadline passed before the call was done."""

    __slots__ = ("deadline", "fired", "sock", "done")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.sock: socket.socket | None = None
        self.done = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def _cut(sock: socket.socket) -> None:
    """Shut the socket down without closing it (its owner closes it): a blocked read in
    another thread returns at once. socket.socket's own method, so that an SSLSocket is not
    torn down under the thread that reads from it."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or not connected: nothing left to cut


class Watchdog:
    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float) -> Watch:
        watch = Watch(time.monotonic() + seconds)
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbound-watchdog",
                                                daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if self._heap[0][2] is watch:
                self._cond.notify()
        return watch

    def attach(self, watch: Watch, sock: socket.socket) -> None:
        """The socket the call now reads from (a kept-alive one may serve many calls)."""
        with self._cond:
            watch.sock = sock
            if watch.fired:
                _cut(sock)

    def release(self, watch: Watch) -> None:
        """The call is over: its socket is never cut after this returns."""
        with self._cond:
            watch.done = True
            watch.sock = None

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    watch = heapq.heappop(self._heap)[2]
                    if not watch.done:
                        watch.fired = True
                        if watch.sock is not None:
                            _cut(watch.sock)
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


WATCHDOG = Watchdog()
