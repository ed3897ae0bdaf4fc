"""Fetching a metadata URL typed into the admin portal, safe against SSRF.

The host is resolved once; every address it resolves to must be public (no loopback,
private, link-local, shared, multicast or reserved address) unless the operator allows it,
and the connection goes to the address that was checked (no second lookup that DNS
rebinding could answer differently). The call itself is the one outbound fetcher's: an
overall deadline, no redirects followed, the body capped.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from broker.messages import msg
from broker.outbound.errors import OutboundError
from broker.outbound.fetch import Fetcher
from broker.registry.checks import url_problem
from broker.registry.metadata import ACCEPT, MetadataError

MAX_BYTES = 1024 * 1024
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def blocked(ip: IPAddress) -> str | None:
    """What kind of non-public address `ip` is; None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for found, kind in ((ip.is_unspecified, "unspecified"), (ip.is_loopback, "loopback"),
                        (ip.is_link_local, "link-local"),
                        (ip.is_private, "private"), (ip.is_multicast, "multicast"),
                        (ip.is_reserved, "reserved")):
        if found:
            return kind
    return None if ip.is_global else "non-public"


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to; MetadataError if any address of `host` is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise MetadataError(msg("problem.host_unknown", host=host[:200])) from exc
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise MetadataError(msg("problem.host_no_address", host=host[:200]))
    for address in addresses:
        kind = blocked(ipaddress.ip_address(address))
        if kind and not allow_private:
            raise MetadataError(msg("problem.host_not_public", host=host[:200],
                                    kind=msg("problem.address_" + kind.replace("-", "_")),
                                    address=address))
    return addresses[0]


def fetch(url: str, *, allow_private: bool = False, timeout: float | None = None) -> bytes:
    """GET `url` (https; http only on loopback, and only when private addresses are allowed),
    through the one outbound fetcher, connected to the address that was checked."""
    wrong = url_problem(url)
    if wrong:
        raise MetadataError(wrong)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(host, port, allow_private)
    try:
        answer = Fetcher(timeout, MAX_BYTES, failure_ttl=0).get(url, accept=ACCEPT,
                                                                connect_to=address)
    except OutboundError as exc:
        raise MetadataError(msg("problem.cannot_fetch", url=url[:200], detail=exc.reason)) from exc
    if answer.status != 200:
        raise MetadataError(msg("problem.fetch_status", url=url[:200], status=answer.status))
    return answer.body
