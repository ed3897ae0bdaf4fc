"""Requests to Loper: plain http.client against gunicorn, or Flask's test client in-process.

Each request is timed from sending to the last byte of the answer. Cookies are kept per login
in a plain dict (a fresh browser per login), sent back as one Cookie header.
"""

from __future__ import annotations

import cProfile
import http.client
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

TIMEOUT = 60.0


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    """Absolute URL (Loper's base URL + path and query)."""
    form: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    """Lower-case names; Set-Cookie is not kept here (see the jar)."""
    body: bytes
    seconds: float
    cpu_ms: float | None = None
    """The workers' CPU time for this request (bench/hops.py's transport only)."""

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


Jar = dict[str, str]


class Transport(Protocol):
    def send(self, request: Request, jar: Jar) -> Response: ...


def _body(request: Request) -> tuple[bytes | None, dict[str, str]]:
    headers = dict(request.headers)
    if request.form is None:
        return None, headers
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return urlencode(request.form).encode("ascii"), headers


def _cookie_header(jar: Jar) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def _remember(jar: Jar, set_cookies: list[str]) -> None:
    for header in set_cookies:
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
            if expired or not morsel.value:
                jar.pop(name, None)
            else:
                jar[name] = morsel.value


class HttpTransport:
    """By default one connection per request: gunicorn closes every connection anyway (sync
    workers, and gthread with keepalive 0). With `keepalive` a login's hops share one
    connection, as a browser's would (a proxy such as nginx keeps it open). https needs
    `cafile`, the certificate the server presents."""

    def __init__(self, base_url: str, keepalive: bool = False, cafile: str | None = None) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.context = (ssl.create_default_context(cafile=cafile)
                        if parts.scheme == "https" else None)
        self.port = parts.port or (443 if self.context else 80)
        self.keepalive = keepalive
        self.local = threading.local()

    def _connect(self) -> http.client.HTTPConnection:
        if self.context is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=TIMEOUT,
                                               context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def _connection(self, jar: Jar) -> http.client.HTTPConnection:
        """This login's connection (one per thread: a thread drives one login at a time)."""
        held: tuple[int, http.client.HTTPConnection] | None = getattr(self.local, "held", None)
        if held is not None and held[0] == id(jar):
            return held[1]
        if held is not None:
            held[1].close()
        conn = self._connect()
        self.local.held = (id(jar), conn)
        return conn

    def send(self, request: Request, jar: Jar) -> Response:
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body, headers = _body(request)
        if jar:
            headers["Cookie"] = _cookie_header(jar)
        started = time.perf_counter()
        conn = self._connection(jar) if self.keepalive else self._connect()
        try:
            conn.request(request.method, path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        except BaseException:
            conn.close()
            raise
        finally:
            if not self.keepalive:
                conn.close()
        seconds = time.perf_counter() - started
        _remember(jar, answer.headers.get_all("Set-Cookie") or [])
        names = {k.lower(): v for k, v in answer.getheaders() if k.lower() != "set-cookie"}
        return Response(answer.status, names, data, seconds)


class TestClientTransport:
    """Loper in this process (for the profiler): Flask's test client, cookies kept by us.
    With `profiling` set, `profiler` runs only while Loper answers: encoding the form (a
    SAMLResponse takes the client about 0.5 ms to quote) and reading cookies stay out."""

    def __init__(self, app: Any, profiler: cProfile.Profile | None = None) -> None:
        self.client = app.test_client(use_cookies=False)
        self.profiler = profiler
        self.profiling = False

    def send(self, request: Request, jar: Jar) -> Response:
        parts = urlsplit(request.url)
        body, headers = _body(request)
        if jar:
            headers["Cookie"] = _cookie_header(jar)
        profiler = self.profiler if self.profiling else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            answer = self.client.open(parts.path, method=request.method,
                                      query_string=parts.query, data=body, headers=headers,
                                      base_url=f"{parts.scheme}://{parts.netloc}")
            data = answer.get_data()
        finally:
            if profiler is not None:
                profiler.disable()
        seconds = time.perf_counter() - started
        _remember(jar, answer.headers.getlist("Set-Cookie"))
        names = {k.lower(): v for k, v in answer.headers.items() if k.lower() != "set-cookie"}
        answer.close()
        return Response(answer.status_code, names, data, seconds)
