"""Who is asking: the client address as rate limits count it."""

from __future__ import annotations

import ipaddress

from flask import request


def client_address() -> str:
    """The client address as the app sees it (ProxyFix only for trusted proxies); an IPv6
    client is counted by its /64, which one household or school usually has whole."""
    raw = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
