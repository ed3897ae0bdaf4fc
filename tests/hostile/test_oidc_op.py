"""Loper as an OpenID Provider: a hostile relying party (or a thief of its codes and tokens)
against /oidc/authorize, /oidc/token and /oidc/userinfo of the running federation.

The attacker's client is the strict test RP (tests/flows/strict_rp.py, redirect URI on the
callback catcher at http://127.0.0.1:<port>/strict/cb), plus a client that authenticates with
private_key_jwt. An authorization request that cannot be answered at a checked redirect_uri
ends on Loper's error page: a 4xx, no Location header, no login started (nothing stored, the
school never asked). Later problems go back to the registered redirect_uri as the protocol's
error, never with a code. The token and userinfo endpoints answer with the protocol's JSON
error and issue nothing.

Classes and cases: redirect_uri variants 22, open redirects through error paths 8, code race 1,
PKCE 6, acr_values of absurd size 2, state and nonce injection 5, client authentication 11
(and 2 genuine baselines), refresh token reuse 1, userinfo 3, school and
idp_hint naming two schools 3.

Covered elsewhere and not repeated here:
- tests/downstream/oidc/test_authorize.py and test_http.py: 26 near misses of an https
  redirect_uri (prefix, suffix, path, case, userinfo, fragment, traversal, encodings, NUL,
  backslash, javascript:, data:, http, ports, query, host suffix, spaces, trailing dot), the
  same over HTTP; repeated client_id / redirect_uri; PKCE plain, missing or malformed
  challenges; state echoed verbatim against injection; request / request_uri refused.
- tests/downstream/oidc/test_token.py: a code bound to its client, replayed (revoking the first
  tokens), raced by two threads, expired; verifier checks; userinfo without a valid token.
- tests/downstream/oidc/test_client_auth.py: alg none and None, HS256 keyed with the public
  key or the secret, unknown kid, an unregistered key, an embedded jwk, jku, wrong or missing
  aud, expiry, lifetime, nbf, jti, iss and sub mismatches, a replayed assertion.
- tests/downstream/oidc/test_refresh_revoke.py: rotation, reuse revoking the family, racing
  refreshes, a refresh token bound to its client, scope widening.
- tests/certification/test_basic_op.py: oidcc-codereuse, oidcc-ensure-registered-redirect-uri
  and the rest of the Basic OP plan over HTTP.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from broker.downstream.oidc_clients import ASSERTION_TYPE
from broker.downstream.oidc_kind import OidcSupplier
from broker.records import Policy, Supplier
from broker.registry.federation import UNPINNED
from broker.registry.federation import Federation as RegistryFederation
from tests.certs import cert_b64, self_signed
from tests.flows.conftest import Federation
from tests.flows.oidc_clients import RpClient, register_client, strict_rp
from tests.flows.strict_rp import Login, StrictRp
from tests.hostile.attacker import (
    Listener,
    LogSink,
    StateWatch,
    Traffic,
    reason_coded,
    refused,
    send,
)
from tests.peers.browser import Browser


def authorize(rp: StrictRp, browser: Browser, **params: str | None) -> tuple[Login, str]:
    """An authorization request answered from the session: (login, its Location)."""
    login = rp.begin(school="regenboog", **params)
    response = send(browser, "GET", login.url)
    assert response.status_code == 303, response.text[:400]
    return login, response.headers["Location"]


def code_for(rp: StrictRp, browser: Browser, **params: str | None) -> tuple[Login, str]:
    login, location = authorize(rp, browser, **params)
    return login, rp.code(login, location)


class Front:
    """The authorization endpoint as the attacker uses it, with the refusal checks."""

    def __init__(self, federation: Federation, state: StateWatch, traffic: Traffic,
                 logs: LogSink) -> None:
        self.federation, self.state, self.traffic, self.logs = federation, state, traffic, logs
        self.url = federation.issuer + "/oidc/authorize"

    def refuses(self, browser: Browser, fields: dict[str, str],
                status: int | tuple[int, ...] = (400, 403, 404), method: str = "GET",
                **kwargs: Any) -> requests.Response:
        mark = self.logs.mark()
        with self.state.unchanged(), self.traffic.none():
            if method == "GET":
                response = send(browser, "GET", f"{self.url}?{urlencode(fields)}", **kwargs)
            else:
                response = send(browser, method, self.url, data=fields, **kwargs)
        refused(response, status)
        reason_coded(self.logs.since(mark))
        return response


@pytest.fixture
def front(federation: Federation, state: StateWatch, traffic: Traffic, logs: LogSink) -> Front:
    return Front(federation, state, traffic, logs)


# -- redirect_uri: exact match only, and a mismatch is never a redirect ---------------------

def _variants(registered: str) -> dict[str, str]:
    """Near misses of a loopback redirect URI http://127.0.0.1:<port>/strict/cb."""
    origin, path = registered.rsplit("/strict/cb", 1)[0], "/strict/cb"
    port = origin.rsplit(":", 1)[1]
    return {
        "localhost": f"http://localhost:{port}{path}",
        "127.1": f"http://127.1:{port}{path}",
        "decimal IP": f"http://2130706433:{port}{path}",
        "hex IP": f"http://0x7f000001:{port}{path}",
        "IPv6 loopback": f"http://[::1]:{port}{path}",
        "IPv4-mapped IPv6": f"http://[::ffff:127.0.0.1]:{port}{path}",
        "trailing dot": f"http://127.0.0.1.:{port}{path}",
        "scheme in upper case": registered.replace("http://", "HTTP://"),
        "https": registered.replace("http://", "https://"),
        "empty query": registered + "?",
        "empty fragment": registered + "#",
        "encoded space": registered + "%20",
        "double slash": f"{origin}/strict//cb",
        "dot segment": f"{origin}/strict/./cb",
        "path in upper case": f"{origin}/STRICT/cb",
        "matrix parameter": registered + ";x=y",
        "scheme-relative": registered.replace("http:", ""),
        "missing slash": registered.replace("http://", "http:/"),
        "tab in the host": registered.replace("127.0.0.1", "127.0.0.1\t"),
        "CRLF and a header": registered + "\r\nLocation: https://evil.example/",
        "userinfo to evil": f"http://127.0.0.1:{port}@evil.example{path}",
        "fragment to the real one": f"https://evil.example/#@127.0.0.1:{port}{path}",
    }


VARIANT_NAMES = list(_variants("http://127.0.0.1:1/strict/cb"))


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_a_redirect_uri_near_miss_is_never_redirected_to(
        front: Front, rp: StrictRp, pupil: Browser, strict_client: RpClient, name: str) -> None:
    """Even with a pupil's session at hand, Loper issues no code and redirects nowhere."""
    login = rp.begin(school="regenboog",
                     redirect_uri=_variants(strict_client.redirect_uri)[name])
    front.refuses(pupil, login.params, 403)


# -- open redirects through error paths -----------------------------------------------------

EVIL = "https://evil.example/cb"


ERRORS = {"response_type=token": {"response_type": "token"}, "prompt=none": {"prompt": "none"},
          "request_uri": {"request_uri": "https://evil.example/request"},
          "no openid scope": {"scope": "profile"}}


@pytest.mark.parametrize("name", ERRORS)
def test_an_error_with_an_unchecked_redirect_uri_is_a_page(front: Front, rp: StrictRp,
                                                           browser: Browser, name: str) -> None:
    """The request has a second problem that would go back to the redirect_uri: Loper does
    not send it there, since that redirect_uri is not registered."""
    login = rp.begin(redirect_uri=EVIL, **ERRORS[name])
    front.refuses(browser, login.params, 403)


def test_another_clients_redirect_uri_is_refused(front: Front, rp: StrictRp, pupil: Browser,
                                                 federation: Federation) -> None:
    leesplein = federation.registry.supplier("leesplein")
    assert leesplein is not None and leesplein.protocol == "oidc"
    login = rp.begin(school="regenboog", redirect_uri=leesplein.config.redirect_uris[0])
    front.refuses(pupil, login.params, 403)


def test_a_post_reads_its_redirect_uri_from_the_form_only(front: Front, rp: StrictRp,
                                                          pupil: Browser) -> None:
    genuine = rp.begin(school="regenboog")
    form = {**genuine.params, "redirect_uri": EVIL}
    front.refuses(pupil, form, 403, method="POST", params={"redirect_uri": rp.redirect_uri})


def test_an_unknown_client_with_a_redirect_uri_is_a_page(front: Front, browser: Browser,
                                                         rp: StrictRp) -> None:
    login = rp.begin(client_id="not-registered", redirect_uri=EVIL)
    front.refuses(browser, login.params, 404)


HINT_CONFLICTS = {
    "school and idp_hint": {"school": "regenboog", "idp_hint": "lyceum"},
    "idp_hint and school": {"idp_hint": "regenboog", "school": "lyceum"},
    "one of them an unknown school": {"school": "regenboog", "idp_hint": "no-such-school"},
}


@pytest.mark.parametrize("case", HINT_CONFLICTS)
def test_hints_naming_two_schools_are_refused(front: Front, rp: StrictRp, pupil: Browser,
                                              case: str) -> None:
    """Neither wins silently: the pupil would log in at a school the app did not mean."""
    login = rp.begin(**HINT_CONFLICTS[case])
    page = front.refuses(pupil, login.params, 400)
    refused(page, 400, "school and idp_hint name different schools")
    assert "Opnieuw beginnen bij" in page.text  # the way back to the app


def test_hints_naming_one_school_twice_are_answered(rp: StrictRp, pupil: Browser) -> None:
    """The control for the refusals above."""
    login = rp.begin(school="regenboog", idp_hint=" regenboog ")
    response = send(pupil, "GET", login.url)
    assert response.status_code == 303, response.text[:400]


def test_a_prompt_none_error_goes_only_to_the_registered_uri(
        federation: Federation, rp: StrictRp, browser: Browser, state: StateWatch,
        traffic: Traffic) -> None:
    login = rp.begin(prompt="none", school="regenboog")
    with state.unchanged(), traffic.none():
        response = send(browser, "GET", login.url)
    assert response.status_code == 303
    answer = rp.answer(login, response.headers["Location"])
    assert answer["error"] == "login_required" and "code" not in answer


# -- codes: one redemption, whoever races ---------------------------------------------------

def test_two_threads_redeeming_one_code_get_one_token(rp: StrictRp, pupil: Browser,
                                                      strict_client: RpClient,
                                                      federation: Federation) -> None:
    login, code = code_for(rp, pupil)
    gate = threading.Barrier(2)
    results: list[requests.Response] = []

    def redeem() -> None:
        with requests.Session() as http:
            gate.wait()
            results.append(http.post(federation.issuer + "/oidc/token", timeout=10, data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": strict_client.redirect_uri, "code_verifier": login.verifier,
                "client_id": strict_client.client_id,
                "client_secret": strict_client.secret}))

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(r.status_code for r in results) == [200, 400]
    loser = next(r for r in results if r.status_code == 400)
    assert loser.json()["error"] == "invalid_grant" and "access_token" not in loser.json()


# -- PKCE ------------------------------------------------------------------------------------

def _pkce_case(rp: StrictRp, pupil: Browser, name: str) -> tuple[Login, str, str | None]:
    login, code = code_for(rp, pupil)
    other, _ = code_for(rp, pupil)
    verifiers: dict[str, str | None] = {
        "no verifier": None, "another login's verifier": other.verifier,
        "42 characters": login.verifier[:42], "a character outside RFC 7636": "+" * 43,
        "129 characters": "a" * 129,
    }
    return login, code, verifiers[name]


@pytest.mark.parametrize("name", ["no verifier", "another login's verifier", "42 characters",
                                  "a character outside RFC 7636", "129 characters"])
def test_a_wrong_verifier_gets_no_token_and_burns_the_code(rp: StrictRp, pupil: Browser,
                                                           name: str) -> None:
    login, code, verifier = _pkce_case(rp, pupil, name)
    refused_tokens = rp.redeem(login, code, code_verifier=verifier)
    assert refused_tokens.status == 400 and "access_token" not in refused_tokens.body
    assert refused_tokens.body["error"] in ("invalid_grant", "invalid_request")
    again = rp.redeem(login, code)  # the right verifier now: the code is gone
    assert again.status == 400 and again.body["error"] == "invalid_grant"


def test_leaving_out_the_challenge_is_an_error_without_a_code(rp: StrictRp, pupil: Browser,
                                                              state: StateWatch) -> None:
    with state.unchanged():
        login, location = authorize(rp, pupil, code_challenge=None,
                                    code_challenge_method=None)
    answer = rp.answer(login, location)
    assert answer["error"] == "invalid_request" and "code" not in answer


ACR_VALUES = {"2,000 classes": " ".join(f"urn:acr:{i}" for i in range(2000)),
              "a class of 50,000 characters": "urn:" + "a" * 50_000}


@pytest.mark.parametrize("name", ACR_VALUES)
def test_acr_values_of_absurd_size_are_an_error_without_a_login(
        rp: StrictRp, pupil: Browser, state: StateWatch, traffic: Traffic, name: str) -> None:
    """OIDC Core 3.1.2.6: invalid_request at the checked redirect_uri; the school is never asked
    and nothing is stored."""
    with state.unchanged(), traffic.none():
        login, location = authorize(rp, pupil, acr_values=ACR_VALUES[name])
    answer = rp.answer(login, location)
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert "acr_values" in answer["error_description"]


# -- state and nonce injection ----------------------------------------------------------------

STATES = ["a&code=evil&iss=https://evil.example", "x#fragment", "line\r\nSet-Cookie: a=b",
          "%26code%3Devil"]


@pytest.mark.parametrize("value", STATES)
def test_state_comes_back_verbatim_in_its_own_parameter(rp: StrictRp, pupil: Browser,
                                                        value: str) -> None:
    login, location = authorize(rp, pupil, state=value)
    assert "\r" not in location and "\n" not in location
    assert urlsplit(location).fragment == ""
    answer = rp.answer(login, location)
    assert set(answer) == {"code", "state", "iss"} and answer["state"] == value


def test_a_nonce_cannot_inject_claims(rp: StrictRp, pupil: Browser) -> None:
    nonce = 'n", "sub": "admin", "aud": "evil'
    login, code = code_for(rp, pupil, nonce=nonce)
    tokens = rp.redeem(login, code)
    assert tokens.status == 200
    assert tokens.id_token["nonce"] == nonce and tokens.id_token["aud"] == rp.client_id
    assert tokens.id_token["sub"] != "admin"


# -- client authentication --------------------------------------------------------------------

@pytest.fixture(scope="module")
def jwt_keys() -> dict[str, RSAKey | ECKey]:
    keys: dict[str, RSAKey | ECKey] = {"rsa": RSAKey.generate_key(2048),
                                       "attacker": RSAKey.generate_key(2048)}
    for key in keys.values():
        key.ensure_kid()
    return keys


@pytest.fixture(scope="module")
def jwt_client(federation: Federation, catcher: str, jwt_keys: dict[str, RSAKey | ECKey]) -> str:
    """A client that authenticates with private_key_jwt only (its RSA key registered)."""
    jwks = json.dumps(KeySet([jwt_keys["rsa"]]).as_dict(private=False))
    supplier = Supplier(id="jwt-rp", name="Jwt Rp", sector="jwt-rp",
                        key_version=UNPINNED, url=catcher + "/",
                        config=OidcSupplier(client_id="jwt-rp", jwks=jwks,
                                          redirect_uris=(f"{catcher}/jwt/cb",)))
    federation.registry.import_federation(
        RegistryFederation(suppliers=(supplier,),
                           policies=(Policy("regenboog", "jwt-rp", frozenset()),)),
        key_version=federation.broker.pseudonym_keys.current)
    return "jwt-rp"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _assertion(federation: Federation, key: RSAKey | ECKey, alg: str = "RS256",
               header: dict[str, Any] | None = None, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": "jwt-rp", "sub": "jwt-rp", "aud": federation.issuer + "/oidc/token",
            "iat": now, "exp": now + 60, "jti": secrets.token_hex(8), **claims}
    head = {"alg": alg, "kid": key.kid, **(header or {})}
    return jwt.encode(head, {k: v for k, v in body.items() if v is not None}, key,
                      algorithms=[alg])


def _x5c(key: RSAKey) -> list[str]:
    """A self-signed certificate for the attacker's key, as an x5c chain."""
    private = key.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    return [cert_b64(self_signed(private, "attacker", days=1))]


def _by_hand(federation: Federation, key: RSAKey, header: dict[str, Any]) -> str:
    """An RS256 assertion no JOSE library would write (e.g. with an unknown `crit`)."""
    now = int(time.time())
    claims = {"iss": "jwt-rp", "sub": "jwt-rp", "aud": federation.issuer + "/oidc/token",
              "iat": now, "exp": now + 60, "jti": secrets.token_hex(8)}
    signing_input = (_b64(json.dumps({"alg": "RS256", "kid": key.kid, **header}).encode())
                     + "." + _b64(json.dumps(claims).encode()))
    private = key.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


Auth = tuple[dict[str, str], dict[str, str]]
"""The form fields and headers of a token request's client authentication."""


def _jwt_auth(assertion: str, **extra: str) -> Auth:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **extra}, {}


def _basic(client_id: str, secret: str) -> Auth:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {}, {"Authorization": f"Basic {pair}"}


CLIENT_AUTH: dict[str, Any] = {  # name -> f(federation, keys, listener url, strict client)
    "x5c carrying the attacker's certificate": lambda f, k, url, c: _jwt_auth(_assertion(
        f, k["attacker"], header={"x5c": _x5c(k["attacker"]), "kid": k["rsa"].kid})),
    "x5u pointing at a listener": lambda f, k, url, c: _jwt_auth(_assertion(
        f, k["attacker"], header={"x5u": url + "/cert.pem", "kid": k["rsa"].kid})),
    "crit with an unknown extension": lambda f, k, url, c: _jwt_auth(_by_hand(
        f, k["rsa"], {"crit": ["exp-unknown"], "exp-unknown": True})),
    "kid with a path": lambda f, k, url, c: _jwt_auth(_assertion(
        f, k["rsa"], header={"kid": "../../keys/" + k["rsa"].kid})),
    "aud with a trailing slash": lambda f, k, url, c: _jwt_auth(_assertion(
        f, k["rsa"], aud=f.issuer + "/oidc/token/")),
    "sub naming another client": lambda f, k, url, c: _jwt_auth(_assertion(
        f, k["rsa"], sub=c.client_id)),
    "valid assertion, client_id of another client": lambda f, k, url, c: _jwt_auth(
        _assertion(f, k["rsa"]), client_id=c.client_id),
    "client_secret in the query string": lambda f, k, url, c: ({}, {}),
    "another client's secret in Basic": lambda f, k, url, c: _basic("jwt-rp", c.secret),
    "Basic with an empty password": lambda f, k, url, c: _basic(c.client_id, ""),
    "secret of one client, client_id of another": lambda f, k, url, c: (
        {"client_id": "jwt-rp", "client_secret": c.secret}, {}),
}



@pytest.mark.parametrize("auth", ["private_key_jwt", "client_secret_basic"])
def test_baseline_genuine_client_authentication_gets_past_to_the_code(
        federation: Federation, jwt_client: str, jwt_keys: dict[str, Any],
        strict_client: RpClient, auth: str) -> None:
    """The clients above are set up right: genuine credentials fail only on the bogus code."""
    form, headers = (_jwt_auth(_assertion(federation, jwt_keys["rsa"]))
                     if auth == "private_key_jwt"
                     else _basic(strict_client.client_id, strict_client.secret))
    response = requests.post(federation.issuer + "/oidc/token", timeout=10, headers=headers,
                             data={"grant_type": "authorization_code", "code": "x" * 43,
                                   "redirect_uri": strict_client.redirect_uri, **form})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("name", CLIENT_AUTH)
def test_hostile_client_authentication_is_401(federation: Federation, jwt_client: str,
                                              jwt_keys: dict[str, Any], strict_client: RpClient,
                                              state: StateWatch, name: str) -> None:
    with Listener() as listener:
        form, headers = CLIENT_AUTH[name](federation, jwt_keys, listener.url, strict_client)
        url = federation.issuer + "/oidc/token"
        if name == "client_secret in the query string":
            url += "?" + urlencode({"client_id": strict_client.client_id,
                                    "client_secret": strict_client.secret})
        with state.unchanged():
            response = requests.post(url, timeout=10, headers=headers, data={
                "grant_type": "authorization_code", "code": "x" * 43,
                "redirect_uri": strict_client.redirect_uri, **form})
    assert listener.connections == 0
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["Cache-Control"] == "no-store"
    assert "access_token" not in response.json()


# -- refresh tokens and userinfo --------------------------------------------------------------

@pytest.fixture(scope="module")
def offline_client(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, "offline-rp", [f"{catcher}/offline/cb"],
                           {"regenboog": ["given_name"]}, offline_access=True)


def test_a_reused_refresh_token_revokes_the_whole_grant(federation: Federation,
                                                        offline_client: RpClient,
                                                        pupil: Browser) -> None:
    with strict_rp(federation.issuer, offline_client) as offline:
        login, code = code_for(offline, pupil, scope="openid offline_access")
        first = offline.redeem(login, code)
        assert first.refresh_token
        second = offline.refresh(first.refresh_token)
        assert second.status == 200 and second.refresh_token
        replay = offline.refresh(first.refresh_token)
        assert replay.status == 400 and replay.body["error"] == "invalid_grant"
        assert offline.userinfo(second.access_token).status_code == 401
        assert second.refresh_token is not None
        assert offline.refresh(second.refresh_token).status == 400


USERINFO = {  # name -> (how the token is sent, expected status)
    "access token in the query string": ("query", 401),
    "access token in the header and the body": ("twice", 400),
    "the ID token as a bearer token": ("id_token", 401),
}


@pytest.mark.parametrize("name", USERINFO)
def test_userinfo_refuses_tokens_out_of_place(rp: StrictRp, pupil: Browser,
                                              federation: Federation, name: str) -> None:
    login, code = code_for(rp, pupil)
    tokens = rp.redeem(login, code)
    url = federation.issuer + "/oidc/userinfo"
    how, status = USERINFO[name]
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}
    if how == "query":
        response = requests.get(url, params={"access_token": tokens.access_token}, timeout=10)
    elif how == "twice":
        response = requests.post(url, data={"access_token": tokens.access_token},
                                 headers=bearer, timeout=10)
    else:
        response = requests.get(url, timeout=10,
                                headers={"Authorization": f"Bearer {tokens.body['id_token']}"})
    assert response.status_code == status
    assert "sub" not in response.json() and response.json()["error"]
