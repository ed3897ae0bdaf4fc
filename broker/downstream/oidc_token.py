"""authlib's grants and endpoints, with Loper's rules in their hooks: authorization_code
(RFC 6749 4.1, RFC 7636) with the OpenID Connect ID token, refresh_token with rotation (RFC 6749
6: a refresh may narrow the scope of the new access and ID tokens, never the grant's), RFC 7009
revocation. A redeemed code records the release in the ledger, once; a refresh serves the
release already recorded. Either grant first asks whether the school still releases to the
supplier (OidcOp.check_open): if not, the grant is revoked as a whole (invalid_grant).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode

from broker import profiles
from broker.downstream.oidc_clients import AUTH_METHODS, Client
from broker.downstream.oidc_grants import CodeRecord, Snapshot
from broker.downstream.oidc_keys import SigningKeys

_CLAIM_SCOPE = profiles.claim_scopes()
GRANT_TYPES = ("authorization_code", "refresh_token")
SUSPENDED = ("The school has suspended access for this app, or its agreement with the school "
             "ended.")


def narrowed(snapshot: Snapshot, scope: str | None) -> Snapshot:
    """RFC 6749 6: a refresh may ask for less than was granted, never for more."""
    if scope is None:
        return snapshot
    wanted = set(scope.split())
    if "openid" not in wanted or not wanted <= set(snapshot.scope):
        raise InvalidScopeError("The scope exceeds what was granted.")
    granted = tuple(s for s in snapshot.scope if s in wanted)
    claims = {k: v for k, v in snapshot.claims.items()
              if _CLAIM_SCOPE.get(k) is None or _CLAIM_SCOPE[k] in granted}
    return replace(snapshot, scope=granted, claims=claims)


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def save_authorization_code(self, code: str, request: Any) -> None:
        self.server.grants.store_code(code, request.user)  # the CodeRecord of this login

    def query_authorization_code(self, code: str, client: Client) -> CodeRecord | None:
        """Consumed here, atomically, before anything else; a second use revokes the grant."""
        record: CodeRecord | None = self.server.grants.take_code(code, client.client_id)
        if record is None or record.snapshot.client_id != client.client_id:
            return None
        return record

    def authenticate_user(self, record: CodeRecord) -> Snapshot:
        self.server.check_open(record.snapshot, self.request.client)
        return record.snapshot

    def delete_authorization_code(self, record: CodeRecord) -> None:
        """Consumed already; the tokens are issued, so the ledger records the delivery now
        (before they leave, or they do not leave)."""
        self.server.record_delivery(record.delivery)


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation (RFC 9700 4.14.2)

    def authenticate_refresh_token(self, refresh_token: str) -> Snapshot | None:
        return self.server.grants.take_refresh(  # type: ignore[no-any-return]
            refresh_token, self.request.client.client_id)

    def authenticate_user(self, granted: Snapshot) -> Snapshot:
        self.server.check_open(granted, self.request.client)
        return granted

    def revoke_old_credential(self, refresh_token: Snapshot) -> None:
        """Taken (and so revoked) when it was authenticated."""


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only, required of every client (authlib: of public clients, and its
    default method is plain) unless its registration waives it; a verifier for a code without
    a challenge is invalid_grant (RFC 9700 4.8.2; authlib answers invalid_request)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        asked = data.get("code_challenge") or data.get("code_challenge_method")
        if asked is None and not grant.request.client.oidc.pkce_required:
            return
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required: send an S256 code_challenge.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: object) -> None:
        request = grant.request
        if request.authorization_code.code_challenge is None and (
                request.form.get("code_verifier") is not None):
            raise InvalidGrantError("No code_challenge was sent for this code.")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge_method(self, record: CodeRecord) -> str:
        return "S256"


class IdToken(OpenIDCode):  # type: ignore[misc]
    """The ID token: the login's snapshot, signed with Loper's keys (joserfc, oidc_keys.py).
    OIDC Core 12.2: a refreshed one keeps iss, sub, aud, auth_time and acr, and has no nonce."""

    def __init__(self, issuer: str, keys: SigningKeys, ttl: int) -> None:
        super().__init__(require_nonce=False)
        self._issuer = issuer
        self._keys = keys
        self._ttl = ttl

    def exists_nonce(self, nonce: str, request: object) -> bool:
        return False  # a nonce is the RP's to check (OIDC Core 3.1.3.7)

    def get_client_algorithm(self, client: Client) -> str:
        if client.oidc.id_token_alg not in self._keys.algorithms:
            raise OAuth2Error("The ID token algorithm of this client is not offered.",
                              status_code=500, error="server_error")
        return client.oidc.id_token_alg

    def get_encode_header(self, client: Client) -> dict[str, str]:
        alg = self.get_client_algorithm(client)
        return {"alg": alg, "kid": str(self._keys.key(alg).kid)}

    def resolve_client_private_key(self, client: Client) -> object:
        return self._keys.key(self.get_client_algorithm(client))

    def get_client_claims(self, client: Client) -> dict[str, object]:
        now = int(time.time())
        return {"iss": self._issuer, "aud": client.client_id, "iat": now, "exp": now + self._ttl}

    def get_authorization_code_claims(self, record: CodeRecord) -> dict[str, object]:
        claims: dict[str, object] = {}
        if record.snapshot.nonce is not None:
            claims["nonce"] = record.snapshot.nonce
        if record.snapshot.sid is not None:
            claims["sid"] = record.snapshot.sid  # OIDC Back-Channel Logout 1.0, 2.1
        return claims

    def generate_user_info(self, user: Snapshot, scope: str) -> dict[str, object]:
        served = narrowed(user, scope)
        info: dict[str, object] = {**served.claims, "sub": served.sub,
                                   "auth_time": served.auth_time}
        if served.acr is not None:
            info["acr"] = served.acr
        return info


class Request(OAuth2Request):  # type: ignore[misc]
    """A request as authlib reads it, from plain mappings (header names match in any case)."""

    def __init__(self, uri: str, form: Mapping[str, str], headers: Mapping[str, str],
                 method: str = "POST") -> None:
        super().__init__(method, uri, headers={k.title(): v for k, v in headers.items()})
        self.payload = BasicOAuth2Payload(dict(form))

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data  # type: ignore[no-any-return]


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a refresh token takes its grant along; unknown tokens and other clients'
    tokens are answered 200 as well (authlib refuses the latter with invalid_grant)."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def authenticate_token(self, request: Request, client: Client) -> str:
        self.check_params(request, client)
        return request.form["token"]

    def revoke_token(self, token: str, request: Request) -> None:
        self.server.grants.revoke_token(token, request.client.client_id)
