"""Serve WSGI apps on free loopback ports in background threads, for end-to-end tests.

    with serve(app) as base_url: ...                       # an app that exists already
    with serve_factory(make_app) as (base_url, app): ...   # an app that must know its own URL

The port is bound before the app is made, so an app factory that needs its base URL (every
SAML peer does: its entity id and endpoints are URLs) gets the real one, with no race for a
"free" port. Stopping closes the listening socket and every open keep-alive connection and
joins every thread: no ResourceWarning, no thread left behind.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HOST = "127.0.0.1"
STOP_TIMEOUT = 10.0

App = TypeVar("App", bound="WSGIApplication")


class _Connections:
    """The sockets of the requests being served now (keep-alive ones included)."""

    def __init__(self) -> None:
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def add(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)

    def discard(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)

    def hang_up(self) -> None:
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone


def _handler(connections: _Connections) -> type[WSGIRequestHandler]:
    class Handler(WSGIRequestHandler):
        def setup(self) -> None:
            super().setup()
            connections.add(self.connection)

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                connections.discard(self.connection)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # tests read responses, not access logs

    return Handler


def _not_ready(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"not ready"]


class LoopbackServer:
    """A threaded werkzeug server on 127.0.0.1 and a free port; `app` may be set later."""

    def __init__(self, app: WSGIApplication | None = None) -> None:
        self._connections = _Connections()
        self._server: BaseWSGIServer = make_server(
            HOST, 0, app or _not_ready, threaded=True, request_handler=_handler(self._connections)
        )
        # Track request threads so that stopping joins them (werkzeug makes them daemons).
        self._server.daemon_threads = False  # type: ignore[attr-defined]
        self._server.block_on_close = True  # type: ignore[attr-defined]
        self.base_url = f"http://{HOST}:{self._server.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"serve {self.base_url}", daemon=True,
        )

    @property
    def app(self) -> WSGIApplication:
        return self._server.app

    @app.setter
    def app(self, app: WSGIApplication) -> None:
        self._server.app = app

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if not self._thread.is_alive():
            self._server.server_close()
            return
        # The serving loop ends, closes the listening socket and joins the request threads,
        # which end once their (keep-alive) connections are cut: cut until none is left.
        self._server.shutdown()
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._thread.is_alive() and time.monotonic() < deadline:
            self._connections.hang_up()
            self._thread.join(timeout=0.05)
        if self._thread.is_alive():
            raise RuntimeError(f"{self.base_url} did not stop")


@contextmanager
def serve(app: WSGIApplication) -> Iterator[str]:
    """Serve `app` for the duration of the block; yields its base URL (no trailing slash)."""
    with serve_factory(lambda _url: app) as (base_url, _app):
        yield base_url


@contextmanager
def serve_factory(make_app: Callable[[str], App]) -> Iterator[tuple[str, App]]:
    """Bind a port, make the app with its base URL, serve it; yields (base URL, app)."""
    server = LoopbackServer()
    try:
        app = make_app(server.base_url)
        server.app = app
        server.start()
        yield server.base_url, app
    finally:
        server.stop()
