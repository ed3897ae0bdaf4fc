"""Loper as an OpenID Provider towards the suppliers' relying parties: the code flow with PKCE,
pairwise subjects and exactly the claims the school released.

OidcOp answers authlib's hooks (broker/authlib_compat.py drives authlib's AuthorizationServer,
its grants and endpoints) with Loper's rules (docs/architecture.md names the ones authlib cannot
express). It never touches Flask: the authorization endpoint returns a DownstreamRequest (for
the login journey) or an Outgoing (a redirect to a checked redirect_uri); the token, userinfo
and revocation endpoints return (status, JSON body, headers) for broker/web/oidc.py. Split by
noun: oidc_authorize (the request), oidc_clients (client authentication), oidc_grants
(snapshots, codes and tokens on the store), oidc_keys (signing keys), oidc_config (settings,
paths, discovery).
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
from collections.abc import Callable, Collection, Mapping

from broker import profiles
from broker.authlib_compat import Server
from broker.authlib_extensions import OAuthError
from broker.downstream import (
    NO_AUTHN_CONTEXT,
    NO_PASSIVE,
    STOPPED,
    Delivery,
    DownstreamRequest,
    LogoutSent,
)
from broker.downstream import oidc_clients as clients
from broker.downstream import oidc_logout as logouts
from broker.downstream.oidc_authorize import Ask, find_target, parse, safe_state
from broker.downstream.oidc_common import BEARER, JsonReply, header, ok, refused
from broker.downstream.oidc_config import PATHS, OidcOpConfig, Published, discovery_document
from broker.downstream.oidc_grants import CodeRecord, Grants, Lifetimes, Snapshot
from broker.downstream.oidc_keys import SigningKeys
from broker.downstream.oidc_kind import OidcSupplier, oidc_of
from broker.errors import RequestRejected
from broker.identity import Released
from broker.outbound.fetch import Fetcher
from broker.outgoing import Outgoing
from broker.records import Supplier
from broker.store import StateStore

log = logging.getLogger("loper.oidc")
_FAILURES = {
    NO_PASSIVE: ("login_required", "There is no login session and prompt=none was asked."),
    STOPPED: ("access_denied", "The pupil stopped the login."),
    NO_AUTHN_CONTEXT: ("access_denied", "The school's login does not meet the acr asked for."),
}
"""error and error_description of a failed login, by the flow's second-level status."""

PROTOCOL = "oidc"
SUSPENDED = ("The school has suspended access for this app, or its agreement with the school "
             "ended.")


class OidcOp:
    """The OpenID Provider; a Downstream for the login journey (flow.py), and the Provider that
    answers authlib's hooks."""

    def __init__(self, config: OidcOpConfig, store: StateStore,
                 find_client: Callable[[str], Supplier | None]) -> None:
        self.config = config
        self.record_delivery = config.record_delivery
        """CollectedLater: the supplier receives the release at the token endpoint."""
        self.find_client = clients.client_finder(find_client)
        self._keys = SigningKeys(config.signing_keys, config.next_signing_keys)  # once per process
        self.grants = Grants(store, Lifetimes(config.code_ttl, config.access_token_ttl,
                                              config.refresh_token_ttl))
        self._discovery = discovery_document(config.issuer, self._keys.algorithms)
        self.published = Published(json.dumps(self._discovery).encode(),
                                   json.dumps(self._keys.jwks()).encode())
        urls = {name: config.issuer + path for name, path in PATHS.items()}
        self._server = Server(self, urls, self._keys,
                              clients.Assertions((urls["token"], config.issuer), store))
        self._logout_fetcher = Fetcher(timeout=config.logout_timeout, max_bytes=64 * 1024)

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
        target = find_target(params, repeated, self.find_client)
        try:
            return parse(params, repeated, target, self._keys.algorithms, self._server.validate)
        except OAuthError as error:
            log.info("authorization request refused",
                     extra={"supplier": target.client.supplier.id, "error": error.error})
            return self._server.refused(target.redirect_uri, safe_state(params), error,
                                        iss=target.client.oidc.iss_in_errors)

    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        """A fresh code for a snapshot of what is released at this login."""
        ask, _ = self._checked(supplier, request)
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
        response = self._server.issue_code(ask.params(), record)  # the kept request
        if response is None:
            raise RequestRejected("This login's request no longer validates.")
        return response

    def respond_error(self, supplier: Supplier, request: bytes, status: str) -> Outgoing:
        ask, oidc = self._checked(supplier, request)
        error = OAuthError(*_FAILURES.get(status, ("access_denied", "The login did not succeed.")))
        return self._server.refused(ask.redirect_uri, ask.state, error, iss=oidc.iss_in_errors)

    def _checked(self, supplier: Supplier, request: bytes) -> tuple[Ask, OidcSupplier]:
        """The kept request, checked again against the supplier's current registration."""
        ask = Ask.read(request)
        oidc = oidc_of(supplier)
        if oidc is None or oidc.client_id != ask.client_id or (
                ask.redirect_uri not in oidc.redirect_uris):
            raise RequestRejected("The learning app's registration changed during this login.",
                                  back_url=supplier.url, supplier_name=supplier.name)
        return ask, oidc

    # -- logout (oidc_logout.py) -------------------------------------------------------------
    def logout(self, supplier: Supplier, subject: str, sid: str, relay_state: str,
               name: str = "") -> LogoutSent | None:
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
                                         self.find_client)

    # -- the back channel ------------------------------------------------------------------------
    def token(self, form: Mapping[str, str], headers: Mapping[str, str],
              repeated: Collection[str] = ()) -> JsonReply:
        return self._back_channel("token", form, headers, repeated)

    def revoke(self, form: Mapping[str, str], headers: Mapping[str, str],
               repeated: Collection[str] = ()) -> JsonReply:
        """RFC 7009: 200 also for unknown tokens (2.2) and for other clients' tokens, which
        stay valid. token_type_hint is only a hint (2.1): Grants.revoke_token searches access
        and refresh tokens whatever it says, so a hint Loper cannot use (id_token, or any
        other) is ignored, where authlib refuses it with unsupported_token_type."""
        unhinted = {k: v for k, v in form.items() if k != "token_type_hint"}
        return self._back_channel("revocation", unhinted, headers, repeated)

    def _back_channel(self, endpoint: str, form: Mapping[str, str], headers: Mapping[str, str],
                      repeated: Collection[str]) -> JsonReply:
        def check() -> None:  # what authlib does not check there
            clients.check_methods(form, headers, repeated)
            if endpoint == "token" and not form.get("grant_type"):
                raise OAuthError("invalid_request", "grant_type is missing.")
            if endpoint == "revocation" and not form.get("token"):
                raise OAuthError("invalid_request", "token is missing.")
        return self._server.back_channel(endpoint, form, headers, check)

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
        if self._closed(snapshot, "userinfo", narrowed=True):
            return _bearer_error(401, "invalid_token", SUSPENDED)
        return ok({**snapshot.claims, "sub": snapshot.sub})

    # -- Loper's rules -------------------------------------------------------------------------
    def check_open(self, granted: Snapshot, client: clients.Client) -> None:
        """No token for a client whose ID token algorithm is not offered, nor for a release the
        school has closed since the login (the grant ends)."""
        client.signing_alg(self._keys.algorithms)
        if self._closed(granted, "oidc grant"):
            raise OAuthError("invalid_grant", SUSPENDED)

    def take_refresh(self, token: str, client: clients.Client,
                     scope: str | None) -> Snapshot | None:
        """The refresh grant's token, taken (rotated) only once the request is known good: a
        refused request of its client (a scope wider than granted, an ID token algorithm not
        offered) leaves it as it was (RFC 6749 6)."""
        def check(granted: Snapshot) -> None:
            granted.narrowed(scope or None)  # authlib reads an empty scope as the granted one
            client.signing_alg(self._keys.algorithms)
        return self.grants.take_refresh(token, client.client_id, check)

    def _closed(self, snapshot: Snapshot, refused: str, *, narrowed: bool = False) -> bool:
        """Has the school closed the release since the login? Then its grant ends."""
        if snapshot.still_open(self.config.still_open):
            return False
        log.info("%s refused: the release is closed", refused,
                 extra={"supplier": snapshot.supplier_id, "school": snapshot.school_id})
        self.grants.revoke(snapshot, narrowed=narrowed)
        return True

    def authenticate_basic(self, request: clients.AuthRequest) -> clients.Client | None:
        return clients.authenticate_basic(self.find_client, request)

    def tokens(self, grant_type: str, client: clients.Client, user: Snapshot,
               scope: str | None = None, expires_in: int | None = None,
               include_refresh_token: bool = True) -> dict[str, object]:
        """authlib's token generator: tokens for the granted snapshot, narrowed to `scope`; a
        refresh token carries the whole grant."""
        served = user.narrowed(scope)
        with self.grants.store.batched():  # both tokens in one round trip
            token: dict[str, object] = {
                "access_token": self.grants.issue_access(served),
                "token_type": "Bearer", "expires_in": self.config.access_token_ttl,
                "scope": " ".join(served.scope)}
            if include_refresh_token and "offline_access" in user.scope:
                token["refresh_token"] = self.grants.issue_refresh(user)
        return token

    def user_info(self, user: Snapshot, scope: str) -> dict[str, object]:
        """The ID token's claims about the user and the login: the snapshot, narrowed to
        `scope`. Every ID token of the grant has them, a refreshed one too (OIDC Core 12.2):
        the `sid` as well, which discovery promises (Back-Channel Logout 2.1, Front-Channel
        Logout 3) and an RP's id_token_hint names its session by."""
        served = user.narrowed(scope)
        info: dict[str, object] = {**served.claims, "sub": served.sub,
                                   "auth_time": served.auth_time}
        if served.acr is not None:
            info["acr"] = served.acr
        if served.sid is not None:
            info["sid"] = served.sid
        return info

def _bearer_error(status: int, error: str | None, description: str) -> JsonReply:
    """RFC 6750 3: the challenge names the error, except when no token was sent at all."""
    challenge = f'{BEARER}, error="{error}"' if error else BEARER
    return refused("userinfo request refused", status, error or "invalid_request", description,
                   {"WWW-Authenticate": challenge})
