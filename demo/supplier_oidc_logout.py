"""What the demo OIDC supplier does at logout, as a supplier would integrate it.

Back-Channel Logout 1.0: Loper POSTs a logout token; it is verified with joserfc against
Loper's JWKS (2.6: signature, iss, aud, iat, typ, the backchannel-logout event, a sid, no
nonce, a jti seen once), and the sid's session here is ended. RP-Initiated Logout 1.0: the
app's own logout sends the browser to Loper's end_session_endpoint with its ID token as
id_token_hint, and comes back at /bye with its state.
"""

from __future__ import annotations

import threading
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from demo.supplier_oidc_check import ALGORITHMS, LEEWAY, LoginFailed, require

EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_REMEMBERED = 10_000


def verify_logout_token(raw: str, keys: KeySet, issuer: str, client_id: str) -> dict[str, Any]:
    try:
        token = jwt.decode(raw, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise LoginFailed(f"the logout token does not verify ({type(exc).__name__})") from exc
    require(token.header.get("typ") == "logout+jwt", "the logout token's typ is not logout+jwt")
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY, iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id}, iat={"essential": True},
        jti={"essential": True})
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise LoginFailed(f"the logout token's claims are not acceptable ({exc})") from exc
    events = claims.get("events")
    require(isinstance(events, dict) and events.get(EVENT) == {}, "no backchannel-logout event")
    require("nonce" not in claims, "a logout token must not carry a nonce")
    require(isinstance(claims.get("sid"), str), "no sid: this supplier needs the session")
    return claims


class EndedSessions:
    """The sids Loper ended over the back channel (a login with one of them is over), and
    the logout tokens' jtis already taken."""

    def __init__(self) -> None:
        self._sids: dict[str, None] = {}
        self._jtis: dict[str, None] = {}
        self._lock = threading.Lock()

    def end(self, claims: dict[str, Any]) -> None:
        with self._lock:
            require(claims["jti"] not in self._jtis, "this logout token was used already")
            for seen in (self._jtis, self._sids):
                while len(seen) >= MAX_REMEMBERED:
                    seen.pop(next(iter(seen)))
            self._jtis[claims["jti"]] = None
            self._sids[claims["sid"]] = None

    def ended(self, sid: object) -> bool:
        with self._lock:
            return isinstance(sid, str) and sid in self._sids
