"""authlib, typed: the one module that calls authlib, which ships no types (Any to mypy).

authlib owns the protocol; Loper supplies its rules through authlib's hooks. Here authlib's
classes are subclassed to send those hooks to typed code, and its answers are handed back
typed, so that no other module sees an untyped value:

1. The OpenID Provider (broker/downstream/oidc_op.py): `Server` is authlib's
   AuthorizationServer with its grants (authorization_code with PKCE S256 and the OpenID
   Connect ID token, refresh_token with rotation), RFC 7009 revocation and private_key_jwt
   client authentication, its hooks answered by OidcOp; `OAuthError` is the error Loper raises
   and authlib renders.
2. The relying party at a school (broker/upstream/oidc*.py): the request helpers, client
   authentication, the PKCE challenge, and the ID token's claims checks (CodeIDToken).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from authlib.common.urls import add_params_to_uri, url_decode
from authlib.oauth2 import ClientAuth
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from authlib.oidc.core.grants import OpenIDCode

from broker.downstream.oidc_common import BEARER, NO_STORE, JsonReply
from broker.outgoing import Outgoing

if TYPE_CHECKING:  # the OP's typed modules import this one
    from joserfc.jwk import KeySet

    from broker.downstream.oidc_clients import Assertions, AuthRequest, Client
    from broker.downstream.oidc_grants import CodeRecord, Snapshot
    from broker.downstream.oidc_keys import SigningKeys
    from broker.downstream.oidc_op import OidcOp

# -- 1. The OpenID Provider ----------------------------------------------------------------------

log = logging.getLogger("loper.oidc")

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
"""At the token and revocation endpoints; client_secret_post is authlib's own."""
GRANT_TYPES = ("authorization_code", "refresh_token")


class OAuthError(OAuth2Error):  # type: ignore[misc]
    """An OAuth 2.0 error (RFC 6749 4.1.2.1, 5.2): authlib renders it like its own, wherever it
    is raised; it goes back to a checked redirect_uri or as a JSON error body."""

    error: str

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description, status_code=status, error=error)


class _Request(OAuth2Request):  # type: ignore[misc]
    """A request as authlib reads it, from plain mappings (header names match in any case)."""

    def __init__(self, uri: str, form: Mapping[str, str], headers: Mapping[str, str],
                 method: str = "POST") -> None:
        super().__init__(method, uri, headers={k.title(): v for k, v in headers.items()})
        self.payload = BasicOAuth2Payload(dict(form))

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data  # type: ignore[no-any-return]


class Server(AuthorizationServer):  # type: ignore[misc]
    """authlib's AuthorizationServer, its hooks answered by `op`. It never touches Flask: it
    answers an Outgoing (a redirect, with RFC 9207 `iss`) or (status, body, headers)."""

    def __init__(self, op: OidcOp, urls: Mapping[str, str], keys: SigningKeys,
                 assertions: Assertions) -> None:
        super().__init__()
        self.provider = op
        self._issuer = op.config.issuer
        self._urls = urls
        self.query_client = op.find_client
        self.register_client_auth_method(
            "client_secret_basic", lambda _query, request: op.authenticate_basic(request))
        self.register_client_auth_method("private_key_jwt", _PrivateKeyJwt(assertions))
        self.register_token_generator("default", op.tokens)
        id_token = _IdToken(op, keys)
        self.register_grant(_CodeGrant, [_S256Challenge(required=True), id_token])
        self.register_grant(_RefreshGrant, [id_token])
        self.register_endpoint(_Revocation)

    # -- typed doors -----------------------------------------------------------------------------
    def validate(self, params: Mapping[str, str]) -> str:
        """authlib's checks of an authorization request (response_type, client, redirect_uri,
        scope, PKCE); the scope it grants, or OAuthError."""
        request = _Request(self._urls["authorization"], params, {}, "GET")
        try:
            self.get_authorization_grant(request).validate_authorization_request()
        except OAuth2Error as error:
            raise OAuthError(error.error, error.description, error.status_code) from error
        scope: str = request.scope
        return scope

    def issue_code(self, params: Mapping[str, str], record: CodeRecord) -> Outgoing | None:
        """The answer to the kept authorization request: a redirect with a fresh code for
        `record` (or with the error authlib finds now); None if it is not a redirect."""
        request = _Request(self._urls["authorization"], params, {}, "GET")
        response = self.create_authorization_response(
            request, grant_user=record, grant=self.get_authorization_grant(request))
        return response if isinstance(response, Outgoing) else None

    def refused(self, redirect_uri: str, state: str | None, error: OAuthError) -> Outgoing:
        """The error as an authorization response, to a checked redirect_uri."""
        error.redirect_uri, error.state = redirect_uri, state
        return self._redirect(error()[2])

    def back_channel(self, endpoint: str, form: Mapping[str, str], headers: Mapping[str, str],
                     check: Callable[[], None]) -> JsonReply:
        """The token endpoint ("token") or RFC 7009's ("revocation"), after Loper's `check`
        of the request, which raises OAuthError."""
        request = _Request(self._urls["token"], form, headers)
        try:
            check()
        except OAuthError as error:
            return self._error_reply(request, error)
        if endpoint == "token":
            reply: JsonReply = self.create_token_response(request)
        else:
            reply = self.create_endpoint_response(endpoint, request)
        return reply

    # -- authlib's framework hooks ---------------------------------------------------------------
    def create_oauth2_request(self, request: _Request) -> _Request:
        return request

    def save_token(self, token: dict[str, object], request: _Request) -> None:
        """Saved as they were generated (Grants.issue_*)."""

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        pass

    def _redirect(self, headers: list[tuple[str, str]]) -> Outgoing:
        """Every authorization response, also an error, names the issuer (RFC 9207)."""
        location: str = add_params_to_uri(dict(headers)["Location"], {"iss": self._issuer})
        return Outgoing(location)

    def handle_response(self, status: int, body: Any,
                        headers: list[tuple[str, str]]) -> JsonReply | Outgoing:
        if status == 302:
            return self._redirect(headers)
        return status, body, dict(NO_STORE)

    def handle_error_response(self, request: _Request, error: Any) -> JsonReply | Outgoing:
        if error.redirect_uri:
            return self._redirect(error()[2])
        return self._error_reply(request, error)

    def _error_reply(self, request: _Request, error: Any) -> JsonReply:
        """RFC 6749 5.2 with Loper's stricter rendering: always a description (a fixed text),
        and invalid_client is a 401 with a challenge for the scheme that was tried (authlib
        answers 400, or a Basic challenge carrying the error)."""
        status, body, _ = error()
        body.setdefault("error_description", "The request was refused.")
        headers = dict(NO_STORE)
        if error.error == "invalid_client":
            status = 401
            asserted = "Authorization" not in request.headers and any(
                k in request.form for k in ("client_assertion", "client_assertion_type"))
            headers["WWW-Authenticate"] = BEARER if asserted else 'Basic realm="loper"'
        log.info("back-channel request refused", extra={"error": error.error})
        return status, body, headers


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
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


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation (RFC 9700 4.14.2)

    def authenticate_refresh_token(self, refresh_token: str) -> Snapshot | None:
        return self.server.provider.grants.take_refresh(  # type: ignore[no-any-return]
            refresh_token, self.request.client.client_id)

    def authenticate_user(self, granted: Snapshot) -> Snapshot:
        self.server.provider.check_open(granted, self.request.client)
        return granted

    def revoke_old_credential(self, refresh_token: Snapshot) -> None:
        """Taken (and so revoked) when it was authenticated."""


class _S256Challenge(CodeChallenge):  # type: ignore[misc]
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


class _IdToken(OpenIDCode):  # type: ignore[misc]
    """The ID token: the login's snapshot, signed with Loper's keys (joserfc, oidc_keys.py).
    OIDC Core 12.2: a refreshed one keeps iss, sub, aud, auth_time and acr, and has no nonce."""

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
        if record.snapshot.sid is not None:
            claims["sid"] = record.snapshot.sid  # OIDC Back-Channel Logout 1.0, 2.1
        return claims

    def generate_user_info(self, user: Snapshot, scope: str) -> dict[str, object]:
        return self._op.user_info(user, scope)


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a refresh token takes its grant along; unknown tokens and other clients'
    tokens are answered 200 as well (authlib refuses the latter with invalid_grant)."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def authenticate_token(self, request: _Request, client: Client) -> str:
        self.check_params(request, client)
        return request.form["token"]

    def revoke_token(self, token: str, request: _Request) -> None:
        self.server.provider.grants.revoke_token(token, request.client.client_id)


class _PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
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


# -- 2. The relying party at a school ------------------------------------------------------------

class Credentials(Protocol):
    """authlib's ClientAuth: adds the client's credentials to the token request."""

    def prepare(self, method: str, uri: str, headers: dict[str, str],
                body: str) -> tuple[str, dict[str, str], str]: ...


def authorization_url(endpoint: str, client_id: str, scope: Sequence[str],
                      **params: str | None) -> str:
    """RFC 6749 4.1.1 (response_type code); parameters that are None are left out."""
    return str(prepare_grant_uri(endpoint, client_id, "code", scope=scope, **params))


def token_request(code: str, verifier: str, redirect_uri: str) -> str:
    """RFC 6749 4.1.3 with RFC 7636 4.5: the form body that redeems the code."""
    return str(prepare_token_request("authorization_code", code=code, code_verifier=verifier,
                                     redirect_uri=redirect_uri))


def add_params(uri: str, params: Mapping[str, str]) -> str:
    return str(add_params_to_uri(uri, params))


def form_pairs(body: str) -> dict[str, str]:
    return dict(url_decode(body))


def credentials(client_id: str, secret: str, method: str) -> Credentials:
    return cast(Credentials, ClientAuth(client_id, secret, method))


def s256_challenge(verifier: str) -> str:
    """RFC 7636 4.2."""
    return str(create_s256_code_challenge(verifier))


ESSENTIAL_CLAIMS: Collection[str] = tuple(CodeIDToken.ESSENTIAL_CLAIMS)


def check_code_id_token(claims: dict[str, object], header: dict[str, object], *,
                        issuer: str, client_id: str, nonce: str, access_token: str | None,
                        now: int, leeway: int) -> None:
    """authlib's checks for an ID token of the code flow (OIDC Core 3.1.3.7: iss, aud, azp,
    exp, iat, nbf, nonce, at_hash); joserfc's ClaimError names the claim that failed."""
    id_token = CodeIDToken(
        claims, header,
        options={"iss": {"essential": True, "value": issuer},
                 "aud": {"essential": True, "value": client_id}},
        params={"nonce": nonce, "client_id": client_id, "access_token": access_token})
    id_token.validate(now=now, leeway=leeway)
