"""What every outbound URL must be, and which CA bundle verifies it.

requests and urllib3 do not read SSL_CERT_FILE; REQUESTS_CA_BUNDLE, then SSL_CERT_FILE, then
certifi's bundle are honoured, in that order (DESIGN: the standard CA variables). Plain http
is accepted only on a loopback host: all of 127.0.0.0/8, ::1 and the name localhost.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def ca_bundle() -> str | bool:
    """The CA bundle to verify https with: REQUESTS_CA_BUNDLE, SSL_CERT_FILE or certifi's."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True


def is_loopback(host: str | None) -> bool:
    """localhost, an address in 127.0.0.0/8, or ::1 (brackets allowed)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secure_url_problem(url: object) -> str | None:
    """None for an absolute https URL (or http on a loopback host), else what is wrong."""
    if not isinstance(url, str):
        return f"{url!r} is not a URL"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f'"{url}" is not a valid URL'
    secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))
    if not host or not secure:
        return (f'"{url}" is not an absolute https URL; expected https://..., or http:// '
                "only on a loopback host (127.0.0.0/8, localhost, [::1])")
    return None


def is_secure_url(url: object) -> bool:
    """An absolute https URL, or http on a loopback host (tests, the demo)."""
    return secure_url_problem(url) is None
