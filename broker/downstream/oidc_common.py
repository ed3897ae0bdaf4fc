"""What the parts of Loper's OpenID Provider share: the (status, body, headers)
triple the core returns (the Flask adapter turns it into a response in one place), and the
hashes the protocol defines.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

JsonReply = tuple[int, dict[str, object], dict[str, str]]
"""(HTTP status, JSON body, headers): what the token, userinfo and revocation endpoints return."""

NO_STORE: Mapping[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BEARER = 'Bearer realm="loper"'

SCOPES = ("openid", "profile", "email", "offline_access")


def ok(body: dict[str, object]) -> JsonReply:
    return 200, body, dict(NO_STORE)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (works for plain dicts and werkzeug's Headers)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def digest(value: str) -> str:
    """The store key of a secret value (code, token): a dump of the store yields no bearer."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def half_hash(value: str) -> str:
    """OIDC Core 3.1.3.6 at_hash for RS256 and ES256: the left half of the SHA-256, base64url."""
    half = hashlib.sha256(value.encode("utf-8")).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode("ascii")
