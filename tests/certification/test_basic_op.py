"""The OpenID Foundation's Basic OP certification plan (oidcc-basic-certification-test-plan),
run against the running demo federation over HTTP: Loper's OP in front of the SAML school
OBS De Regenboog, the plan's static clients played by the strict RP (requests + joserfc).

Each test is named after the plan's test module; the checks are those the module makes (its
failures as assertions, its warnings where Loper meets them too).

Covered:
  oidcc-discovery-endpoint-verification (and the JWKS it validates), oidcc-server,
  oidcc-response-type-missing, oidcc-idtoken-signature, oidcc-idtoken-rs256,
  oidcc-userinfo-get, oidcc-userinfo-post-header, oidcc-userinfo-post-body,
  oidcc-ensure-request-without-nonce-succeeds-for-code-flow, oidcc-scope-profile,
  oidcc-scope-email, oidcc-scope-address, oidcc-scope-phone, oidcc-scope-all,
  oidcc-ensure-other-scope-order-succeeds, oidcc-display-page, oidcc-display-popup,
  oidcc-prompt-login, oidcc-prompt-none-not-logged-in, oidcc-prompt-none-logged-in,
  oidcc-max-age-1, oidcc-max-age-10000, oidcc-ensure-request-with-unknown-parameter-succeeds,
  oidcc-id-token-hint, oidcc-login-hint, oidcc-ui-locales, oidcc-claims-locales,
  oidcc-ensure-request-with-acr-values-succeeds, oidcc-codereuse, oidcc-codereuse-30seconds
  (after a 1 s wait, see its test), oidcc-ensure-registered-redirect-uri,
  oidcc-ensure-post-request-succeeds, oidcc-ensure-redirect-uri-in-authorization-request,
  oidcc-redirect-uri-query-OK, oidcc-redirect-uri-query-mismatch, oidcc-redirect-uri-query-added
  (static-client equivalents of these dynamic-registration tests: the query URI is registered),
  oidcc-server-client-secret-post,
  oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported and
  oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported (both rejected as
  unsupported, which the plan accepts), oidcc-claims-essential, oidcc-refresh-token,
  oidcc-ensure-request-with-valid-pkce-succeeds.

Not applicable:
  oidcc-idtoken-unsigned (Loper does not offer alg "none"; the plan skips the test then),
  oidcc-ensure-request-object-with-redirect-uri (request objects are not supported),
  dynamic client registration (Loper's clients are registered by the operator).

Not supported (accepted and ignored, as OIDC Core allows; the tests show the login succeeds):
  id_token_hint (not checked against the session), login_hint, display, ui_locales and
  claims_locales (the picker's language follows Accept-Language), acr_values (the acr is the
  school's), the claims request parameter (claims_parameter_supported is false: the school's
  release decides), request and request_uri (answered request_not_supported /
  request_uri_not_supported).
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey
from joserfc.util import json_b64encode, urlsafe_b64encode

from tests.flows.conftest import (
    PASSWORD_PROTECTED,
    REGENBOOG,
    Federation,
    at_school_login,
    saml_request_to_school,
)
from tests.flows.oidc_clients import RpClient
from tests.flows.strict_rp import Login, StrictRp, Tokens
from tests.peers.browser import Browser

PROFILE = {"given_name": "Sanne", "family_name": "de Vries", "name": "Sanne de Vries"}
EMAIL = {"email": "sanne.devries@regenboog.example"}
ROLE = {"eduperson_affiliation": ["student"]}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def go(browser: Browser, federation: Federation, login: Login) -> None:
    """The browser follows the authorization request; the pupil logs in where asked."""
    browser.get(login.url)
    if "/discovery" in browser.url:
        browser.click(REGENBOOG)
    if at_school_login(browser):
        browser.login(federation.pupil.id)


def log_in(browser: Browser, federation: Federation, rp: StrictRp, scope: str = "openid",
           **params: str | None) -> Tokens:
    login = rp.begin(scope=scope, **params)
    go(browser, federation, login)
    return rp.finish(login, browser.url)


def expect_error_page(browser: Browser, federation: Federation, login: Login) -> None:
    """Loper shows its own error page and never redirects to the unchecked redirect URI."""
    browser.get(login.url)
    assert browser.url.startswith(f"{federation.issuer}/oidc/authorize"), browser.url
    assert 400 <= browser.page.status_code < 500
    assert "text/html" in browser.page.headers["Content-Type"]
    assert "Location" not in browser.page.headers


def is_https_or_loopback(url: object) -> bool:
    parts = urlsplit(str(url))
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname == "127.0.0.1")


# -- discovery and keys ------------------------------------------------------------------------

def test_oidcc_discovery_endpoint_verification(federation: Federation, rp: StrictRp) -> None:
    issuer = federation.issuer
    answer = rp.http.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    config = answer.json()
    assert config["issuer"] == issuer and "?" not in issuer and "#" not in issuer
    assert "code" in config["response_types_supported"]
    assert set(config["subject_types_supported"]) <= {"public", "pairwise"}
    assert config["subject_types_supported"]
    assert "RS256" in config["id_token_signing_alg_values_supported"]
    assert "none" not in config["id_token_signing_alg_values_supported"]  # idtoken-unsigned: n/a
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert is_https_or_loopback(config[name]) and config[name].startswith(issuer), name
    assert "registration_endpoint" not in config
    assert config["request_parameter_supported"] is False
    assert config["request_uri_parameter_supported"] is False  # its default is true
    assert config["claims_parameter_supported"] is False
    assert {"sub", "iss", "auth_time", "acr", "given_name", "email"} <= set(
        config["claims_supported"])
    assert "authorization_code" in config["grant_types_supported"]
    assert "openid" in config["scopes_supported"]
    assert all(re.fullmatch(r"[\x21\x23-\x5B\x5D-\x7E]+", s) for s in config["scopes_supported"])
    assert isinstance(config["code_challenge_methods_supported"], list)
    assert {"client_secret_basic", "client_secret_post"} <= set(
        config["token_endpoint_auth_methods_supported"])
    assert config["authorization_response_iss_parameter_supported"] is True


def test_oidcc_discovery_endpoint_verification_jwks(rp: StrictRp) -> None:
    answer = rp.http.get(rp.config["jwks_uri"], timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    keys = answer.json()["keys"]
    assert keys and len({k["kid"] for k in keys}) == len(keys)
    for key in keys:
        assert not PRIVATE_MEMBERS & key.keys(), "a private or symmetric key is published"
        assert key["kty"] in ("RSA", "EC") and key.get("use", "sig") == "sig"
        if key["kty"] == "RSA":
            assert RSAKey.import_key(key).raw_value.key_size >= 2048
    KeySet.import_key_set(answer.json())


# -- the login and its tokens ------------------------------------------------------------------

def test_oidcc_server(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    login = rp.begin(scope="openid")
    go(browser, federation, login)
    answer = rp.answer(login, browser.url)  # state and iss (RFC 9207) checked
    assert set(answer) == {"code", "state", "iss"}
    tokens = rp.redeem(login, answer["code"])  # client_secret_basic
    assert tokens.status == 200
    assert tokens.body["expires_in"] > 0 and tokens.body["scope"] == "openid"
    claims = tokens.id_token
    assert claims["aud"] == rp.client_id and claims["nonce"] == login.nonce
    assert claims["exp"] > claims["iat"] and isinstance(claims["auth_time"], int)
    assert claims["acr"] == PASSWORD_PROTECTED
    assert claims["sub"] == federation.pseudonym_of("regenboog", federation.pupil,
                                                    "certification")
    assert rp.userinfo(tokens.access_token).json()["sub"] == claims["sub"]


def test_oidcc_ensure_request_with_valid_pkce_succeeds(federation: Federation,
                                                       browser: Browser, rp: StrictRp) -> None:
    tokens = log_in(browser, federation, rp)
    assert tokens.status == 200  # every login here sends an S256 code_challenge
    assert "S256" in rp.config["code_challenge_methods_supported"]


def test_oidcc_response_type_missing(federation: Federation, browser: Browser,
                                     rp: StrictRp) -> None:
    login = rp.begin(response_type=None)
    browser.get(login.url)
    answer = rp.answer(login, browser.url)
    assert answer["error"] in ("invalid_request", "unsupported_response_type")
    assert "code" not in answer


def test_oidcc_idtoken_signature(federation: Federation, browser: Browser,
                                 rp: StrictRp) -> None:
    tokens = log_in(browser, federation, rp)
    raw = tokens.body["id_token"]
    header, payload, signature = raw.split(".")
    assert tokens.header["kid"] in {k.kid for k in rp.keys()}
    forged = json_b64encode({**tokens.id_token, "sub": "someone-else"}).decode()
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", rp.keys(), algorithms=["RS256"])


def test_oidcc_idtoken_rs256(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    tokens = log_in(browser, federation, rp)
    assert tokens.header["alg"] == "RS256"


@pytest.mark.parametrize("how", ["get", "post-header", "post-body"])
def test_oidcc_userinfo(federation: Federation, browser: Browser, rp: StrictRp,
                        how: str) -> None:
    """oidcc-userinfo-get, oidcc-userinfo-post-header, oidcc-userinfo-post-body."""
    tokens = log_in(browser, federation, rp, scope="openid profile")
    answer = rp.userinfo(tokens.access_token, how)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"sub": tokens.sub, **PROFILE, **ROLE}


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    tokens = log_in(browser, federation, rp, nonce=None)
    assert "nonce" not in tokens.id_token


# -- scopes ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("scope", "claims"), [
    ("openid profile", PROFILE | ROLE),  # oidcc-scope-profile
    ("openid email", EMAIL | ROLE),  # oidcc-scope-email
    ("openid address", ROLE),  # oidcc-scope-address: no address attribute in the vocabulary
    ("openid phone", ROLE),  # oidcc-scope-phone: no phone attribute in the vocabulary
    ("openid profile email address phone", PROFILE | EMAIL | ROLE),  # oidcc-scope-all
    ("email openid", EMAIL | ROLE),  # oidcc-ensure-other-scope-order-succeeds
])
def test_oidcc_scope(federation: Federation, browser: Browser, rp: StrictRp, scope: str,
                     claims: dict[str, object]) -> None:
    """oidcc-scope-profile, -email, -address, -phone, -all, oidcc-ensure-other-scope-order-
    succeeds: the standard claims of each scope that the school released, nothing else."""
    tokens = log_in(browser, federation, rp, scope=scope)
    assert tokens.claims == claims
    assert rp.userinfo(tokens.access_token).json() == {"sub": tokens.sub, **claims}


# -- request parameters that must be accepted -----------------------------------------------

@pytest.mark.parametrize("params", [
    {"display": "page"},  # oidcc-display-page
    {"display": "popup"},  # oidcc-display-popup
    {"login_hint": "sanne.devries@regenboog.example"},  # oidcc-login-hint
    {"ui_locales": "se"},  # oidcc-ui-locales
    {"claims_locales": "se"},  # oidcc-claims-locales
    {"extra": "foobar"},  # oidcc-ensure-request-with-unknown-parameter-succeeds
    {"acr_values": "1 2"},  # oidcc-ensure-request-with-acr-values-succeeds
], ids=["display-page", "display-popup", "login-hint", "ui-locales", "claims-locales",
        "unknown-parameter", "acr-values"])
def test_oidcc_request_parameter_accepted(federation: Federation, browser: Browser,
                                          rp: StrictRp, params: dict[str, str]) -> None:
    """oidcc-display-page, -display-popup, -login-hint, -ui-locales, -claims-locales,
    oidcc-ensure-request-with-unknown-parameter-succeeds, -with-acr-values-succeeds."""
    tokens = log_in(browser, federation, rp, **params)
    assert tokens.sub == federation.pseudonym_of("regenboog", federation.pupil, "certification")
    if "acr_values" in params:
        assert tokens.id_token["acr"] == PASSWORD_PROTECTED  # the school's, passed through


def test_oidcc_ensure_post_request_succeeds(federation: Federation, browser: Browser,
                                            rp: StrictRp) -> None:
    login = rp.begin()
    browser.post(rp.config["authorization_endpoint"], login.params)
    browser.click(REGENBOOG)
    browser.login(federation.pupil.id)
    assert rp.finish(login, browser.url).status == 200


def test_oidcc_claims_essential(federation: Federation, browser: Browser,
                                rp: StrictRp) -> None:
    claims = json.dumps({"userinfo": {"name": {"essential": True}}})
    tokens = log_in(browser, federation, rp, scope="openid profile", claims=claims)
    # the claims parameter is not supported: the release and the scope decide
    assert rp.userinfo(tokens.access_token).json()["name"] == "Sanne de Vries"


# -- prompt, max_age, id_token_hint --------------------------------------------------------

def test_oidcc_prompt_login(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    first = log_in(browser, federation, rp)
    time.sleep(1.1)  # auth_time has whole seconds: a new login must show a later one
    login = rp.begin(prompt="login")
    browser.get(login.url)
    assert at_school_login(browser), "the second login page must be shown"
    assert 'ForceAuthn="true"' in saml_request_to_school(browser, federation.running.school)
    browser.login(federation.pupil.id)
    second = rp.finish(login, browser.url)
    assert second.sub == first.sub
    assert second.id_token["auth_time"] > first.id_token["auth_time"]


def test_oidcc_prompt_none_not_logged_in(browser: Browser, rp: StrictRp) -> None:
    login = rp.begin(prompt="none")
    browser.get(login.url)
    answer = rp.answer(login, browser.url)
    assert answer["error"] in ("login_required", "interaction_required",
                               "account_selection_required", "consent_required")
    assert "code" not in answer


def test_oidcc_prompt_none_logged_in(federation: Federation, browser: Browser,
                                     rp: StrictRp) -> None:
    first = log_in(browser, federation, rp)
    login = rp.begin(prompt="none")
    browser.get(login.url)  # no interaction at all
    second = rp.finish(login, browser.url)
    assert second.sub == first.sub
    assert second.id_token["auth_time"] == first.id_token["auth_time"]


def test_oidcc_max_age_1(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    first = log_in(browser, federation, rp)
    time.sleep(2)  # as the plan's WaitFor2Seconds
    login = rp.begin(max_age="1")
    browser.get(login.url)
    assert at_school_login(browser), "the second login page must be shown"
    browser.login(federation.pupil.id)
    second = rp.finish(login, browser.url)  # the RP checks auth_time against max_age
    assert second.id_token["auth_time"] > first.id_token["auth_time"]


def test_oidcc_max_age_10000(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    first = log_in(browser, federation, rp)
    login = rp.begin(max_age="10000")
    browser.get(login.url)  # the session is recent enough: no login page
    second = rp.finish(login, browser.url)
    assert second.id_token["auth_time"] == first.id_token["auth_time"]


def test_oidcc_id_token_hint(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    first = log_in(browser, federation, rp)
    login = rp.begin(prompt="none", id_token_hint=first.body["id_token"])
    browser.get(login.url)
    second = rp.finish(login, browser.url)
    assert second.sub == first.sub
    assert second.id_token["auth_time"] == first.id_token["auth_time"]


# -- the authorization code ------------------------------------------------------------------

def test_oidcc_codereuse(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    login = rp.begin()
    go(browser, federation, login)
    code = rp.code(login, browser.url)
    first = rp.redeem(login, code)
    assert first.status == 200
    again = rp.redeem(login, code)
    assert again.status == 400 and again.body["error"] == "invalid_grant"
    assert rp.userinfo(first.access_token).status_code == 401  # RFC 6749 4.1.2: revoked


def test_oidcc_codereuse_30seconds(federation: Federation, browser: Browser,
                                   rp: StrictRp) -> None:
    """The plan waits 30 s to catch an OP that only remembers a code for a short while.
    Loper keeps a redeemed code's link to its grant as long as the grant's tokens live (the
    code lifetime plus the access token lifetime), so a short wait exercises the same path."""
    login = rp.begin()
    go(browser, federation, login)
    code = rp.code(login, browser.url)
    first = rp.redeem(login, code)
    assert first.status == 200
    time.sleep(1)
    again = rp.redeem(login, code)
    assert again.status == 400 and again.body["error"] == "invalid_grant"
    assert rp.userinfo(first.access_token).status_code == 401


def test_oidcc_server_client_secret_post(federation: Federation, browser: Browser,
                                         rp: StrictRp) -> None:
    login = rp.begin()
    go(browser, federation, login)
    tokens = rp.redeem(login, rp.code(login, browser.url), auth="post")
    assert tokens.status == 200 and tokens.sub


# -- redirect URIs ---------------------------------------------------------------------------

def test_oidcc_ensure_registered_redirect_uri(federation: Federation, browser: Browser,
                                              rp: StrictRp) -> None:
    login = rp.begin(redirect_uri="https://attacker.example/cb")
    expect_error_page(browser, federation, login)
    assert not any(urlsplit(r.url).hostname == "attacker.example" for r in browser.history)


def test_oidcc_ensure_redirect_uri_in_authorization_request(
        federation: Federation, browser: Browser, rp: StrictRp, client: RpClient) -> None:
    assert len(client.redirect_uris) > 1  # RFC 6749 3.1.2.3; see the module docstring
    expect_error_page(browser, federation, rp.begin(redirect_uri=None))


def test_oidcc_redirect_uri_query_ok(federation: Federation, browser: Browser,
                                     rp: StrictRp, client: RpClient) -> None:
    with_query = client.redirect_uris[1]
    login = rp.begin(redirect_uri=with_query)
    go(browser, federation, login)
    assert browser.url.startswith(with_query + "&")  # the query is kept, the answer added
    assert rp.finish(login, browser.url).status == 200


def test_oidcc_redirect_uri_query_mismatch(federation: Federation, browser: Browser,
                                           rp: StrictRp, client: RpClient) -> None:
    login = rp.begin(redirect_uri=client.redirect_uris[1].replace("foo=bar", "foo=zot"))
    expect_error_page(browser, federation, login)


def test_oidcc_redirect_uri_query_added(federation: Federation, browser: Browser,
                                        rp: StrictRp, client: RpClient) -> None:
    login = rp.begin(redirect_uri=client.redirect_uris[0] + "?another=1")
    expect_error_page(browser, federation, login)


# -- request objects ---------------------------------------------------------------------------

def unsigned_request_object(rp: StrictRp, login: Login) -> str:
    head = urlsafe_b64encode(b'{"alg":"none"}').decode()
    body = json_b64encode({**login.params, "iss": rp.client_id, "aud": rp.issuer}).decode()
    return f"{head}.{body}."


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    login = rp.begin()
    request_object = unsigned_request_object(rp, login)
    sent = rp.begin(state=login.state, request=request_object)
    browser.get(sent.url)
    answer = rp.answer(sent, browser.url)
    assert answer["error"] == "request_not_supported" and "code" not in answer


def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(
        federation: Federation, browser: Browser, rp: StrictRp, catcher: str) -> None:
    sent = rp.begin(request_uri=f"{catcher}/request.jwt")
    browser.get(sent.url)
    answer = rp.answer(sent, browser.url)
    assert answer["error"] == "request_uri_not_supported" and "code" not in answer


# -- refresh tokens ----------------------------------------------------------------------------

def test_oidcc_refresh_token(federation: Federation, browser: Browser, rp: StrictRp,
                             rp2: StrictRp) -> None:
    first = log_in(browser, federation, rp, scope="openid offline_access", prompt="consent")
    refresh = first.refresh_token
    assert refresh and re.fullmatch(r"[\x20-\x7E]+", refresh)  # RFC 6749 A.17
    second = rp.refresh(refresh)
    assert second.status == 200
    for claim in ("iss", "sub", "aud", "auth_time"):  # OIDC Core 12.2
        assert second.id_token[claim] == first.id_token[claim], claim
    assert second.id_token["iat"] >= first.id_token["iat"]
    assert rp.userinfo(second.access_token).json()["sub"] == first.sub
    assert second.refresh_token and second.refresh_token != refresh  # rotated
    assert rp.refresh(refresh).body["error"] == "invalid_grant"  # the old one is spent
    # a refresh token is bound to its client: client 2's token does not work for client 1
    other = log_in(browser, federation, rp2, scope="openid offline_access", prompt="consent")
    assert other.refresh_token
    refused = rp.refresh(other.refresh_token)
    assert refused.status == 400 and refused.body["error"] == "invalid_grant"
