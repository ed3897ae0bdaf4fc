"""Servers that answer too slowly, the way the fault injection found them.

`Slowed` wraps a real WSGI app (the demo school's OpenID Provider): on the paths it is told,
it hangs (answers nothing until it is stopped) or drips (sends the app's real answer a few
bytes at a time). `SlowSocket` is lower still, for the fetcher's own tests: it drips the
status line and headers too, which no WSGI server can be made to do.

Every wait is bounded and ends at once when the server is stopped.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Mode = Literal["hang", "drip"]
LONGEST = 120.0
"""No wait of a slow server outlasts this (pytest's timeout is the same)."""


@dataclass
class Slowed:
    """A WSGI app that hangs or drips on the paths in `modes` (PATH_INFO -> mode)."""

    app: WSGIApplication
    modes: dict[str, Mode] = field(default_factory=dict)
    every: float = 0.2
    """Seconds between two pieces of a dripping answer."""
    piece: int = 3
    """Bytes per piece."""
    stopped: threading.Event = field(default_factory=threading.Event)
    calls: dict[str, int] = field(default_factory=dict)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        mode = self.modes.get(path)
        self.calls[path] = self.calls.get(path, 0) + 1
        if mode == "hang":
            self.stopped.wait(LONGEST)
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return []
        if mode == "drip":
            return self._drip(b"".join(self.app(environ, start_response)))
        return self.app(environ, start_response)

    def _drip(self, body: bytes) -> Iterator[bytes]:
        for start in range(0, len(body), self.piece):
            if self.stopped.wait(self.every):
                return
            yield body[start:start + self.piece]


@dataclass(frozen=True)
class SlowSocket:
    """A raw HTTP server on loopback: each connection gets `head` then `body`, `piece`
    bytes every `every` seconds ("drip"), or nothing at all ("hang")."""

    port: int
    stopped: threading.Event


@contextmanager
def slow_socket(mode: Mode, *, head: bytes = b"", body: bytes = b"", every: float = 0.2,
                piece: int = 3) -> Iterator[SlowSocket]:
    stopped = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    threads: list[threading.Thread] = []

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(LONGEST)
            try:
                conn.recv(65536)
                if mode == "hang":
                    stopped.wait(LONGEST)
                    return
                data = head + body
                for start in range(0, len(data), piece):
                    if stopped.wait(every):
                        return
                    conn.sendall(data[start:start + piece])
            except OSError:
                return  # the client gave up: what the test wants

    def accept() -> None:
        while not stopped.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=answer, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield SlowSocket(listener.getsockname()[1], stopped)
    finally:
        stopped.set()
        acceptor.join(timeout=5)
        for thread in threads:
            thread.join(timeout=5)
        listener.close()


def json_head(length: int | None = None, extra: Mapping[str, str] | None = None) -> bytes:
    """A 200 status line and headers for a JSON body (chunk-less: Content-Length or close)."""
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
