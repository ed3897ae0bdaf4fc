"""Logout at the OpenID Provider: RP-Initiated Logout 1.0 (the end_session_endpoint),
Back-Channel Logout 1.0 (logout tokens) and Front-Channel Logout 1.0 (iframes).

A logout token is a JWT signed like the client's ID tokens, typ logout+jwt, with iss, aud,
iat, exp, jti, events, sub and the sid that client was given, and never a nonce (2.4). It is
POSTed through the outbound fetcher with its own deadline; only 200 and 204 count (2.8).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from broker import codec
from broker.downstream import LogoutSent
from broker.downstream.oidc_authorize import safe_state
from broker.downstream.oidc_clients import Client
from broker.downstream.oidc_keys import SigningKeys
from broker.downstream.oidc_kind import OidcSupplier, oidc_of
from broker.errors import LogoutRejected, LogoutUnreachable
from broker.outbound.errors import OutboundError
from broker.outbound.fetch import Fetcher
from broker.outgoing import Outgoing
from broker.records import Supplier

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120
MAX_HINT = 8192


def logout_token(keys: SigningKeys, issuer: str, oidc: OidcSupplier, subject: str,
                 sid: str) -> str:
    alg = oidc.id_token_alg if oidc.id_token_alg in keys.algorithms else keys.algorithms[0]
    key = keys.key(alg)
    now = int(time.time())
    claims = {"iss": issuer, "aud": oidc.client_id, "iat": now, "exp": now + LOGOUT_TOKEN_TTL,
              "jti": secrets.token_urlsafe(18), "sub": subject, "sid": sid,
              "events": {BACKCHANNEL_EVENT: {}}}
    header = {"alg": alg, "kid": str(key.kid), "typ": "logout+jwt"}
    return jwt.encode(header, claims, key, algorithms=[alg])


def send_back_channel(fetcher: Fetcher, supplier: Supplier, uri: str, token: str) -> None:
    """Back-Channel Logout 2.5 and 2.8: 200 or 204, anything else is a failure."""
    try:
        answer = fetcher.post(uri, {"logout_token": token}, accept="*/*",
                              headers={"Cache-Control": "no-cache"})
    except OutboundError as exc:
        raise LogoutUnreachable(f"{supplier.name} did not take the logout ({exc}).") from exc
    if answer.status not in (200, 204):
        raise LogoutUnreachable(f"{supplier.name} refused the logout (HTTP {answer.status}).")


def _with_query(uri: str, params: Mapping[str, str]) -> str:
    """`params` added to the registered URI's query."""
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


def ask(keys: SigningKeys, issuer: str, fetcher: Fetcher, supplier: Supplier, subject: str,
        sid: str) -> LogoutSent | None:
    """The back channel when registered (it is confirmed), else the front channel."""
    oidc = oidc_of(supplier)
    if oidc is None:
        return None
    if oidc.backchannel_logout_uri:
        send_back_channel(fetcher, supplier, oidc.backchannel_logout_uri,
                          logout_token(keys, issuer, oidc, subject, sid))
        return LogoutSent()
    if oidc.frontchannel_logout_uri:
        return LogoutSent(frame=_with_query(oidc.frontchannel_logout_uri,  # Front-Channel 2
                                            {"iss": issuer, "sid": sid}))
    return None


# -- RP-Initiated Logout ----------------------------------------------------------------------

@dataclass(frozen=True)
class EndSession:
    """An RP's logout request, checked: who asks, for which session, where to go after."""

    client_id: str | None = None
    sid: str | None = None
    """The sid of the id_token_hint: the session the RP means."""
    redirect_uri: str | None = None
    """post_logout_redirect_uri, only when registered exactly for the identified client."""
    state: str | None = None
    hinted: bool = False
    """The client was named by an id_token_hint Loper signed for it (not by client_id alone)."""

    def encode(self) -> bytes:
        return codec.encode(self)

    @property
    def answered_after_confirming(self) -> bool:
        """When the pupil must confirm first (the hint names no session of this browser), does
        the logout still end at the RP's post_logout_redirect_uri, with state? Only for a
        hint that is an ID token of this client and a URI registered for it (RP-Initiated
        Logout 1.0, 3)."""
        return self.hinted and self.redirect_uri is not None


def _hint(token: str, keys: SigningKeys, issuer: str) -> Mapping[str, object]:
    """The claims of an ID token Loper issued (RP-Initiated Logout 2: an expired one is fine)."""
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(keys.jwks()),  # type: ignore[arg-type]
                             algorithms=list(keys.algorithms))
    except (JoseError, ValueError, TypeError) as exc:
        raise LogoutRejected("The id_token_hint is not an ID token signed by Loper.") from exc
    claims = decoded.claims
    if claims.get("iss") != issuer or not isinstance(claims.get("aud"), str):
        raise LogoutRejected("The id_token_hint was not issued by Loper to one client.")
    return claims


def parse_end_session(params: Mapping[str, str], keys: SigningKeys, issuer: str,
                      find_client: Callable[[str], Client | None]) -> tuple[
                          Supplier | None, EndSession]:
    """The supplier that asks (from id_token_hint or client_id, which must agree) and its
    request. An unregistered post_logout_redirect_uri is dropped: Loper's own page follows."""
    hint = params.get("id_token_hint", "")
    if len(hint) > MAX_HINT:
        raise LogoutRejected("The id_token_hint is too large.")
    claims = _hint(hint, keys, issuer) if hint else {}
    client_id = str(claims["aud"]) if claims else params.get("client_id") or None
    if claims and params.get("client_id") not in (None, client_id):
        raise LogoutRejected("The client_id does not match the id_token_hint.")
    client = find_client(client_id) if client_id else None
    wanted = params.get("post_logout_redirect_uri")
    redirect = wanted if client and wanted in client.oidc.post_logout_redirect_uris else None
    sid = claims.get("sid") if claims else None
    return (client.supplier if client else None), EndSession(
        client.client_id if client else None, sid if isinstance(sid, str) else None, redirect,
        safe_state(params), hinted=bool(claims) and client is not None)


def answer(supplier: Supplier, request: bytes) -> Outgoing | None:
    """Back to the registered post_logout_redirect_uri (checked again), with state."""
    kept = codec.decode(request, EndSession)
    oidc = oidc_of(supplier)
    if kept is None or kept.redirect_uri is None or oidc is None or (
            kept.redirect_uri not in oidc.post_logout_redirect_uris):
        return None
    if kept.state is None:
        return Outgoing(kept.redirect_uri)
    return Outgoing(_with_query(kept.redirect_uri, {"state": kept.state}))
