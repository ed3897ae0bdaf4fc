"""Fetching a metadata URL typed into the admin portal, safe against SSRF.

The host is resolved once; every address it resolves to must be public unless the operator
allows it, and the connection goes to the address that was checked (broker/outbound/
addresses.py: no second lookup that DNS rebinding could answer differently). The call itself
is the one outbound fetcher's: an overall deadline, no redirects followed, the body capped.
A source the form registers to keep the metadata fresh is refreshed under the same rule
(broker/registry/sources.py, `public_only`).
"""

from __future__ import annotations

from broker.messages import msg
from broker.outbound import addresses
from broker.outbound.errors import OutboundError
from broker.outbound.fetch import Fetcher
from broker.registry.checks import url_problem
from broker.registry.metadata import ACCEPT, MetadataError

MAX_BYTES = 1024 * 1024


def _refused(exc: OutboundError) -> MetadataError:
    """A refused address, with what the person at the form can do about it."""
    if isinstance(exc, addresses.AddressRefused) and exc.kind:
        return MetadataError(msg("problem.form_private_advice", problem=exc.reason))
    return MetadataError(exc.reason)


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to; MetadataError if any address of `host` is not allowed."""
    try:
        return addresses.resolve(host, port, allow_private, Fetcher().timeout)
    except OutboundError as exc:
        raise _refused(exc) from exc


def fetch(url: str, *, allow_private: bool = False, timeout: float | None = None) -> bytes:
    """GET `url` (https; http only on loopback, and only when private addresses are allowed),
    through the one outbound fetcher, connected to the address that was checked; the lookup
    and the fetch share the fetcher's one deadline."""
    wrong = url_problem(url)
    if wrong:
        raise MetadataError(wrong)
    fetcher = Fetcher(timeout, MAX_BYTES, failure_ttl=0)
    try:
        answer = fetcher.get(url, accept=ACCEPT, public_only=not allow_private)
    except addresses.AddressRefused as exc:
        raise _refused(exc) from exc
    except OutboundError as exc:
        raise MetadataError(msg("problem.cannot_fetch", url=url[:200], detail=exc.reason)) from exc
    if answer.status != 200:
        raise MetadataError(msg("problem.fetch_status", url=url[:200], status=answer.status))
    return answer.body
