"""Loper as an OpenID Provider towards the suppliers' relying parties: the code flow with PKCE,
pairwise subjects and exactly the claims the school released.

OidcOp is authlib's AuthorizationServer, with Loper's rules in its hooks (docs/architecture.md
names the ones authlib cannot express). It never touches Flask: the authorization endpoint
returns a DownstreamRequest (for the login journey) or an Outgoing (a redirect to a checked
redirect_uri); the token, userinfo and revocation endpoints return (status, JSON body, headers)
for broker/web/oidc.py. Split by noun: oidc_authorize (the request), oidc_token (authlib's
grants and endpoints), oidc_clients (client authentication), oidc_grants (snapshots, codes and
tokens on the store), oidc_keys (signing keys), oidc_config (settings, paths, discovery).
"""

from __future__ import annotations

import copy
import logging
import secrets
from collections.abc import Callable, Collection, Mapping
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    AuthorizationServer,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
)
from authlib.oidc.core.errors import LoginRequiredError

from broker import profiles
from broker.downstream import NO_PASSIVE, Delivery, DownstreamRequest, LogoutSent
from broker.downstream import oidc_clients as clients
from broker.downstream import oidc_logout as logouts
from broker.downstream import oidc_token as tokens
from broker.downstream.oidc_authorize import Ask, find_target, parse, safe_state
from broker.downstream.oidc_common import NO_STORE, JsonReply, header, ok
from broker.downstream.oidc_config import PATHS, OidcOpConfig, discovery_document
from broker.downstream.oidc_grants import CodeRecord, Grants, Lifetimes, Snapshot
from broker.downstream.oidc_keys import SigningKeys
from broker.downstream.oidc_kind import oidc_of
from broker.errors import RequestRejected
from broker.identity import Released
from broker.outbound.fetch import Fetcher
from broker.outgoing import Outgoing
from broker.records import Supplier
from broker.store import StateStore

log = logging.getLogger("loper.oidc")

PROTOCOL = "oidc"
_BEARER = 'Bearer realm="loper"'


class OidcOp(AuthorizationServer):  # type: ignore[misc]
    """The OpenID Provider; a Downstream for the login journey (flow.py)."""

    def __init__(self, config: OidcOpConfig, store: StateStore,
                 find_client: Callable[[str], Supplier | None]) -> None:
        super().__init__()
        self.config = config
        self.record_delivery = config.record_delivery
        """CollectedLater: the supplier receives the release at the token endpoint."""
        self.query_client = clients.client_finder(find_client)
        self._find_supplier = find_client
        self._keys = SigningKeys(config.signing_keys, config.next_signing_keys)  # once per process
        self.grants = Grants(store, Lifetimes(config.code_ttl, config.access_token_ttl,
                                              config.refresh_token_ttl))
        self._discovery = discovery_document(config.issuer, self._keys.algorithms)
        self.register_client_auth_method("client_secret_basic", clients.authenticate_basic)
        self.register_client_auth_method("private_key_jwt", clients.PrivateKeyJwt(
            (self._url("token"), config.issuer), store))
        self.register_token_generator("default", self._generate)
        id_token = tokens.IdToken(config.issuer, self._keys, config.id_token_ttl)
        self.register_grant(tokens.CodeGrant, [tokens.S256Challenge(required=True), id_token])
        self.register_grant(tokens.RefreshGrant, [id_token])
        self.register_endpoint(tokens.Revocation)
        self._logout_fetcher = Fetcher(timeout=config.logout_timeout, max_bytes=64 * 1024)

    def _url(self, endpoint: str) -> str:
        return self.config.issuer + PATHS[endpoint]

    # -- published documents ---------------------------------------------------------------------
    def discovery(self) -> dict[str, object]:
        return copy.deepcopy(self._discovery)

    def jwks(self) -> dict[str, object]:
        return self._keys.jwks()

    # -- the authorization endpoint and the answers to it ----------------------------------------
    def parse_authorization(self, params: Mapping[str, str],
                            repeated: Collection[str] = ()) -> DownstreamRequest | Outgoing:
        """`repeated`: names of parameters the request carried more than once (RFC 6749 3.1).

        Raises a BrokerError (an error page) for a bad client or redirect_uri.
        """
        target = find_target(params, repeated, self.query_client)
        try:
            return parse(params, repeated, target, self._keys.algorithms, self._validate)
        except OAuth2Error as error:
            log.info("authorization request refused",
                     extra={"supplier": target.client.supplier.id, "error": error.error})
            return self._refused(target.redirect_uri, safe_state(params), error)

    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        """A fresh code for a snapshot of what is released at this login."""
        ask = self._checked(supplier, request)
        if released.supplier_id != supplier.id:
            raise RequestRejected("This login was released to another learning app.")
        snapshot = Snapshot(
            grant=secrets.token_urlsafe(18), client_id=ask.client_id, sub=released.subject,
            claims=profiles.claims(profiles.of(supplier.config.profile), released.attributes,
                                   ask.scope, released.subject, self.config.scope),
            scope=ask.scope,
            auth_time=int(released.authn.instant.timestamp()), acr=released.authn.class_ref,
            nonce=ask.nonce, school_id=released.school_id, supplier_id=released.supplier_id,
            sid=released.session or None)
        record = CodeRecord(snapshot, ask.redirect_uri, ask.code_challenge,
                            Delivery.of(released, PROTOCOL))
        request = tokens.Request(self._url("authorization"), ask.params(), {}, "GET")
        response = self.create_authorization_response(  # the kept request, not the browser's
            request, grant_user=record, grant=self.get_authorization_grant(request))
        if not isinstance(response, Outgoing):
            raise RequestRejected("This login's request no longer validates.")
        return response

    def respond_error(self, supplier: Supplier, request: bytes, status: str) -> Outgoing:
        ask = self._checked(supplier, request)
        error = (LoginRequiredError("There is no login session and prompt=none was asked.")
                 if status == NO_PASSIVE else AccessDeniedError("The login did not succeed."))
        return self._refused(ask.redirect_uri, ask.state, error)

    def _refused(self, redirect_uri: str, state: str | None, error: OAuth2Error) -> Outgoing:
        error.redirect_uri, error.state = redirect_uri, state
        redirect = self.handle_response(*error())
        assert isinstance(redirect, Outgoing)
        return redirect

    def _checked(self, supplier: Supplier, request: bytes) -> Ask:
        """The kept request, checked again against the supplier's current registration."""
        ask = Ask.read(request)
        oidc = oidc_of(supplier)
        if oidc is None or oidc.client_id != ask.client_id or (
                ask.redirect_uri not in oidc.redirect_uris):
            raise RequestRejected("The learning app's registration changed during this login.",
                                  back_url=supplier.url, supplier_name=supplier.name)
        return ask

    def _validate(self, params: Mapping[str, str]) -> str:
        """authlib's checks of an authorization request (response_type, client, redirect_uri,
        scope, PKCE); the scope it grants, or OAuth2Error."""
        request = tokens.Request(self._url("authorization"), params, {}, "GET")
        self.get_authorization_grant(request).validate_authorization_request()
        return request.scope  # type: ignore[no-any-return]

    # -- logout (oidc_logout.py) -------------------------------------------------------------
    def logout(self, supplier: Supplier, subject: str, sid: str,
               relay_state: str) -> LogoutSent | None:
        return logouts.ask(self._keys, self.config.issuer, self._logout_fetcher, supplier,
                           subject, sid)

    def logout_answered(self, supplier: Supplier, params: Mapping[str, str],
                        state: bytes) -> bool:
        return False  # the OP sends no browser to a supplier that must answer

    def session_ended(self, sid: str) -> None:
        self.grants.end_session(sid)

    def answer_logout(self, supplier: Supplier, request: bytes,
                      complete: bool) -> Outgoing | None:
        return logouts.answer(supplier, request)

    def end_session(self, params: Mapping[str, str]) -> tuple[Supplier | None,
                                                              logouts.EndSession]:
        """RP-Initiated Logout 1.0: who asks, for which session; raises LogoutRejected for an
        id_token_hint Loper did not issue."""
        return logouts.parse_end_session(params, self._keys, self.config.issuer,
                                         self._find_supplier)

    # -- the back channel ------------------------------------------------------------------------
    def token(self, form: Mapping[str, str], headers: Mapping[str, str],
              repeated: Collection[str] = ()) -> JsonReply:
        return self._back_channel("token", form, headers, repeated)

    def revoke(self, form: Mapping[str, str], headers: Mapping[str, str],
               repeated: Collection[str] = ()) -> JsonReply:
        """RFC 7009: 200 also for unknown tokens and for other clients' tokens."""
        return self._back_channel("revocation", form, headers, repeated)

    def _back_channel(self, endpoint: str, form: Mapping[str, str], headers: Mapping[str, str],
                      repeated: Collection[str]) -> JsonReply:
        request = tokens.Request(self._url("token"), form, headers)
        try:
            clients.check_methods(form, headers, repeated)  # what authlib does not check there
            if endpoint == "token" and not form.get("grant_type"):
                raise InvalidRequestError("grant_type is missing.")
        except OAuth2Error as error:
            return self.handle_error_response(request, error)
        if endpoint == "token":
            return self.create_token_response(request)  # type: ignore[no-any-return]
        return self.create_endpoint_response(endpoint, request)  # type: ignore[no-any-return]

    def userinfo(self, headers: Mapping[str, str],
                 form: Mapping[str, str] | None = None) -> JsonReply:
        """OIDC Core 5.3: exactly the snapshot released at login, as long as the school still
        releases to the supplier (else the grant ends). The bearer token comes in the header
        (RFC 6750 2.1) or the form body (2.2; authlib reads only the header), never both."""
        authorization, in_body = header(headers, "Authorization"), (form or {}).get("access_token")
        if authorization is not None and in_body is not None:
            return _bearer_error(400, "invalid_request", "Send the access token once.")
        scheme, _, value = (authorization or "").strip().partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else in_body
        if not token:
            return _bearer_error(401, None, "An access token is required.")
        snapshot = self.grants.access(token)
        if snapshot is None:
            return _bearer_error(401, "invalid_token", "The access token is invalid or expired.")
        if not snapshot.still_open(self.config.still_open):
            log.info("userinfo refused: the release is closed",
                     extra={"supplier": snapshot.supplier_id, "school": snapshot.school_id})
            self.grants.revoke(snapshot, narrowed=True)
            return _bearer_error(401, "invalid_token", tokens.SUSPENDED)
        return ok({**snapshot.claims, "sub": snapshot.sub})

    # -- Loper's rules -------------------------------------------------------------------------
    def check_open(self, granted: Snapshot, client: clients.Client) -> None:
        """No token for a client whose ID token algorithm is not offered, nor for a release the
        school has closed since the login (the grant ends)."""
        if client.oidc.id_token_alg not in self._keys.algorithms:
            raise OAuth2Error("The ID token algorithm of this client is not offered.",
                              status_code=500, error="server_error")
        if granted.still_open(self.config.still_open):
            return
        log.info("oidc grant refused: the release is closed",
                 extra={"supplier": granted.supplier_id, "school": granted.school_id})
        self.grants.revoke(granted)
        raise InvalidGrantError(tokens.SUSPENDED)

    def _generate(self, grant_type: str, client: clients.Client, user: Snapshot,
                  scope: str | None = None, expires_in: int | None = None,
                  include_refresh_token: bool = True) -> dict[str, object]:
        """Tokens for the granted snapshot, narrowed to `scope`; a refresh token carries the
        whole grant."""
        served = tokens.narrowed(user, scope)
        with self.grants.store.batched():  # both tokens in one round trip
            token: dict[str, object] = {
                "access_token": self.grants.issue_access(served),
                "token_type": "Bearer", "expires_in": self.config.access_token_ttl,
                "scope": " ".join(served.scope)}
            if include_refresh_token and "offline_access" in user.scope:
                token["refresh_token"] = self.grants.issue_refresh(user)
        return token

    # -- authlib's framework hooks ---------------------------------------------------------------
    def create_oauth2_request(self, request: tokens.Request) -> tokens.Request:
        return request

    def save_token(self, token: dict[str, object], request: tokens.Request) -> None:
        """Saved as they were generated (Grants.issue_*)."""

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        pass

    def handle_response(self, status: int, body: Any, headers: Any) -> JsonReply | Outgoing:
        if status == 302:  # every authorization response, also an error: iss (RFC 9207)
            return Outgoing(add_params_to_uri(dict(headers)["Location"],
                                              {"iss": self.config.issuer}))
        return status, body, dict(NO_STORE)

    def handle_error_response(self, request: tokens.Request, error: OAuth2Error) -> JsonReply:
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
            asserted = "Authorization" not in request.headers and any(
                k in request.form for k in ("client_assertion", "client_assertion_type"))
            headers["WWW-Authenticate"] = _BEARER if asserted else 'Basic realm="loper"'
        log.info("back-channel request refused", extra={"error": error.error})
        return status, body, headers


def _bearer_error(status: int, error: str | None, description: str) -> JsonReply:
    """RFC 6750 3: the challenge names the error, except when no token was sent at all."""
    challenge = f'{_BEARER}, error="{error}"' if error else _BEARER
    return status, {"error": error or "invalid_request", "error_description": description}, {
        **NO_STORE, "WWW-Authenticate": challenge}
