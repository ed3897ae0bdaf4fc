"""authlib's AuthorizationServer, typed: the OpenID Provider's door (authlib ships no types).

authlib owns the protocol; Loper supplies its rules through authlib's hooks. `Server` is
authlib's AuthorizationServer with the grants and extensions of broker/authlib_extensions.py
(authorization_code with PKCE S256 and the OpenID Connect ID token, refresh_token with
rotation, RFC 7009 revocation, private_key_jwt), its hooks answered by OidcOp, its answers
handed back typed. The relying party's side is broker/authlib_client.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Error

from broker.authlib_extensions import (
    GRANT_TYPES,
    CodeGrant,
    IdToken,
    OAuthError,
    OAuthRequest,
    PrivateKeyJwt,
    RefreshGrant,
    Revocation,
    S256Challenge,
)
from broker.downstream.oidc_common import BEARER, NO_STORE, JsonReply, either, refused
from broker.outgoing import Outgoing

if TYPE_CHECKING:  # the OP's typed modules import this one
    from broker.downstream.oidc_clients import Assertions, Client
    from broker.downstream.oidc_grants import CodeRecord
    from broker.downstream.oidc_keys import SigningKeys
    from broker.downstream.oidc_op import OidcOp

DESCRIPTIONS = {
    "invalid_request": "The request is missing a parameter or is malformed.",
    "invalid_grant": "The code or refresh token is invalid, expired or revoked, or was issued "
                     "to another client.",
    "unsupported_grant_type": f"The grant_type is not supported: use {either(GRANT_TYPES)}.",
}
"""What an error says when authlib raised it without a description."""


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
        self.register_client_auth_method("private_key_jwt", PrivateKeyJwt(assertions))
        self.register_token_generator("default", op.tokens)
        id_token = IdToken(op, keys)
        self.register_grant(CodeGrant, [S256Challenge(required=True), id_token])
        self.register_grant(RefreshGrant, [id_token])
        self.register_endpoint(Revocation)

    # -- typed doors -----------------------------------------------------------------------------
    def validate(self, params: Mapping[str, str]) -> str:
        """authlib's checks of an authorization request (response_type, client, redirect_uri,
        scope, PKCE); the scope it grants, or OAuthError."""
        request = OAuthRequest(self._urls["authorization"], params, {}, "GET")
        try:
            self.get_authorization_grant(request).validate_authorization_request()
        except OAuth2Error as error:
            raise OAuthError(error.error, error.description, error.status_code) from error
        scope: str = request.scope
        return scope

    def issue_code(self, params: Mapping[str, str], record: CodeRecord) -> Outgoing | None:
        """The answer to the kept authorization request: a redirect with a fresh code for
        `record` (or with the error authlib finds now); None if it is not a redirect."""
        request = OAuthRequest(self._urls["authorization"], params, {}, "GET")
        response = self.create_authorization_response(
            request, grant_user=record, grant=self.get_authorization_grant(request))
        return response if isinstance(response, Outgoing) else None

    def refused(self, redirect_uri: str, state: str | None, error: OAuthError, *,
                iss: bool) -> Outgoing:
        """The error as an authorization response, to a checked redirect_uri; `iss`: with the
        issuer (the client's `iss_in_errors`)."""
        error.redirect_uri, error.state = redirect_uri, state
        return self._redirect(error()[2], iss=iss)

    def back_channel(self, endpoint: str, form: Mapping[str, str], headers: Mapping[str, str],
                     check: Callable[[], None]) -> JsonReply:
        """The token endpoint ("token") or RFC 7009's ("revocation"), after Loper's `check`
        of the request, which raises OAuthError."""
        request = OAuthRequest(self._urls["token"], form, headers)
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
    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        return request

    def save_token(self, token: dict[str, object], request: OAuthRequest) -> None:
        """Saved as they were generated (Grants.issue_*)."""

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        pass

    def authenticate_client(self, request: OAuthRequest, methods: list[str],
                            endpoint: str = "token") -> Client:
        """authlib's refusal once every method failed names the methods as a Python list;
        Loper's names them in a sentence. A method's own refusal (of an assertion) stays."""
        try:
            client: Client = super().authenticate_client(request, methods, endpoint)
        except OAuth2Error as error:
            if error.description != f"The client cannot authenticate with methods: {methods}":
                raise
            raise OAuthError("invalid_client", "The client cannot authenticate with "
                             f"{either(methods)}.", 401) from error
        return client

    def _redirect(self, headers: list[tuple[str, str]], *, iss: bool = True) -> Outgoing:
        """Every authorization response, also an error, names the issuer (RFC 9207), but an
        error to a client registered without `iss_in_errors`."""
        location: str = dict(headers)["Location"]
        return Outgoing(add_params_to_uri(location, {"iss": self._issuer}) if iss else location)

    def handle_response(self, status: int, body: Any,
                        headers: list[tuple[str, str]]) -> JsonReply | Outgoing:
        if status == 302:
            return self._redirect(headers)
        return status, body, dict(NO_STORE)

    def handle_error_response(self, request: OAuthRequest, error: Any) -> JsonReply | Outgoing:
        if error.redirect_uri:
            client: Client | None = request.client
            return self._redirect(error()[2], iss=client is None or client.oidc.iss_in_errors)
        return self._error_reply(request, error)

    def _error_reply(self, request: OAuthRequest, error: Any) -> JsonReply:
        """RFC 6749 5.2 with Loper's stricter rendering: always a description (a sentence), an
        error id that the log line carries too, and 401 for invalid_client alone, with a
        challenge for the scheme that was tried (authlib answers invalid_client 400, or with a
        Basic challenge carrying the error, and unsupported_token_type 401)."""
        status, body, _ = error()
        description = str(body.get("error_description") or DESCRIPTIONS.get(
            error.error, "The request was refused."))
        if not description.endswith((".", "?", "!")):
            description += "."
        headers: dict[str, str] = {}
        if error.error == "invalid_client":
            status = 401
            asserted = "Authorization" not in request.headers and any(
                k in request.form for k in ("client_assertion", "client_assertion_type"))
            headers["WWW-Authenticate"] = BEARER if asserted else 'Basic realm="loper"'
        elif status == 401:
            status = 400
        client: Client | None = request.client  # once authenticated
        logged = {"supplier": client.supplier.id} if client is not None else {}
        return refused("back-channel request refused", status, error.error, description,
                       headers, **logged)
