"""The one outbound HTTP fetcher: OIDC discovery, JWKS, tokens, user info, metadata URLs.

Every call has one overall deadline, from resolving the host's name (resolve.py) to the last
byte, however slowly the server sends (the watchdog cuts the socket; the body is read as it
arrives and the clock checked after every read), and a size cap; a `public_only` call checks
its host's addresses within that same deadline (addresses.py). No redirect is followed, no
cookie is kept (urllib3 has no cookie jar), no compression is asked for or accepted, and TLS
is verified against the standard CA variables (policy.ca_bundle).

Connections are pooled per thread (per process for sync workers; a forked child starts with
none), so a school's server is reached over a kept-alive connection. urllib3 keys pools by
scheme, host, port and TLS settings (CA bundle included): a connection is reused only for the
same server with the same verification.

What this process remembers of the hosts it calls (hosts.py): one that timed out is refused
at once for a while, and only so many calls to one host wait at the same time.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from http.client import HTTPException
from urllib.parse import SplitResult, urlencode, urlsplit

import certifi  # requests' own CA bundle (installed with requests)
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.response import BaseHTTPResponse

from broker.messages import msg
from broker.outbound import addresses
from broker.outbound.errors import (
    OutboundError,
    OutboundTimeout,
    OutboundTlsError,
    OutboundTooLarge,
    OutboundUnreachable,
    cause,
)
from broker.outbound.hosts import Hosts
from broker.outbound.policy import ca_bundle
from broker.outbound.resolve import is_address, resolve
from broker.outbound.watchdog import WATCHDOG, Watch

READ_SIZE = 16 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    """Lower case, without parameters."""
    body: bytes
    location: str = ""
    """A redirect's Location header (redirects are never followed), for saying where to."""


# -- connections whose socket the watchdog can cut --------------------------------------------

class _Call(threading.local):
    watch: Watch | None = None
    """The watchdog of this thread's call in progress (None: none)."""


_calls = _Call()


def _attach(sock: object) -> None:
    watch = _calls.watch
    if watch is not None and sock is not None:
        WATCHDOG.attach(watch, sock)  # type: ignore[arg-type]


class _Connection(HTTPConnection):
    """A connection whose socket the watchdog of the current call can cut: from the TCP
    connect on (a TLS handshake included), and again for each call on a kept-alive one. Its
    host name is resolved within the call's deadline too (resolve.py)."""

    def _new_conn(self) -> socket.socket:
        watch = _calls.watch
        if watch is None or is_address(self._dns_host):
            sock = super()._new_conn()
        else:  # the name is resolved within the call's deadline, then each address tried
            sock = self._connect_any(resolve(self._dns_host, self.port, watch.remaining()))
        _attach(sock)
        return sock

    def _connect_any(self, addresses: list[str]) -> socket.socket:
        name, failed = self._dns_host, None
        try:
            for address in addresses:
                self._dns_host = address  # TLS still checks the name (self.host is restored)
                try:
                    return super()._new_conn()
                except NewConnectionError as exc:  # refused: the next address may answer
                    failed = exc
            raise failed or NewConnectionError(self, f"{name} has no address")
        finally:
            self._dns_host = name

    def getresponse(self) -> urllib3.HTTPResponse:  # type: ignore[override]
        _attach(self.sock)
        return super().getresponse()


class _TlsConnection(_Connection, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


class _Managers(threading.local):
    manager: urllib3.PoolManager | None = None
    pid: int | None = None
    """The process the manager was made in."""


_managers = _Managers()


def pool_manager() -> urllib3.PoolManager:
    """This thread's pools; new ones in a forked child (no socket shared with the parent)."""
    current = _managers.manager
    if current is None or _managers.pid != os.getpid():
        current = urllib3.PoolManager(num_pools=50, maxsize=1, retries=False)
        current.pool_classes_by_scheme = {"http": _Pool, "https": _TlsPool}
        _managers.manager, _managers.pid = current, os.getpid()
    return current


def _tls_settings() -> dict[str, str]:
    bundle = ca_bundle()
    if isinstance(bundle, str) and os.path.isdir(bundle):
        return {"cert_reqs": "CERT_REQUIRED", "ca_cert_dir": bundle}
    return {"cert_reqs": "CERT_REQUIRED",
            "ca_certs": bundle if isinstance(bundle, str) else certifi.where()}


def _pool(scheme: str, host: str, port: int, connect_to: str | None) -> HTTPConnectionPool:
    """The pool for a call; `connect_to` pins the address (checked against SSRF) in a pool of
    its own, with TLS still verified for `host`."""
    tls = _tls_settings() if scheme == "https" else {}
    if connect_to is None:
        return pool_manager().connection_from_host(host, port, scheme, pool_kwargs=tls)
    if scheme == "http":
        return _Pool(connect_to, port, retries=False)
    return _TlsPool(connect_to, port, retries=False, server_hostname=host,
                    assert_hostname=host, **tls)  # type: ignore[arg-type]


# -- the fetcher --------------------------------------------------------------------------------

DEFAULT_TIMEOUT = 10.0
_default_timeout: ContextVar[float] = ContextVar("outbound_timeout", default=DEFAULT_TIMEOUT)


@contextmanager
def default_timeout(seconds: float) -> Iterator[None]:
    """Calls made inside, by fetchers without a timeout of their own, get `seconds` each
    (the command line applies the outbound_timeout setting this way)."""
    token = _default_timeout.set(seconds)
    try:
        yield
    finally:
        _default_timeout.reset(token)


class Fetcher:
    """Outbound calls with one deadline (`timeout` seconds; None: the default of the
    context) and one size cap each.

    A call made `public_only` (a URL someone other than the operator chose) resolves its host
    once, refuses it (addresses.AddressRefused, nothing sent) if any address is not public,
    and connects to the address checked; the lookup counts against the call's deadline.
    `connect_to` instead: an address the caller resolved and checked itself."""

    def __init__(self, timeout: float | None = None, max_bytes: int = 1024 * 1024,
                 failure_ttl: float = 30.0, per_host: int | None = None) -> None:
        self._timeout = timeout
        self.max_bytes = max_bytes
        self.hosts = Hosts(failure_ttl, per_host)

    @property
    def timeout(self) -> float:
        return self._timeout if self._timeout is not None else _default_timeout.get()

    def get(self, url: str, *, accept: str, headers: Mapping[str, str] | None = None,
            connect_to: str | None = None, public_only: bool = False) -> Answer:
        return self.send("GET", url, accept=accept, headers=headers, connect_to=connect_to,
                         public_only=public_only)

    def post(self, url: str, form: Mapping[str, str], *, accept: str,
             headers: Mapping[str, str] | None = None) -> Answer:
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.send("POST", url, accept=accept, headers=sent, body=urlencode(form).encode())

    def send(self, method: str, url: str, *, accept: str,
             headers: Mapping[str, str] | None = None, body: bytes | None = None,
             connect_to: str | None = None, public_only: bool = False) -> Answer:
        parts = urlsplit(url)
        shown = parts.netloc.rsplit("@", 1)[-1] or url
        with self.hosts.call(f"{parts.scheme}://{shown}", shown, self.timeout):
            return self._send(method, parts, shown, accept=accept, headers=headers, body=body,
                              connect_to=connect_to, public_only=public_only)

    def _send(self, method: str, parts: SplitResult, shown: str, *, accept: str,
              headers: Mapping[str, str] | None, body: bytes | None,
              connect_to: str | None, public_only: bool) -> Answer:
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {"Host": shown, "Accept": accept, "Accept-Encoding": "identity",
                **(headers or {})}
        watch = WATCHDOG.watch(self.timeout)
        _calls.watch = watch
        pool = None
        try:
            if public_only:  # within the watch: a slow lookup leaves the fetch less time
                connect_to = addresses.checked(host, port, False, watch.remaining())
            pool = _pool(scheme, host, port, connect_to)
            response = pool.urlopen(method, target, body=body, headers=sent, redirect=False,
                                    retries=False, preload_content=False, assert_same_host=False,
                                    timeout=urllib3.Timeout(total=max(watch.remaining(), 0.01)))
            return self._answer(response, watch, shown)
        except (HTTPError, HTTPException, OSError) as exc:
            raise self._failure(exc, watch, f"{scheme}://{shown}", shown) from exc
        finally:
            _calls.watch = None
            WATCHDOG.release(watch)
            if connect_to is not None and pool is not None:
                pool.close()

    def _answer(self, response: BaseHTTPResponse, watch: Watch, shown: str) -> Answer:
        try:
            body = self._read(response, watch, shown)
        except BaseException:
            response.close()  # the connection is in an unknown state: never reuse it
            raise
        finally:
            response.release_conn()
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        location = response.headers.get("Location", "") if 300 <= response.status < 400 else ""
        return Answer(response.status, kind, body, location)

    def _read(self, response: BaseHTTPResponse, watch: Watch, shown: str) -> bytes:
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise OutboundUnreachable(msg("outbound.compressed", host=shown,
                                          encoding=encoding[:20]), shown)
        declared = response.headers.get("Content-Length", "")
        too_big = OutboundTooLarge(msg("outbound.too_large", host=shown,
                                       kb=self.max_bytes // 1024), shown)
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_big
        body = bytearray()
        while chunk := response.read1(READ_SIZE, decode_content=False):
            body += chunk
            if len(body) > self.max_bytes:
                raise too_big
            if watch.remaining() <= 0:
                raise Urllib3Timeout("the answer arrives too slowly")
        if watch.fired:  # the cut socket may have looked like the end of a body
            raise Urllib3Timeout("cut off at the deadline")
        return bytes(body)

    def _failure(self, exc: BaseException, watch: Watch, origin: str,
                 shown: str) -> OutboundError:
        refused = isinstance(exc, NewConnectionError)  # urllib3 makes it a ConnectTimeoutError
        if watch.fired or (isinstance(exc, Urllib3Timeout) and not refused):
            self.hosts.timed_out(origin)
            return OutboundTimeout(msg("outbound.timeout", host=shown,
                                       seconds=f"{self.timeout:g}"), shown)
        if isinstance(exc, SSLError):
            return OutboundTlsError(msg("outbound.tls", host=shown), shown)
        return OutboundUnreachable(msg("outbound.unreachable", host=shown,
                                       error=msg("outbound.cause_" + cause(exc))), shown)
