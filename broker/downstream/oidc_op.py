"""Loper as an OpenID Provider towards the suppliers' relying parties: the code flow with PKCE,
pairwise subjects and exactly the claims the school released.

The protocol core never touches Flask: the authorization endpoint returns a DownstreamRequest
(for the login journey) or an Outgoing (an error redirect to a checked redirect_uri); the token,
userinfo and revocation endpoints return (status, JSON body, headers) for broker/web/oidc.py.
Split by noun: oidc_authorize (the request), oidc_server (authlib's AuthorizationServer: token
and revocation endpoints), oidc_clients (client authentication), oidc_token (the grants),
oidc_grants (snapshots, codes and tokens on the store), oidc_keys (signing keys).
"""

from __future__ import annotations

import copy
import logging
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from authlib.oauth2.rfc6749 import OAuth2Error

from broker.attributes import VOCABULARY, to_oidc
from broker.downstream import NO_PASSIVE, Delivery, DownstreamRequest, RecordDelivery
from broker.downstream.oidc_authorize import Ask, answer, find_target, parse, safe_state
from broker.downstream.oidc_clients import ASSERTION_ALGS, AUTH_METHODS
from broker.downstream.oidc_common import SCOPES, JsonReply, OAuthError, header, ok
from broker.downstream.oidc_grants import CodeRecord, Grants, Lifetimes, OpenCheck, Snapshot
from broker.downstream.oidc_keys import SigningKeys
from broker.downstream.oidc_kind import oidc_of
from broker.downstream.oidc_server import Server
from broker.downstream.oidc_token import GRANT_TYPES, SUSPENDED
from broker.errors import ConfigError, RequestRejected
from broker.identity import Released
from broker.outgoing import Outgoing
from broker.records import Supplier
from broker.store import StateStore

log = logging.getLogger("loper.oidc")

PATHS = {
    "authorization": "/oidc/authorize",
    "token": "/oidc/token",
    "userinfo": "/oidc/userinfo",
    "jwks": "/oidc/jwks",
    "revocation": "/oidc/revoke",
}
DISCOVERY_PATH = "/.well-known/openid-configuration"
PROTOCOL = "oidc"
_BEARER = 'Bearer realm="loper"'


def _always_open(school_id: str, supplier_id: str) -> bool:
    return True


@dataclass(frozen=True)
class OidcOpConfig:
    issuer: str
    """The base URL, e.g. "https://loper.example" (no trailing slash)."""
    signing_keys: Mapping[str, Path]
    """alg ("RS256", "ES256") -> PEM private key; kid = RFC 7638 thumbprint."""
    next_signing_keys: Mapping[str, Path] = field(default_factory=dict)
    """Published in the JWKS before they sign (rollover)."""
    code_ttl: int = 60
    access_token_ttl: int = 3600
    id_token_ttl: int = 300
    refresh_token_ttl: int = 30 * 86400
    still_open: OpenCheck = _always_open
    """(school id, supplier id) -> does the school still release to the supplier today? Asked
    by the token grants and userinfo before they serve a snapshot; the composition root wires
    it to the release policy (the OP knows neither the registry nor release.py)."""
    record_delivery: RecordDelivery = field(kw_only=True)
    """Writes a release to the ledger; called when a code is redeemed, the moment the supplier
    receives what was released (the composition root wires it to the registry's ledger)."""

    def __post_init__(self) -> None:
        if not self.issuer.startswith(("https://", "http://")) or self.issuer.endswith("/"):
            raise ConfigError(f"OIDC issuer {self.issuer!r}: an absolute URL without a "
                              "trailing slash is expected")
        ttls = (self.code_ttl, self.access_token_ttl, self.id_token_ttl, self.refresh_token_ttl)
        if any(isinstance(t, bool) or not isinstance(t, int) or t <= 0 for t in ttls):
            raise ConfigError("OIDC lifetimes must be positive whole seconds")


def _discovery(issuer: str, algorithms: tuple[str, ...]) -> dict[str, object]:
    claims = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash"]
    return {
        "issuer": issuer,
        **{f"{name}_endpoint": issuer + path for name, path in PATHS.items() if name != "jwks"},
        "jwks_uri": issuer + PATHS["jwks"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(algorithms),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "scopes_supported": list(SCOPES),
        "claims_supported": claims + [a.oidc_claim for a in VOCABULARY],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }


class OidcOp:
    """The OpenID Provider; a Downstream for the login journey (flow.py)."""

    def __init__(self, config: OidcOpConfig, store: StateStore,
                 find_client: Callable[[str], Supplier | None]) -> None:
        self.config = config
        self.record_delivery = config.record_delivery
        """CollectedLater: the supplier receives the release at the token endpoint."""
        self._find_client = find_client
        self._keys = SigningKeys(config.signing_keys, config.next_signing_keys)  # once per process
        self._grants = Grants(store, Lifetimes(config.code_ttl, config.access_token_ttl,
                                               config.refresh_token_ttl))
        self._server = Server(
            issuer=config.issuer, authorize_url=config.issuer + PATHS["authorization"],
            token_url=config.issuer + PATHS["token"], keys=self._keys,
            grants=self._grants, store=store, find_client=find_client,
            still_open=config.still_open, record_delivery=config.record_delivery,
            id_token_ttl=config.id_token_ttl, access_token_ttl=config.access_token_ttl)
        self._discovery = _discovery(config.issuer, self._keys.algorithms)

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
        target = find_target(params, repeated, self._find_client)
        try:
            return parse(params, repeated, target, self._keys.algorithms,
                         self._server.validate_authorization)
        except (OAuthError, OAuth2Error) as exc:
            log.info("authorization request refused",
                     extra={"supplier": target.supplier.id, "error": exc.error})
            return answer(target.redirect_uri, self.config.issuer,
                          {"error": exc.error, "error_description": exc.get_error_description(),
                           "state": safe_state(params)})

    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        """A fresh code for a snapshot of what is released at this login."""
        ask = self._checked(supplier, request)
        if released.supplier_id != supplier.id:
            raise RequestRejected("This login was released to another learning app.")
        snapshot = Snapshot(
            grant=secrets.token_urlsafe(18), client_id=ask.client_id, sub=released.subject,
            claims=to_oidc(released.attributes, ask.scope), scope=ask.scope,
            auth_time=int(released.authn.instant.timestamp()), acr=released.authn.class_ref,
            nonce=ask.nonce, school_id=released.school_id, supplier_id=released.supplier_id)
        record = CodeRecord(snapshot, ask.redirect_uri, ask.code_challenge,
                            Delivery.of(released, PROTOCOL))
        return Outgoing(self._server.issue_code(ask.params(), record))

    def respond_error(self, supplier: Supplier, request: bytes, status: str) -> Outgoing:
        ask = self._checked(supplier, request)
        error, text = (("login_required", "There is no login session and prompt=none was asked.")
                       if status == NO_PASSIVE else ("access_denied", "The login did not succeed."))
        return answer(ask.redirect_uri, self.config.issuer,
                      {"error": error, "error_description": text, "state": ask.state})

    def _checked(self, supplier: Supplier, request: bytes) -> Ask:
        """The kept request, checked again against the supplier's current registration."""
        ask = Ask.read(request)
        oidc = oidc_of(supplier)
        if oidc is None or oidc.client_id != ask.client_id or (
                ask.redirect_uri not in oidc.redirect_uris):
            raise RequestRejected("The learning app's registration changed during this login.",
                                  back_url=supplier.url, supplier_name=supplier.name)
        return ask

    # -- the back channel ------------------------------------------------------------------------
    def token(self, form: Mapping[str, str], headers: Mapping[str, str],
              repeated: Collection[str] = ()) -> JsonReply:
        return self._server.respond("token", form, headers, repeated)

    def revoke(self, form: Mapping[str, str], headers: Mapping[str, str],
               repeated: Collection[str] = ()) -> JsonReply:
        """RFC 7009: 200 also for unknown tokens and for other clients' tokens."""
        return self._server.respond("revocation", form, headers, repeated)

    def userinfo(self, headers: Mapping[str, str],
                 form: Mapping[str, str] | None = None) -> JsonReply:
        """OIDC Core 5.3: exactly the snapshot released at login (RFC 6750 bearer token), as
        long as the school still releases to the supplier (else the grant ends)."""
        try:
            snapshot = self._grants.access(_bearer(headers, form or {}))
            if snapshot is None:
                raise _invalid_token("The access token is invalid or expired.")
            if not snapshot.still_open(self.config.still_open):
                log.info("userinfo refused: the release is closed",
                         extra={"supplier": snapshot.supplier_id, "school": snapshot.school_id})
                self._grants.revoke(snapshot, narrowed=True)
                raise _invalid_token(SUSPENDED)
            return ok({**snapshot.claims, "sub": snapshot.sub})
        except OAuthError as exc:
            return exc.reply()


def _invalid_token(description: str) -> OAuthError:
    return OAuthError("invalid_token", description, status=401,
                      headers={"WWW-Authenticate": f'{_BEARER}, error="invalid_token"'})


def _bearer(headers: Mapping[str, str], form: Mapping[str, str]) -> str:
    """RFC 6750 2.1 (header) or 2.2 (form body); never both."""
    authorization = header(headers, "Authorization")
    in_body = form.get("access_token")
    if authorization is not None and in_body is not None:
        raise OAuthError("invalid_request", "Send the access token once.",
                         headers={"WWW-Authenticate": f'{_BEARER}, error="invalid_request"'})
    scheme, _, value = (authorization or "").strip().partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else in_body
    if not token:
        raise OAuthError("invalid_request", "An access token is required.", status=401,
                         headers={"WWW-Authenticate": _BEARER})
    return token
