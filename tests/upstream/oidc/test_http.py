"""broker.upstream.oidc_http over the one outbound fetcher: kept-alive connections to a school's
OP, and no cookies carried from one school to another (or back to the same one)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from broker.errors import UpstreamRejected
from broker.upstream.oidc_http import Http


class _School(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.cookies: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections += 1  # one per accepted TCP connection
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: _School

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, body: bytes, status: int = 200) -> None:
        self.server.cookies.append(self.headers.get("Cookie", ""))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.path.endswith("/set-cookie"):
            self.send_header("Set-Cookie", "session=school-secret; Path=/")
            self.send_header("Set-Cookie", "wide=1; Domain=127.0.0.1; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/big":
            self._answer(b'{"x": "' + b"x" * 4096 + b'"}')
        else:
            self._answer(json.dumps({"path": self.path}).encode())

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer(b'{"access_token": "t"}')


@contextmanager
def _school() -> Iterator[_School]:
    server = _School()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def school_a() -> Iterator[_School]:
    with _school() as server:
        yield server


@pytest.fixture
def school_b() -> Iterator[_School]:
    with _school() as server:
        yield server


def test_calls_to_a_school_reuse_one_connection(school_a: _School) -> None:
    http = Http()
    assert http.document(f"{school_a.url}/.well-known/openid-configuration", "discovery")
    assert http.get(f"{school_a.url}/jwks", "keys").status == 200
    assert http.post(f"{school_a.url}/token", "token", {"code": "c"}).body == {
        "access_token": "t"}
    assert Http(timeout=3).get(f"{school_a.url}/userinfo", "user info").status == 200
    assert school_a.connections == 1


def test_an_answer_cut_short_does_not_poison_the_next_call(school_a: _School) -> None:
    small = Http(max_bytes=1024)
    with pytest.raises(UpstreamRejected, match="larger than Loper accepts"):
        small.get(f"{school_a.url}/big", "discovery")
    assert small.get(f"{school_a.url}/after", "discovery").body == {"path": "/after"}


def test_a_cookie_from_one_school_is_never_sent(school_a: _School, school_b: _School) -> None:
    """Both on 127.0.0.1 (cookies ignore ports): a shared cookie jar would leak here."""
    http = Http()
    http.get(f"{school_a.url}/set-cookie", "discovery")
    http.get(f"{school_b.url}/set-cookie", "discovery")
    http.get(f"{school_b.url}/next", "keys")
    http.post(f"{school_a.url}/token", "token", {"code": "c"})
    http.get(f"{school_a.url}/next", "keys")
    assert school_a.cookies == ["", "", ""] and school_b.cookies == ["", ""]
