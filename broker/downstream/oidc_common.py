"""What the parts of Loper's OpenID Provider share: the (status, body, headers)
triple the core returns (the Flask adapter turns it into a response in one place), its error
answers, and the hashes the protocol defines.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Iterable, Mapping

JsonReply = tuple[int, dict[str, object], dict[str, str]]
"""(HTTP status, JSON body, headers): what the token, userinfo and revocation endpoints return."""

NO_STORE: Mapping[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BEARER = 'Bearer realm="loper"'

SCOPES = ("openid", "profile", "email", "offline_access")

log = logging.getLogger("loper.oidc")


def ok(body: dict[str, object]) -> JsonReply:
    return 200, body, dict(NO_STORE)


def refused(event: str, status: int, error: str, description: str,
            headers: Mapping[str, str] | None = None, **logged: str) -> JsonReply:
    """A JSON OAuth error (RFC 6749 5.2, RFC 6750 3) with an error id, which the log line of
    `event` carries next to the error and its reason, as on Loper's error pages
    (broker/web/errors.py), so a supplier's helpdesk can quote it. `description` is a fixed
    text, never a value the request sent."""
    error_id = secrets.token_hex(6)
    level = logging.ERROR if status >= 500 else logging.INFO
    log.log(level, event, extra={"error_id": error_id, "error": error, "status": status,
                                 "detail": description, **logged})
    body: dict[str, object] = {"error": error, "error_description": description,
                               "error_id": error_id}
    return status, body, {**NO_STORE, **(headers or {})}


def either(names: Iterable[str]) -> str:
    """Names as a sentence says them: "a, b or c"."""
    *rest, last = names
    return f"{', '.join(rest)} or {last}" if rest else last


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
