"""Loper's OpenID Provider as authlib's AuthorizationServer: the grants (oidc_token), client
authentication (oidc_clients) and RFC 7009 revocation, on codes and tokens kept in the state
store (oidc_grants).

authlib's core never reads Flask here: a request is built from plain mappings and a response is
Loper's (status, JSON body, headers) triple, rendered by broker/web/oidc.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter

from broker.downstream import RecordDelivery
from broker.downstream.oidc_clients import (
    AUTH_METHODS,
    Client,
    PrivateKeyJwt,
    authenticate_basic,
    check_methods,
    client_finder,
)
from broker.downstream.oidc_common import NO_STORE, JsonReply
from broker.downstream.oidc_grants import CodeRecord, Grants, OpenCheck, Snapshot
from broker.downstream.oidc_keys import SigningKeys
from broker.downstream.oidc_token import (
    SUSPENDED,
    CodeGrant,
    IdToken,
    RefreshGrant,
    S256Challenge,
    narrowed,
)
from broker.records import Supplier
from broker.store import StateStore

log = logging.getLogger("loper.oidc")
_CHALLENGE = {"basic": 'Basic realm="loper"', "assertion": 'Bearer realm="loper"'}


class Request(OAuth2Request):  # type: ignore[misc]
    """A request as authlib reads it, from plain mappings (header names match in any case)."""

    def __init__(self, uri: str, form: Mapping[str, str], headers: Mapping[str, str],
                 method: str = "POST") -> None:
        super().__init__(method, uri, headers={k.title(): v for k, v in headers.items()})
        self.payload = BasicOAuth2Payload(dict(form))

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data  # type: ignore[no-any-return]


@dataclass
class Redirect:
    """An authorization response; authlib's IssuerParameter adds `iss` to its location."""

    location: str


class Issuer(IssuerParameter):  # type: ignore[misc]
    """RFC 9207: `iss` in every authorization response."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a refresh token takes its grant along; unknown tokens and other clients'
    tokens are answered 200 as well (authlib refuses the latter with invalid_grant)."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def authenticate_token(self, request: Request, client: Client) -> str:
        self.check_params(request, client)
        return request.form["token"]

    def revoke_token(self, token: str, request: Request) -> None:
        self.server.grants.revoke_token(token, request.client.client_id)


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, *, issuer: str, authorize_url: str, token_url: str, keys: SigningKeys,
                 grants: Grants, store: StateStore, find_client: Callable[[str], Supplier | None],
                 still_open: OpenCheck, record_delivery: RecordDelivery, id_token_ttl: int,
                 access_token_ttl: int) -> None:
        super().__init__()
        self.query_client = client_finder(find_client)
        self.grants = grants
        self.record_delivery = record_delivery
        self.token_url = token_url
        self._keys = keys
        self._still_open = still_open
        self._access_token_ttl = access_token_ttl
        self.register_client_auth_method("client_secret_basic", authenticate_basic)
        self.register_client_auth_method("private_key_jwt",
                                         PrivateKeyJwt((token_url, issuer), store))
        self.register_token_generator("default", self._generate)
        id_token = IdToken(issuer, keys, id_token_ttl)
        self.register_grant(CodeGrant, [S256Challenge(required=True), id_token])
        self.register_grant(RefreshGrant, [id_token])
        self.register_endpoint(Revocation)
        self.register_extension(Issuer(issuer))
        self._authorize_url = authorize_url

    def validate_authorization(self, params: Mapping[str, str]) -> str:
        """authlib's checks of an authorization request (response_type, client, redirect_uri,
        scope, PKCE); the scope it grants, or OAuth2Error."""
        request = Request(self._authorize_url, params, {}, "GET")
        self.get_authorization_grant(request).validate_authorization_request()
        return request.scope  # type: ignore[no-any-return]

    def issue_code(self, params: Mapping[str, str], record: CodeRecord) -> str:
        """The redirect with a fresh code for `record`, from the kept request's parameters (the
        flow, not the browser, brings them back after the login at the school)."""
        request = Request(self._authorize_url, params, {}, "GET")
        response = self.create_authorization_response(
            request, grant_user=record, grant=self.get_authorization_grant(request))
        if not isinstance(response, Redirect):
            raise RuntimeError("the kept authorization request no longer validates")
        return response.location

    def respond(self, endpoint: str, form: Mapping[str, str], headers: Mapping[str, str],
                repeated: Collection[str]) -> JsonReply:
        """The token or the revocation endpoint, after the checks authlib does not make there."""
        request = Request(self.token_url, form, headers)
        try:
            check_methods(form, headers, repeated)
            if endpoint == "token" and not form.get("grant_type"):
                raise InvalidRequestError("grant_type is missing.")
        except OAuth2Error as error:
            return self.handle_error_response(request, error)
        if endpoint == "token":
            return self.create_token_response(request)  # type: ignore[no-any-return]
        return self.create_endpoint_response(endpoint, request)  # type: ignore[no-any-return]

    # -- Loper's rules -------------------------------------------------------------------------
    def check_open(self, granted: Snapshot, client: Client) -> None:
        """No token for a release the school has closed since the login: the grant ends."""
        if client.oidc.id_token_alg not in self._keys.algorithms:
            raise OAuth2Error("The ID token algorithm of this client is not offered.",
                              status_code=500, error="server_error")
        if granted.still_open(self._still_open):
            return
        log.info("oidc grant refused: the release is closed",
                 extra={"supplier": granted.supplier_id, "school": granted.school_id})
        self.grants.revoke(granted)
        raise InvalidGrantError(SUSPENDED)

    def _generate(self, grant_type: str, client: Client, user: Snapshot,
                  scope: str | None = None, expires_in: int | None = None,
                  include_refresh_token: bool = True) -> dict[str, object]:
        """Tokens for the granted snapshot, narrowed to `scope`; a refresh token carries the
        whole grant."""
        served = narrowed(user, scope)
        token: dict[str, object] = {
            "access_token": self.grants.issue_access(served),
            "token_type": "Bearer", "expires_in": self._access_token_ttl,
            "scope": " ".join(served.scope)}
        if include_refresh_token and "offline_access" in user.scope:
            token["refresh_token"] = self.grants.issue_refresh(user)
        return token

    # -- authlib's framework hooks ---------------------------------------------------------------
    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def save_token(self, token: dict[str, object], request: Request) -> None:
        """Saved as they were generated (Grants.issue_*)."""

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        pass

    def handle_response(self, status: int, body: Any, headers: Any) -> JsonReply | Redirect:
        if status == 302:
            return Redirect(dict(headers)["Location"])
        return status, body, dict(NO_STORE)

    def handle_error_response(self, request: Request, error: OAuth2Error) -> JsonReply:
        """RFC 6749 5.2 with Loper's stricter rendering: always a description (a fixed text),
        and invalid_client is a 401 with a challenge for the scheme that was tried (authlib
        answers 400, or a Basic challenge carrying the error)."""
        if error.redirect_uri:
            return self.handle_response(*error())  # type: ignore[return-value]
        status, body, _ = error()
        body.setdefault("error_description", "The request was refused.")
        headers = dict(NO_STORE)
        if error.error == "invalid_client":
            status = 401
            tried = "assertion" if any(
                k in request.form for k in ("client_assertion", "client_assertion_type")
            ) and "Authorization" not in request.headers else "basic"
            headers["WWW-Authenticate"] = _CHALLENGE[tried]
        log.info("back-channel request refused", extra={"error": error.error})
        return status, body, headers
