"""Calls that may reach public addresses only: a URL someone other than the operator chose
(the registration form's metadata URL, a metadata source registered from it) must not make
Loper fetch from its own network (SSRF).

The host is resolved once, within the call's deadline; every address it resolves to must be
public (no loopback, private, link-local, shared, multicast or reserved address) unless
private addresses are allowed, and the caller connects to the address that was checked
(Fetcher's `connect_to`): no second lookup that DNS rebinding could answer differently.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

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
    try:
        host.encode("idna")  # what getaddrinfo would refuse, refused before its thread starts
        found = names.resolve(host, port, seconds)
    except names.ResolveTimeout as exc:
        raise OutboundTimeout(msg("outbound.timeout", host=shown, seconds=f"{seconds:g}"),
                              shown) from exc
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(msg("problem.host_unknown", host=shown), shown) from exc
    addresses = list(dict.fromkeys(address.split("%")[0] for address in found))
    if not addresses:
        raise AddressRefused(msg("problem.host_no_address", host=shown), shown)
    return addresses


def resolve(host: str, port: int, allow_private: bool, seconds: float) -> str:
    """The address to connect to, `host` resolved once within `seconds`; AddressRefused if
    any of its addresses is not allowed (OutboundTimeout if the resolver does not answer)."""
    addresses = _addresses(host, port, seconds)
    for address in addresses:
        kind = blocked(ipaddress.ip_address(address))
        if kind and not allow_private:
            raise AddressRefused(msg("problem.host_not_public", host=host[:200],
                                     kind=msg("problem.address_" + kind.replace("-", "_")),
                                     address=address), host[:200], kind)
    return addresses[0]


def address_for(url: str, allow_private: bool, seconds: float) -> str:
    """`resolve` for the host of `url` (a URL that passed policy.secure_url_problem)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return resolve(parts.hostname or "", port, allow_private, seconds)

