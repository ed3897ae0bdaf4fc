"""Calls that may reach public addresses only: a URL someone other than the operator chose
(the registration form's metadata URL, a metadata source registered from it) must not make
Loper fetch from its own network (SSRF).

The host is resolved once, within the call's deadline; every address it resolves to must be
public (no loopback, private, link-local, shared, multicast or reserved address) unless
private addresses are allowed, and the caller connects to the address that was checked: no
second lookup that DNS rebinding could answer differently. A call made with Fetcher's
`public_only` does all of it inside its one deadline (the lookup's time is the fetch's less);
a caller that resolves first and fetches later passes the address as `connect_to`.
"""

from __future__ import annotations

import ipaddress

from broker.messages import Message, msg
from broker.outbound import resolve as names
from broker.outbound.errors import OutboundError, OutboundTimeout

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(OutboundError):
    """The host cannot be found, has no address, or one that may not be called: not called."""

    def __init__(self, reason: Message, host: str, kind: str = "") -> None:
        super().__init__(reason, host)
        self.kind = kind
        """The kind of address refused ("loopback", "private"...; see `blocked`); "" when
        the host has no address at all."""


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


def _addresses(host: str, port: int, seconds: float) -> list[str]:
    shown = host[:200]
    try:  # a names.ResolveTimeout is not caught: the caller says what timed out
        host.encode("idna")  # what getaddrinfo would refuse, refused before its thread starts
        found = names.resolve(host, port, seconds)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(msg("problem.host_unknown", host=shown), shown) from exc
    addresses = list(dict.fromkeys(address.split("%")[0] for address in found))
    if not addresses:
        raise AddressRefused(msg("problem.host_no_address", host=shown), shown)
    return addresses


def checked(host: str, port: int, allow_private: bool, seconds: float) -> str:
    """The address to connect to, `host` resolved once within `seconds`; AddressRefused if
    any of its addresses is not allowed, names.ResolveTimeout if the resolver does not
    answer in time (inside Fetcher's call: a timeout of the call, as any other)."""
    addresses = _addresses(host, port, seconds)
    for address in addresses:
        kind = blocked(ipaddress.ip_address(address))
        if kind and not allow_private:
            raise AddressRefused(msg("problem.host_not_public", host=host[:200],
                                     kind=msg("problem.address_" + kind.replace("-", "_")),
                                     address=address), host[:200], kind)
    return addresses[0]


def resolve(host: str, port: int, allow_private: bool, seconds: float) -> str:
    """`checked`, for a caller that fetches later by itself: OutboundTimeout if the resolver
    does not answer within `seconds`."""
    try:
        return checked(host, port, allow_private, seconds)
    except names.ResolveTimeout as exc:
        shown = host[:200]
        raise OutboundTimeout(msg("outbound.timeout", host=shown, seconds=f"{seconds:g}"),
                              shown) from exc

