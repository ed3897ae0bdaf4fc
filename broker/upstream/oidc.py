"""The OIDC upstream: Loper as a relying party of a school's OpenID Provider.

Authorization code flow with PKCE S256 and a nonce (OIDC Core 3.1); authlib builds the
authorization request, the token request and the client authentication, and checks the ID
token's claims. Loper adds what authlib's client leaves out: the RFC 9207 `iss` check
(oidc_login.py), algorithms pinned per school and auth_time against max_age
(oidc_idtoken.py), and user info about the same `sub`. All HTTP goes through the outbound
fetcher. Every failure is an UpstreamRejected that an ICT coordinator can act on, or, when the
school does not answer (in time), a SchoolTimeout / SchoolUnavailable (oidc_http.py).
See docs/architecture.md, "The relying party at a school on authlib".
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from broker import codec
from broker.authlib_client import (
    Credentials,
    add_params,
    authorization_url,
    credentials,
    form_pairs,
    token_request,
)
from broker.errors import BrokerError, LogoutRejected, UpstreamRejected
from broker.identity import AuthnContext, Identity, PendingLogin
from broker.jsonvalue import Json
from broker.outgoing import Outgoing
from broker.records import School
from broker.upstream import Callback
from broker.upstream.oidc_http import Http
from broker.upstream.oidc_idtoken import Expected, is_time, verify_id_token
from broker.upstream.oidc_kind import OidcSchool, read_claims
from broker.upstream.oidc_login import LoginState, check_response, new_login_state, safe_code
from broker.upstream.oidc_provider import ProviderCache, ProviderInfo
from broker.upstream.oidc_require import check_required

_log = logging.getLogger("loper.upstream.oidc")
REPLAY_TTL_MAX = 24 * 3600
"""Beyond a day the nonce, bound to one single-use pending login, guards against replay."""


@dataclass(frozen=True)
class OidcRpConfig:
    redirect_uri: str
    """f"{base_url}/oidc/callback": under Loper's base URL, registered at every OIDC school."""
    clock_skew: int = 60
    http_timeout: float = 10.0
    """Seconds one call to a school's OP may take in all, connect to last byte."""
    failure_ttl: float = 30.0
    """Seconds a school's OP that timed out is answered "does not answer" without a call."""
    per_host: int | None = None
    """Calls to one school's OP that may wait at once in this process (None: no limit)."""
    cache_ttl: float = 3600.0
    """Seconds a school's discovery document and JWKS are kept."""
    jwks_min_refresh: float = 60.0
    """An unknown key id makes Loper read the JWKS again, at most once in this many seconds."""
    max_response_bytes: int = 1024 * 1024

    @property
    def logged_out_uri(self) -> str:
        """f"{base_url}/oidc/logged-out": where a school's logout sends the browser back."""
        return self.redirect_uri.rsplit("/", 1)[0] + "/logged-out"


@dataclass(frozen=True)
class SchoolSession:
    """What logging out at the school needs: its ID token, as id_token_hint."""

    id_token: str


@dataclass(frozen=True)
class LogoutState:
    state: str


@dataclass(frozen=True)
class _Tokens:
    id_token: str
    access_token: str | None


class OidcUpstream:
    """One per process: it caches the schools' discovery documents and keys."""

    def __init__(self, config: OidcRpConfig) -> None:
        self.config = config
        self.http = Http(config.http_timeout, config.max_response_bytes, config.failure_ttl,
                         config.per_host)
        self.providers = ProviderCache(self.http, config.cache_ttl, config.jwks_min_refresh)

    def login_redirect(self, school: School, pending: PendingLogin,
                       relay_state: str) -> tuple[Outgoing, bytes]:
        oidc = _oidc(school)
        info = self._provider(oidc)
        state = new_login_state(school.id, pending.force_authn, pending.max_age)
        scopes = oidc.scopes if "openid" in oidc.scopes else ("openid", *oidc.scopes)
        prompt = "none" if pending.passive else "login" if pending.force_authn else None
        max_age = 0 if pending.force_authn else pending.max_age
        hint = {oidc.hint_parameter: pending.school_hint} if pending.school_hint else {}
        url = authorization_url(
            info.authorization_endpoint, oidc.client_id, scopes,
            redirect_uri=self.config.redirect_uri, state=relay_state,
            nonce=state.nonce, code_challenge=state.challenge(), code_challenge_method="S256",
            prompt=prompt, max_age=None if max_age is None else str(max_age),
            acr_values=" ".join(pending.acr.classes) if pending.acr else None, **hint)
        return Outgoing(url), codec.encode(state)

    def handle_callback(self, school: School, params: Mapping[str, str],
                        state: bytes) -> Callback:
        try:
            return self._callback(school, params, LoginState.read(state, school.id))
        except BrokerError:
            raise
        except Exception as exc:  # the contract: nothing else escapes (requests, joserfc...)
            _log.exception("unexpected failure in the OIDC callback",
                           extra={"school": school.id, "error": type(exc).__name__})
            raise UpstreamRejected("Your school's answer could not be processed.") from exc

    def _callback(self, school: School, params: Mapping[str, str],
                  state: LoginState) -> Callback:
        oidc = _oidc(school)
        info = self._provider(oidc)
        code = check_response(params, info)
        tokens = self._redeem(oidc, info, code, state.verifier)
        now = time.time()
        expected = Expected(oidc.issuer, oidc.client_id, state.nonce, oidc.algorithms,
                            self.config.clock_skew, state.authn_after())
        claims = verify_id_token(tokens.id_token,
                                 lambda kid: self.providers.keys(oidc.discovery_issuer, kid,
                                                                 oidc.issuer),
                                 expected, now, tokens.access_token)
        if info.userinfo_endpoint is not None:
            claims = {**self._userinfo(info.userinfo_endpoint, tokens, claims.get("sub")),
                      **claims}
        check_required(oidc.require, claims)
        return Callback(identity=_identity(school, oidc, claims, now),
                        replay_key=_replay_key(oidc.issuer, claims, tokens.id_token),
                        replay_ttl=self._replay_ttl(claims, now),
                        session=codec.encode(SchoolSession(tokens.id_token)))

    # -- logout at the school (RP-Initiated Logout 1.0) -----------------------------------------
    def logout_redirect(self, school: School, session: bytes,
                        relay_state: str) -> tuple[Outgoing, bytes] | None:
        """To the school's end_session_endpoint with its ID token as id_token_hint; it sends
        the browser back to /oidc/logged-out with `relay_state` as its state."""
        kept = codec.decode(session, SchoolSession)
        endpoint = self._provider(_oidc(school)).end_session_endpoint
        if kept is None or endpoint is None:
            return None
        url = add_params(endpoint, {
            "id_token_hint": kept.id_token, "client_id": _oidc(school).client_id,
            "post_logout_redirect_uri": self.config.logged_out_uri, "state": relay_state})
        return Outgoing(url), codec.encode(LogoutState(relay_state))

    def handle_logout(self, school: School, params: Mapping[str, str], state: bytes) -> bool:
        kept = codec.decode(state, LogoutState)
        if kept is None or params.get("state") != kept.state:
            raise LogoutRejected("Your school's answer does not belong to this logout.")
        return True

    def _provider(self, oidc: OidcSchool) -> ProviderInfo:
        return self.providers.provider(oidc.discovery_issuer, oidc.issuer)

    def _redeem(self, oidc: OidcSchool, info: ProviderInfo, code: str,
                verifier: str) -> _Tokens:
        """RFC 6749 4.1.3 with RFC 7636 4.5: the code and its verifier, for the tokens."""
        body = token_request(code, verifier, self.config.redirect_uri)
        url, headers, body = _client_auth(oidc, info).prepare("POST", info.token_endpoint, {},
                                                              body)
        answer = self.http.post(url, "token response", form_pairs(body), headers)
        if answer.status != 200:
            raise _token_refused(answer.status, answer.body.get("error"))
        id_token, access = answer.body.get("id_token"), answer.body.get("access_token")
        if not isinstance(id_token, str):
            raise UpstreamRejected("Your school's login server sent no ID token; check that "
                                   "the scope 'openid' is allowed for Loper.")
        return _Tokens(id_token, access if isinstance(access, str) else None)

    def _userinfo(self, url: str, tokens: _Tokens, sub: object) -> Mapping[str, Json]:
        if tokens.access_token is None:
            raise UpstreamRejected("Your school's login server sent no access token, so Loper "
                                   "cannot read the user info.")
        answer = self.http.get(url, "user info",
                               {"Authorization": f"Bearer {tokens.access_token}"})
        if answer.status != 200:
            raise UpstreamRejected("Your school's login server refused to give the user info "
                                   f"(HTTP status {answer.status}).")
        if answer.body.get("sub") != sub:  # OIDC Core 5.3.2: token substitution
            raise UpstreamRejected("The user info from your school's login server is about "
                                   "another user than its ID token (sub differs).")
        return answer.body

    def _replay_ttl(self, claims: Mapping[str, object], now: float) -> int:
        exp = claims.get("exp")  # a number: the ID token's checks passed
        left = (int(exp - now) if is_time(exp) else 0) + self.config.clock_skew
        return max(1, min(left, REPLAY_TTL_MAX))


def _oidc(school: School) -> OidcSchool:
    if not isinstance(school.config, OidcSchool):
        raise UpstreamRejected(f"{school.name} is not registered as an OpenID Connect school.")
    return school.config


def _client_secret(oidc: OidcSchool) -> str:
    secret = oidc.client_secret or (
        os.environ.get(oidc.client_secret_env) if oidc.client_secret_env else None)
    if not secret:
        where = (f"environment variable {oidc.client_secret_env}" if oidc.client_secret_env
                 else "client_secret in the federation file")
        raise UpstreamRejected(f"Loper has no client secret for your school; the operator "
                               f"must set {where}.")
    return secret


def _client_auth(oidc: OidcSchool, info: ProviderInfo) -> Credentials:
    """client_secret_basic unless the school offers client_secret_post only. RFC 6749 2.3.1:
    for basic, both parts are form-urlencoded first, which authlib leaves to its caller."""
    secret = _client_secret(oidc)
    methods = info.token_auth_methods
    if "client_secret_basic" not in methods and "client_secret_post" in methods:
        return credentials(oidc.client_id, secret, "client_secret_post")
    return credentials(quote(oidc.client_id, safe=""), quote(secret, safe=""),
                       "client_secret_basic")


def _token_refused(status: int, error: object) -> UpstreamRejected:
    code = safe_code(error)
    hints = {"invalid_grant": " The login code was used before or has expired; please log "
                              "in again.",
             "invalid_client": " Loper's client id or secret for your school is wrong."}
    return UpstreamRejected(f"Your school's login server refused to hand out tokens "
                            f"(HTTP status {status}, error '{code}').{hints.get(code, '')}")


def _identity(school: School, oidc: OidcSchool, claims: Mapping[str, object],
              now: float) -> Identity:
    subject = claims.get(oidc.subject)
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 1024:
        raise UpstreamRejected(f"Your school's login server sent no usable '{oidc.subject}' "
                               "claim to identify the user (one text value is needed).")
    auth_time = claims.get("auth_time")
    acr = claims.get("acr")
    instant = datetime.fromtimestamp(auth_time if is_time(auth_time) else now, UTC)
    attributes = read_claims(school, claims)
    return Identity(school_id=school.id, subject=subject, attributes=attributes,
                    authn=AuthnContext(instant, acr if isinstance(acr, str) else None,
                                       stated=is_time(auth_time)))


def _replay_key(issuer: str, claims: Mapping[str, object], raw: str) -> str:
    jti = claims.get("jti")
    unique = jti if isinstance(jti, str) and jti else raw
    return "oidc-id-token:" + hashlib.sha256(f"{issuer}\n{unique}".encode()).hexdigest()

