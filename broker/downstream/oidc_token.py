"""The token endpoint's grants (the client is already authenticated here).

authorization_code (RFC 6749 4.1.3, RFC 7636 4.6): the code is consumed atomically before
anything else is checked or issued. A redemption that succeeds is the moment the supplier
receives the release, so it, and only it, records the release in the ledger: once, as a code
is consumed once. refresh_token (RFC 6749 6): rotated on every use; the refresh token keeps
the scope it was granted with, a narrower scope applies to the new access and ID tokens only.
A refresh adds no ledger row: it serves the release already recorded, never a new one.
Before issuing, either grant asks whether the school still releases to the supplier
(OpenCheck): when it has suspended the supplier, or their agreement lapsed, the grant is
revoked as a whole and answered invalid_grant.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import replace

from broker.attributes import VOCABULARY
from broker.downstream import RecordDelivery
from broker.downstream.oidc_common import (
    PKCE_VALUE,
    JsonReply,
    OAuthError,
    half_hash,
    ok,
    s256,
)
from broker.downstream.oidc_grants import CodeRecord, Grants, OpenCheck, Snapshot
from broker.downstream.oidc_keys import SigningKeys
from broker.downstream.oidc_kind import OidcSupplier

_CLAIM_SCOPE = {a.oidc_claim: a.oidc_scope for a in VOCABULARY}
GRANT_TYPES = ("authorization_code", "refresh_token")
SUSPENDED = ("The school has suspended access for this app, or its agreement with the school "
             "ended.")
log = logging.getLogger("loper.oidc")


def check_redirect(record: CodeRecord, given: str | None) -> None:
    """OIDC Core 3.1.3.1, RFC 6749 4.1.3: always present and identical to the authorization
    request's (which always names one, OIDC Core 3.1.2.1)."""
    if given is None:
        raise OAuthError("invalid_grant", "redirect_uri is missing.")
    if given != record.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request.")


def check_verifier(challenge: str | None, verifier: str | None) -> None:
    """RFC 7636 4.6; a verifier without a challenge is refused too (RFC 9700 4.8.2)."""
    if challenge is None:
        if verifier is not None:
            raise OAuthError("invalid_grant", "No code_challenge was sent for this code.")
        return
    if verifier is None:
        raise OAuthError("invalid_request", "code_verifier is missing.")
    if not PKCE_VALUE.fullmatch(verifier):
        raise OAuthError("invalid_request", "code_verifier is malformed.")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")


def narrowed(snapshot: Snapshot, scope: str | None) -> Snapshot:
    """RFC 6749 6: a refresh may ask for less than was granted, never for more."""
    if scope is None:
        return snapshot
    wanted = set(scope.split())
    if "openid" not in wanted or not wanted <= set(snapshot.scope):
        raise OAuthError("invalid_scope", "The scope exceeds what was granted.")
    granted = tuple(s for s in snapshot.scope if s in wanted)
    claims = {k: v for k, v in snapshot.claims.items()
              if _CLAIM_SCOPE.get(k) is None or _CLAIM_SCOPE[k] in granted}
    return replace(snapshot, scope=granted, claims=claims)


class TokenGrants:
    def __init__(self, issuer: str, keys: SigningKeys, grants: Grants, id_token_ttl: int,
                 access_token_ttl: int, still_open: OpenCheck,
                 record_delivery: RecordDelivery) -> None:
        self._issuer = issuer
        self._keys = keys
        self._grants = grants
        self._still_open = still_open
        self._record_delivery = record_delivery
        self._id_token_ttl = id_token_ttl
        self._access_token_ttl = access_token_ttl

    def grant(self, oidc: OidcSupplier, form: Mapping[str, str]) -> JsonReply:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is missing.")
        if grant_type == "authorization_code":
            return self._code(oidc, form)
        if grant_type == "refresh_token":
            return self._refresh(oidc, form)
        raise OAuthError("unsupported_grant_type", "Only authorization_code and refresh_token.")

    def _code(self, oidc: OidcSupplier, form: Mapping[str, str]) -> JsonReply:
        code = form.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is missing.")
        record = self._grants.take_code(code, oidc.client_id)  # consumed before anything else
        if record is None or record.snapshot.client_id != oidc.client_id:
            raise OAuthError("invalid_grant", "The code is invalid, expired or already used.")
        check_redirect(record, form.get("redirect_uri"))
        check_verifier(record.code_challenge, form.get("code_verifier"))
        self._check_open(record.snapshot)
        body = self._issue(oidc, record.snapshot, record.snapshot)
        self._record_delivery(record.delivery)  # before the tokens leave, or they do not leave
        return ok(body)

    def _refresh(self, oidc: OidcSupplier, form: Mapping[str, str]) -> JsonReply:
        if not oidc.offline_access:
            raise OAuthError("unauthorized_client", "This client may not use refresh tokens.")
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is missing.")
        snapshot = self._grants.take_refresh(token, oidc.client_id)
        if snapshot is None:
            raise OAuthError("invalid_grant", "The refresh token is invalid, expired or used.")
        self._check_open(snapshot)
        # OIDC Core 12.2: same iss, sub, aud and auth_time; no nonce
        return ok(self._issue(oidc, replace(narrowed(snapshot, form.get("scope")), nonce=None),
                              snapshot))

    def _check_open(self, granted: Snapshot) -> None:
        """No token for a release the school has closed since the login: the grant ends."""
        if granted.still_open(self._still_open):
            return
        log.info("oidc grant refused: the release is closed",
                 extra={"supplier": granted.supplier_id, "school": granted.school_id})
        self._grants.revoke(granted)
        raise OAuthError("invalid_grant", SUSPENDED)

    def _issue(self, oidc: OidcSupplier, snapshot: Snapshot,
               granted: Snapshot) -> dict[str, object]:
        """Tokens for `snapshot`; a refresh token carries `granted` (the original grant)."""
        access = self._grants.issue_access(snapshot)
        body: dict[str, object] = {
            "access_token": access, "token_type": "Bearer", "expires_in": self._access_token_ttl,
            "scope": " ".join(snapshot.scope), "id_token": self._id_token(oidc, snapshot, access),
        }
        if "offline_access" in granted.scope and oidc.offline_access:
            body["refresh_token"] = self._grants.issue_refresh(granted)
        return body

    def _id_token(self, oidc: OidcSupplier, snapshot: Snapshot, access_token: str) -> str:
        if oidc.id_token_alg not in self._keys.algorithms:
            raise OAuthError("server_error", "The ID token algorithm of this client is not "
                             "offered.", status=500)
        now = int(time.time())
        claims: dict[str, object] = {
            **snapshot.claims, "iss": self._issuer, "sub": snapshot.sub,
            "aud": snapshot.client_id, "exp": now + self._id_token_ttl, "iat": now,
            "auth_time": snapshot.auth_time, "at_hash": half_hash(access_token),
        }
        if snapshot.nonce is not None:
            claims["nonce"] = snapshot.nonce
        if snapshot.acr is not None:
            claims["acr"] = snapshot.acr
        return self._keys.sign(claims, oidc.id_token_alg)
