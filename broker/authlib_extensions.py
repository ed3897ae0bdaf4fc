"""authlib's OpenID Provider parts as Loper extends them (a door: authlib ships no types, so
its Any stays here and in broker/authlib_compat.py): the error Loper raises and authlib
renders, a request read from plain mappings, and the grants, PKCE, ID-token, revocation and
private_key_jwt extensions whose hooks OidcOp answers (`self.server.provider`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode

if TYPE_CHECKING:  # the OP's typed modules import this one
    from joserfc.jwk import KeySet

    from broker.downstream.oidc_clients import Assertions, AuthRequest, Client
    from broker.downstream.oidc_grants import CodeRecord, Snapshot
    from broker.downstream.oidc_keys import SigningKeys
    from broker.downstream.oidc_op import OidcOp

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
"""At the token and revocation endpoints; client_secret_post is authlib's own."""
GRANT_TYPES = ("authorization_code", "refresh_token")


class OAuthError(OAuth2Error):  # type: ignore[misc]
    """An OAuth 2.0 error (RFC 6749 4.1.2.1, 5.2): authlib renders it like its own, wherever it
    is raised; it goes back to a checked redirect_uri or as a JSON error body."""

    error: str

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description, status_code=status, error=error)


class OAuthRequest(OAuth2Request):  # type: ignore[misc]
    """A request as authlib reads it, from plain mappings (header names match in any case)."""

    def __init__(self, uri: str, form: Mapping[str, str], headers: Mapping[str, str],
                 method: str = "POST") -> None:
        super().__init__(method, uri, headers={k.title(): v for k, v in headers.items()})
        self.payload = BasicOAuth2Payload(dict(form))

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data  # type: ignore[no-any-return]


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    """A redeemed code records the release in the ledger, once."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def save_authorization_code(self, code: str, request: Any) -> None:
        self.server.provider.grants.store_code(code, request.user)  # the CodeRecord of this login

    def query_authorization_code(self, code: str, client: Client) -> CodeRecord | None:
        """Consumed here, atomically, before anything else; a second use revokes the grant."""
        record: CodeRecord | None = self.server.provider.grants.take_code(code, client.client_id)
        if record is None or record.snapshot.client_id != client.client_id:
            return None
        return record

    def authenticate_user(self, record: CodeRecord) -> Snapshot:
        self.server.provider.check_open(record.snapshot, self.request.client)
        return record.snapshot

    def delete_authorization_code(self, record: CodeRecord) -> None:
        """Consumed already; the tokens are issued, so the ledger records the delivery now
        (before they leave, or they do not leave)."""
        self.server.provider.record_delivery(record.delivery)


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation (RFC 9700 4.14.2)

    def authenticate_refresh_token(self, refresh_token: str) -> Snapshot | None:
        """Taken (rotated) only when the rest of the request is good too: authlib checks the
        scope after this, when a refused request would have used the token up."""
        request: OAuthRequest = self.request
        return self.server.provider.take_refresh(  # type: ignore[no-any-return]
            refresh_token, request.client, request.form.get("scope"))

    def authenticate_user(self, granted: Snapshot) -> Snapshot:
        self.server.provider.check_open(granted, self.request.client)
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
            raise OAuthError("invalid_request", "PKCE is required: send an S256 code_challenge.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: object) -> None:
        request = grant.request
        if request.authorization_code.code_challenge is None and (
                request.form.get("code_verifier") is not None):
            raise OAuthError("invalid_grant", "No code_challenge was sent for this code.")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge_method(self, record: CodeRecord) -> str:
        return "S256"


class IdToken(OpenIDCode):  # type: ignore[misc]
    """The ID token: the login's snapshot, signed with Loper's keys (joserfc, oidc_keys.py).
    OIDC Core 12.2: a refreshed one keeps iss, sub, aud, auth_time, acr and sid, and has no
    nonce."""

    def __init__(self, op: OidcOp, keys: SigningKeys) -> None:
        super().__init__(require_nonce=False)
        self._op = op
        self._keys = keys

    def exists_nonce(self, nonce: str, request: object) -> bool:
        return False  # a nonce is the RP's to check (OIDC Core 3.1.3.7)

    def get_client_algorithm(self, client: Client) -> str:
        return client.signing_alg(self._keys.algorithms)

    def get_encode_header(self, client: Client) -> dict[str, str]:
        alg = self.get_client_algorithm(client)
        return {"alg": alg, "kid": str(self._keys.key(alg).kid)}

    def resolve_client_private_key(self, client: Client) -> object:
        return self._keys.key(self.get_client_algorithm(client))

    def get_client_claims(self, client: Client) -> dict[str, object]:
        now = int(time.time())
        return {"iss": self._op.config.issuer, "aud": client.client_id, "iat": now,
                "exp": now + self._op.config.id_token_ttl}

    def get_authorization_code_claims(self, record: CodeRecord) -> dict[str, object]:
        claims: dict[str, object] = {}
        if record.snapshot.nonce is not None:
            claims["nonce"] = record.snapshot.nonce
        return claims  # the sid comes with the user's claims, in refreshed ID tokens too

    def generate_user_info(self, user: Snapshot, scope: str) -> dict[str, object]:
        return self._op.user_info(user, scope)


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a refresh token takes its grant along; unknown tokens and other clients'
    tokens are answered 200 as well (authlib refuses the latter with invalid_grant)."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def authenticate_token(self, request: OAuthRequest, client: Client) -> str:
        self.check_params(request, client)
        return request.form["token"]

    def revoke_token(self, token: str, request: OAuthRequest) -> None:
        self.server.provider.grants.revoke_token(token, request.client.client_id)


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    """private_key_jwt: authlib reads the assertion and checks its claims; Loper's `Assertions`
    choose the key and check size, header, lifetime and replay."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, assertions: Assertions) -> None:
        super().__init__(leeway=assertions.leeway)
        self._rules = assertions

    def __call__(self, query_client: Callable[[str], Client | None],
                 request: AuthRequest) -> Client | None:
        """A client_id in the form must name the client the assertion is for."""
        named = request.form.get("client_id")
        found: Client | None = super().__call__(
            lambda sub: query_client(sub) if named in (None, sub) else None, request)
        return found

    def get_audiences(self) -> list[str]:
        return list(self._rules.audiences)

    def extract_assertion(self, assertion: str) -> tuple[dict[str, object], dict[str, object]]:
        self._rules.check_size(assertion)
        head: dict[str, object]
        claims: dict[str, object]
        head, claims = super().extract_assertion(assertion)
        self._rules.check_header(head)
        return head, claims

    def resolve_client_public_key(self, client: Client) -> KeySet:
        return self._rules.keys(client)

    def process_assertion_claims(self, assertion: str, keys: KeySet) -> dict[str, object]:
        claims = self._rules.verify(assertion, keys)
        self.verify_claims(claims)
        return claims

    def validate_jti(self, claims: dict[str, object], jti: str) -> bool:
        return self._rules.once(claims, jti)
