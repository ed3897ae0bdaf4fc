"""Outbound HTTP for the OIDC upstream: JSON from a school's OpenID Provider, bounded.

Every call has a timeout and a size cap, follows no redirects, verifies TLS against the
standard CA variables (REQUESTS_CA_BUNDLE, then SSL_CERT_FILE, then certifi's bundle) and
turns every network or format failure into UpstreamRejected.

Calls go through one requests.Session per thread (per process for sync workers), so a school's
OP is reached over a kept-alive connection instead of a new TCP and TLS handshake each time.
urllib3 pools connections per scheme, host, port and TLS settings (CA bundle included), so a
connection is only reused for the same server with the same verification. The Session keeps no
cookies: nothing one school sets is ever sent to another (or back to it).
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from broker.errors import UpstreamRejected
from broker.outbound import ca_bundle

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_log = logging.getLogger("loper.upstream.oidc")


def is_secure_url(url: object) -> bool:
    """An absolute https URL, or http on a loopback host (tests, the demo)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return bool(host) and (parts.scheme == "https"
                           or (parts.scheme == "http" and host in LOOPBACK))


class _NoCookies(http.cookiejar.CookiePolicy):
    """A cookie policy that accepts no cookie and returns none."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


_sessions = threading.local()


def session() -> requests.Session:
    """This thread's Session, without cookies; a new one in a forked child (a gunicorn worker
    never shares pooled sockets with the master or its siblings)."""
    current: requests.Session | None = getattr(_sessions, "session", None)
    if current is None or getattr(_sessions, "pid", None) != os.getpid():
        current = requests.Session()
        current.cookies.set_policy(_NoCookies())
        _sessions.session, _sessions.pid = current, os.getpid()
    return current


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


@dataclass(frozen=True)
class JsonAnswer:
    status: int
    body: Mapping[str, Any]
    content_type: str


@dataclass(frozen=True)
class Http:
    timeout: float = 10.0
    max_bytes: int = 1024 * 1024

    def get(self, url: str, what: str, headers: Mapping[str, str] | None = None) -> JsonAnswer:
        return self._send("GET", url, what, headers=headers)

    def document(self, url: str, what: str) -> Mapping[str, Any]:
        """A JSON document that must be there (HTTP 200): discovery, JWKS."""
        answer = self.get(url, what)
        if answer.status != 200:
            raise UpstreamRejected(f"Your school's login server ({host_of(url)}) answered "
                                   f"HTTP status {answer.status} when Loper asked for its "
                                   f"{what}.")
        return answer.body

    def post(self, url: str, what: str, data: Mapping[str, str],
             headers: Mapping[str, str] | None = None) -> JsonAnswer:
        return self._send("POST", url, what, headers=headers, data=data)

    def _send(self, method: str, url: str, what: str, *,
              headers: Mapping[str, str] | None = None,
              data: Mapping[str, str] | None = None) -> JsonAnswer:
        sent = {"Accept": "application/json", **(headers or {})}
        try:
            with session().request(method, url, headers=sent, data=data, timeout=self.timeout,
                                   stream=True, allow_redirects=False,
                                   verify=ca_bundle()) as response:
                raw = self._read(response, url, what)
                kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                status = response.status_code
        except requests.exceptions.SSLError as exc:
            _log.warning("school's TLS refused", extra={"url": url, "what": what})
            raise UpstreamRejected(f"Loper could not verify the TLS certificate of your "
                                   f"school's login server ({host_of(url)}).") from exc
        except requests.RequestException as exc:
            _log.warning("school did not answer", extra={"url": url, "what": what,
                                                         "error": type(exc).__name__})
            raise UpstreamRejected(f"Your school's login server ({host_of(url)}) did not "
                                   f"answer when Loper asked for its {what}. Please try "
                                   "again later.") from exc
        try:
            body = _json_object(raw, url, what, kind)
        except UpstreamRejected:
            if status == 200:
                raise
            body = {}  # an error page: the status says enough
        return JsonAnswer(status, body, kind)

    def _read(self, response: requests.Response, url: str, what: str) -> bytes:
        too_big = UpstreamRejected(f"The {what} from your school's login server "
                                   f"({host_of(url)}) is larger than Loper accepts.")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_big
        deadline = time.monotonic() + 3 * self.timeout
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > self.max_bytes:
                raise too_big
            if time.monotonic() > deadline:
                raise requests.Timeout("the answer arrives too slowly")
        return bytes(body)


def _json_object(raw: bytes, url: str, what: str, kind: str) -> Mapping[str, Any]:
    """The body as a JSON object; {} for an empty body (e.g. a bare error status)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise UpstreamRejected(f"The {what} from your school's login server ({host_of(url)}) "
                               f"is not a JSON object (content type {kind[:60] or 'none'!r}).")
    return value
