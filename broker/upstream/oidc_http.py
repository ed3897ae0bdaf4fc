"""Outbound HTTP for the OIDC upstream: JSON from a school's OpenID Provider.

The calls go through the one outbound fetcher (broker/outbound/fetch.py: overall deadline,
size cap, no redirects or cookies, TLS verified against the standard CA variables); this
module turns its answers into JSON objects and its failures into errors a pupil can be shown:
a school that does not answer in time is a SchoolTimeout (504), one that cannot be reached or
answers with a server error a SchoolUnavailable (502), anything else an UpstreamRejected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from broker.errors import SchoolTimeout, SchoolUnavailable, UpstreamRejected
from broker.jsonvalue import Json, JsonObject, loads_object
from broker.outbound.errors import (
    OutboundError,
    OutboundTimeout,
    OutboundTlsError,
    OutboundTooLarge,
)
from broker.outbound.fetch import Answer, Fetcher
from broker.outbound.policy import is_secure_url

__all__ = ["Http", "JsonAnswer", "host_of", "is_secure_url"]
_log = logging.getLogger("loper.upstream.oidc")
_JSON = "application/json"


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


@dataclass(frozen=True)
class JsonAnswer:
    status: int
    body: Mapping[str, Json]
    content_type: str


class Http:
    """JSON calls to schools' OPs; one per process (its fetcher remembers hosts that timed
    out for `failure_ttl` seconds and lets at most `per_host` calls to one host wait)."""

    def __init__(self, timeout: float = 10.0, max_bytes: int = 1024 * 1024,
                 failure_ttl: float = 30.0, per_host: int | None = None) -> None:
        self.fetcher = Fetcher(timeout, max_bytes, failure_ttl, per_host)

    def get(self, url: str, what: str, headers: Mapping[str, str] | None = None) -> JsonAnswer:
        return self._json(url, what, lambda: self.fetcher.get(url, accept=_JSON,
                                                              headers=headers))

    def post(self, url: str, what: str, data: Mapping[str, str],
             headers: Mapping[str, str] | None = None) -> JsonAnswer:
        return self._json(url, what, lambda: self.fetcher.post(url, data, accept=_JSON,
                                                               headers=headers))

    def document(self, url: str, what: str) -> Mapping[str, Json]:
        """A JSON document that must be there (HTTP 200): discovery, JWKS."""
        answer = self.get(url, what)
        if answer.status == 200:
            return answer.body
        said = (f"Your school's login server ({host_of(url)}) answered HTTP status "
                f"{answer.status} when Loper asked for its {what}.")
        if answer.status >= 500:
            raise SchoolUnavailable(said + " Please try again later.")
        raise UpstreamRejected(said)

    def _json(self, url: str, what: str, call: Callable[[], Answer]) -> JsonAnswer:
        try:
            answer = call()
        except OutboundError as exc:
            raise _school_error(exc, url, what) from exc
        try:
            body = _json_object(answer.body, url, what, answer.content_type)
        except UpstreamRejected:
            if answer.status == 200:
                raise
            body = {}  # an error page: the status says enough
        return JsonAnswer(answer.status, body, answer.content_type)


def _school_error(exc: OutboundError, url: str, what: str) -> Exception:
    host = host_of(url)
    _log.warning("school call failed", extra={"url": url, "what": what,
                                              "error": type(exc).__name__, "detail": str(exc)})
    if isinstance(exc, OutboundTimeout):
        return SchoolTimeout(f"Your school's login server ({host}) did not answer in time "
                             f"when Loper asked for its {what} ({exc}). Please try again "
                             "later.")
    if isinstance(exc, OutboundTlsError):
        return UpstreamRejected(f"Loper could not verify the TLS certificate of your "
                                f"school's login server ({host}).")
    if isinstance(exc, OutboundTooLarge):
        return UpstreamRejected(f"The {what} from your school's login server ({host}) is "
                                "larger than Loper accepts.")
    return SchoolUnavailable(f"Your school's login server ({host}) did not answer when "
                             f"Loper asked for its {what} ({exc}). Please try again later.")


def _json_object(raw: bytes, url: str, what: str, kind: str) -> JsonObject:
    """The body as a JSON object; {} for an empty body (e.g. a bare error status)."""
    if not raw.strip():
        return {}
    try:
        value = loads_object(raw)
    except (UnicodeDecodeError, ValueError):
        value = None
    if value is None:
        raise UpstreamRejected(f"The {what} from your school's login server ({host_of(url)}) "
                               f"is not a JSON object (content type {kind[:60] or 'none'!r}).")
    return value
