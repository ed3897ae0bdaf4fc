"""The blueprint over HTTP, with authlib's OAuth2Session as a real relying party library.

The login journey is replaced by a stand-in for `start_login` that lets the pupil log in at
once; everything else (blueprint, OidcOp, SQLite store, error handler) is the real thing.
OpenID conformance (Basic OP): oidcc-server, oidcc-server-client-secret-post,
oidcc-ensure-post-request-succeeds, oidcc-userinfo-get / -post-header,
oidcc-ensure-registered-redirect-uri, oidcc-codereuse; discovery and JWKS documents.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import Flask, Response
from flask.testing import FlaskClient
from joserfc.jwk import KeySet, RSAKey
from requests.structures import CaseInsensitiveDict
from werkzeug.test import TestResponse

from broker.downstream import DownstreamRequest
from broker.downstream.oidc_op import OidcOp
from broker.records import Supplier
from broker.settings import load_settings
from broker.web import errors, i18n
from broker.web import oidc as oidc_web
from broker.web.respond import to_response
from tests.downstream.oidc.conftest import (
    ISSUER,
    REDIRECT,
    REDIRECT_VARIANTS,
    SECRET,
    TOKEN_URL,
    Rp,
    make_supplier,
    pkce_pair,
    query_of,
    released_for,
    verify_id_token,
)

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
ERROR_ID = re.compile(r"[0-9a-f]{12}")


class NoSuppliers:
    def supplier(self, supplier_id: str) -> None:
        return None


class FakeBroker:
    """What the blueprint and the error pages need from the Broker: its downstreams (here only
    the OIDC one), the settings and a registry (that knows no app to link back to)."""

    def __init__(self, op: OidcOp | None) -> None:
        self.downstreams = {"oidc": op} if op else {}
        self.settings = load_settings({"base_url": "http://127.0.0.1:5000"})
        self.registry = NoSuppliers()


@dataclass
class Harness:
    app: Flask
    client: FlaskClient
    started: list[DownstreamRequest] = field(default_factory=list)


class FlaskAdapter(requests.adapters.BaseAdapter):
    """Lets a requests-based client (OAuth2Session) talk to the Flask test client."""

    def __init__(self, client: FlaskClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        answer = self.client.open(url.path, base_url=f"{url.scheme}://{url.netloc}",
                                  query_string=url.query, method=request.method or "GET",
                                  headers=dict(request.headers), data=request.body)
        response = requests.Response()
        response.status_code, response.url, response.request = (
            answer.status_code, request.url or "", request)
        response._content = answer.get_data()
        response.headers = CaseInsensitiveDict(dict(answer.headers))
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def harness(op: OidcOp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    app = Flask("oidc-test", template_folder=str(TEMPLATES))
    i18n.init_app(app)
    errors.init_app(app)
    app.register_blueprint(oidc_web.bp)
    app.extensions["loper"] = FakeBroker(op)
    the = Harness(app, app.test_client())

    def logged_in_at_once(req: DownstreamRequest, protocol: str) -> Response:
        assert protocol == "oidc"
        the.started.append(req)
        return to_response(op.respond(req.supplier, req.request, released_for(req.supplier)))

    monkeypatch.setattr(oidc_web, "start_login", logged_in_at_once)
    with app.app_context():
        yield the


def session_for(harness: Harness, **kwargs: Any) -> OAuth2Session:
    session = OAuth2Session(scope="openid profile email", redirect_uri=REDIRECT,
                            code_challenge_method="S256", **kwargs)
    session.mount(ISSUER, FlaskAdapter(harness.client))
    return session


def authorize(harness: Harness, session: OAuth2Session, verifier: str,
              **extra: str) -> tuple[str, str]:
    """Send the browser to Loper's authorization endpoint; return the RP callback URL."""
    url, state = session.create_authorization_url(ISSUER + "/oidc/authorize",
                                                  code_verifier=verifier, **extra)
    answer = harness.client.get(url)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer.headers["Location"], state


def test_discovery_and_jwks_over_http(harness: Harness, op: OidcOp) -> None:
    doc = harness.client.get("/.well-known/openid-configuration")
    assert doc.status_code == 200 and doc.mimetype == "application/json"
    assert doc.json is not None and doc.json["issuer"] == ISSUER
    jwks = harness.client.get("/oidc/jwks")
    assert jwks.status_code == 200 and jwks.json is not None
    assert all(key["kid"] for key in jwks.json["keys"])
    assert (doc.json, jwks.json) == (op.discovery(), op.jwks())
    assert doc.headers["Cache-Control"] == "public, max-age=3600"
    assert jwks.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_code_flow_with_authlib_oauth2session(harness: Harness, auth_method: str) -> None:
    session = session_for(harness, client_id="taalapp", client_secret=SECRET,
                          token_endpoint_auth_method=auth_method)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    callback, state = authorize(harness, session, verifier, nonce=nonce)
    answer = query_of(callback)
    assert answer["iss"] == ISSUER and answer["state"] == state  # RFC 9207: the RP checks iss
    token = session.fetch_token(TOKEN_URL, authorization_response=callback,
                                code_verifier=verifier)
    claims = verify_id_token(harness.app.extensions["loper"].downstreams["oidc"],
                             token["id_token"]).claims
    assert claims["nonce"] == nonce and claims["aud"] == "taalapp"
    assert claims["sub"] == released_for(make_supplier()).subject
    info = session.get(ISSUER + "/oidc/userinfo")
    assert info.status_code == 200 and info.headers["Cache-Control"] == "no-store"
    assert info.json()["sub"] == claims["sub"] and info.json()["given_name"] == "Anna"
    posted = session.post(ISSUER + "/oidc/userinfo")
    assert posted.status_code == 200 and posted.json() == info.json()


def test_code_flow_with_private_key_jwt(harness: Harness, suppliers: dict[str, Supplier]) -> None:
    key = RSAKey.generate_key(2048)
    suppliers["jwtapp"] = make_supplier(
        "jwtapp", client_secret=None, jwks=json.dumps(KeySet([key]).as_dict(private=False)))
    session = session_for(harness, client_id="jwtapp", client_secret=key,
                          token_endpoint_auth_method=PrivateKeyJWT(TOKEN_URL))
    verifier = secrets.token_urlsafe(48)
    callback, _ = authorize(harness, session, verifier)
    token = session.fetch_token(TOKEN_URL, authorization_response=callback,
                                code_verifier=verifier)
    assert token["token_type"] == "Bearer" and token["id_token"]


def _authorize_query(**change: str | None) -> dict[str, str]:
    verifier, challenge = pkce_pair()
    query: dict[str, str | None] = {
        "client_id": "taalapp", "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid", "state": "xyz", "code_challenge": challenge,
        "code_challenge_method": "S256", **change}
    return {k: v for k, v in query.items() if v is not None}


def test_authorize_by_post_and_the_passive_request(harness: Harness) -> None:
    answer = harness.client.post("/oidc/authorize", data=_authorize_query(prompt="none"))
    assert answer.status_code == 303 and "code" in query_of(answer.headers["Location"])
    assert harness.started[-1].passive


@pytest.mark.parametrize("redirect_uri", list(REDIRECT_VARIANTS.values()),
                         ids=list(REDIRECT_VARIANTS))
def test_unregistered_redirect_uris_get_an_error_page(harness: Harness,
                                                      redirect_uri: str) -> None:
    answer = harness.client.get("/oidc/authorize?" + urlencode(
        _authorize_query(redirect_uri=redirect_uri)))
    assert 400 <= answer.status_code < 500 and "Location" not in answer.headers
    assert answer.mimetype == "text/html" and not harness.started
    assert "evil" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    [("redirect_uri", REDIRECT), ("redirect_uri", "https://evil.example/cb")],
    [("redirect_uri", "https://evil.example/cb"), ("redirect_uri", REDIRECT)],
    [("redirect_uri", REDIRECT), ("redirect_uri", REDIRECT)],
    [("client_id", "taalapp"), ("redirect_uri", REDIRECT)],
], ids=["valid first", "valid last", "same twice", "client_id twice"])
def test_duplicate_client_or_redirect_parameters_get_an_error_page(
        harness: Harness, query: list[tuple[str, str]]) -> None:
    # every case names redirect_uri itself, so the base leaves it out
    base = [(k, v) for k, v in _authorize_query(redirect_uri=None).items()]
    answer = harness.client.get("/oidc/authorize?" + urlencode(base + query))
    # 400 (BadRequest: repeated), not the 403 of a missing or unregistered redirect_uri
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert not harness.started


def test_a_missing_redirect_uri_gets_an_error_page(harness: Harness) -> None:
    """OIDC Core 3.1.2.1: required, even though taalapp registered just one."""
    for method in ("GET", "POST"):
        query = _authorize_query(redirect_uri=None)
        answer = (harness.client.get("/oidc/authorize?" + urlencode(query)) if method == "GET"
                  else harness.client.post("/oidc/authorize", data=query))
        assert 400 <= answer.status_code < 500 and "Location" not in answer.headers
        assert answer.mimetype == "text/html" and not harness.started


def test_a_token_request_without_redirect_uri_is_invalid_grant(harness: Harness) -> None:
    verifier, challenge = pkce_pair()
    answer = harness.client.get("/oidc/authorize?" + urlencode(
        _authorize_query(code_challenge=challenge)))
    assert answer.status_code == 303
    code = query_of(answer.headers["Location"])["code"]
    reply = harness.client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier},
        auth=("taalapp", SECRET))
    assert reply.status_code == 400 and reply.json is not None
    assert reply.json["error"] == "invalid_grant"


def test_unknown_client_gets_an_error_page(harness: Harness) -> None:
    answer = harness.client.get("/oidc/authorize?" + urlencode(_authorize_query(
        client_id="nobody")))
    assert answer.status_code == 404 and "Location" not in answer.headers


def test_other_errors_are_redirected_with_iss(harness: Harness) -> None:
    answer = harness.client.get("/oidc/authorize?" + urlencode(_authorize_query(
        code_challenge_method="plain")))
    assert answer.status_code == 303
    query = query_of(answer.headers["Location"])
    assert (query["error"], query["state"], query["iss"]) == ("invalid_request", "xyz", ISSUER)


def test_token_endpoint_errors_over_http(harness: Harness) -> None:
    bad = harness.client.post("/oidc/token", data={"grant_type": "authorization_code",
                                                   "code": "x"}, auth=("taalapp", "wrong"))
    assert bad.status_code == 401 and bad.json is not None
    assert bad.json["error"] == "invalid_client"
    assert bad.headers["WWW-Authenticate"] == 'Basic realm="loper"'
    assert bad.headers["Cache-Control"] == "no-store"
    replay = harness.client.post("/oidc/token", data="grant_type=authorization_code&code=a&code=b",
                                 content_type="application/x-www-form-urlencoded",
                                 auth=("taalapp", SECRET))
    assert replay.status_code == 400 and replay.json is not None
    assert replay.json == {"error": "invalid_request",
                           "error_description": "A request parameter is repeated.",
                           "error_id": replay.json["error_id"]}
    assert ERROR_ID.fullmatch(replay.json["error_id"])


Call = Callable[[Harness, OidcOp, dict[str, Supplier]], TestResponse]
BASIC_FAILED = ("The client cannot authenticate with client_secret_basic, client_secret_post or "
                "private_key_jwt.")


def _widened_refresh(harness: Harness, op: OidcOp,
                     suppliers: dict[str, Supplier]) -> TestResponse:
    tokens = Rp(op, suppliers["rekenapp"]).tokens(scope="openid offline_access")
    return harness.client.post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "scope": "openid offline_access admin"}, auth=("rekenapp", SECRET))


ERROR_CASES: dict[str, tuple[Call, int, str, str | None, str | None]] = {
    # call, status, error, error_description (None: any sentence), WWW-Authenticate
    "token: wrong secret": (
        lambda h, _op, _s: h.client.post("/oidc/token", data={
            "grant_type": "authorization_code", "code": "x"}, auth=("taalapp", "wrong")),
        401, "invalid_client", BASIC_FAILED, 'Basic realm="loper"'),
    "token: no client authentication": (
        lambda h, _op, _s: h.client.post("/oidc/token", data={
            "grant_type": "authorization_code", "code": "x"}),
        401, "invalid_client", BASIC_FAILED, 'Basic realm="loper"'),
    "token: unknown code": (
        lambda h, _op, _s: h.client.post("/oidc/token", data={
            "grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT,
            "code_verifier": "v" * 43}, auth=("taalapp", SECRET)),
        400, "invalid_grant", None, None),
    "token: unsupported grant_type": (
        lambda h, _op, _s: h.client.post("/oidc/token", data={"grant_type": "password"},
                                         auth=("taalapp", SECRET)),
        400, "unsupported_grant_type",
        "The grant_type is not supported: use authorization_code or refresh_token.", None),
    "token: wider scope": (_widened_refresh, 400, "invalid_scope", None, None),
    "revoke: wrong secret": (
        lambda h, _op, _s: h.client.post("/oidc/revoke", data={"token": "x"},
                                         auth=("taalapp", "wrong")),
        401, "invalid_client", BASIC_FAILED, 'Basic realm="loper"'),
    "revoke: no token": (
        lambda h, _op, _s: h.client.post("/oidc/revoke", data={"token_type_hint": "id_token"},
                                         auth=("taalapp", SECRET)),
        400, "invalid_request", "token is missing.", None),
    "userinfo: unknown token": (
        lambda h, _op, _s: h.client.get("/oidc/userinfo",
                                        headers={"Authorization": "Bearer nonsense"}),
        401, "invalid_token", "The access token is invalid or expired.",
        'Bearer realm="loper", error="invalid_token"'),
    "userinfo: no token": (
        lambda h, _op, _s: h.client.post("/oidc/userinfo"),
        401, "invalid_request", "An access token is required.", 'Bearer realm="loper"'),
    "userinfo: token twice": (
        lambda h, _op, _s: h.client.post("/oidc/userinfo", data={"access_token": "a"},
                                         headers={"Authorization": "Bearer b"}),
        400, "invalid_request", "Send the access token once.",
        'Bearer realm="loper", error="invalid_request"'),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_every_error_carries_an_error_id_that_its_log_line_names(
        harness: Harness, op: OidcOp, suppliers: dict[str, Supplier], case: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """README "Endpoints": a JSON OAuth error (RFC 6749 5.2, RFC 6750 3) with an error id, the
    same id logged next to the reason, so a supplier's helpdesk can quote it."""
    call, status, error, description, challenge = ERROR_CASES[case]
    caplog.set_level(logging.INFO, logger="loper.oidc")
    answer = call(harness, op, suppliers)
    assert answer.status_code == status and answer.mimetype == "application/json"
    body = answer.json
    assert body is not None and set(body) == {"error", "error_description", "error_id"}
    assert body["error"] == error and ERROR_ID.fullmatch(body["error_id"])
    said = body["error_description"]
    assert said == description if description else said[:1].isupper() and said.endswith(".")
    assert "[" not in said and "]" not in said  # a sentence, never a Python list
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers.get("WWW-Authenticate") == challenge
    logged = [vars(r) for r in caplog.records if vars(r).get("error_id") == body["error_id"]]
    assert len(logged) == 1 and logged[0]["name"] == "loper.oidc"
    assert (logged[0]["error"], logged[0]["status"], logged[0]["detail"]) == (error, status, said)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", "/oidc/token", "OPTIONS, POST"),
    ("PUT", "/oidc/token", "OPTIONS, POST"),
    ("GET", "/oidc/revoke", "OPTIONS, POST"),
    ("DELETE", "/oidc/userinfo", "GET, HEAD, OPTIONS, POST"),
    ("POST", "/oidc/jwks", "GET, HEAD, OPTIONS"),
    ("DELETE", "/.well-known/openid-configuration", "GET, HEAD, OPTIONS"),
])
def test_a_405_names_the_methods_the_url_answers(harness: Harness, method: str, path: str,
                                                 allowed: str) -> None:
    """RFC 9110 15.5.6: a 405 MUST carry Allow; the methods are those the URL does answer,
    as its answer to OPTIONS says."""
    answer = harness.client.open(path, method=method)
    assert answer.status_code == 405 and answer.mimetype == "application/json"
    assert answer.headers["Allow"] == allowed
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json
    assert body is not None and body["error"] == "invalid_request"
    assert "Allow" in body["error_description"] and ERROR_ID.fullmatch(body["error_id"])
    options = harness.client.options(path)
    assert options.status_code == 200
    assert sorted(options.headers["Allow"].split(", ")) == allowed.split(", ")


@pytest.mark.parametrize("hint", ["id_token", "access_token", "refresh_token", "urn:x:made-up"])
def test_revoking_an_unknown_token_is_200_whatever_the_hint(harness: Harness, hint: str) -> None:
    """RFC 7009 2.1: a hint the server cannot use makes it search all its token types; 2.2: an
    unknown token is answered 200. 401 is for invalid_client alone (RFC 6749 5.2)."""
    answer = harness.client.post("/oidc/revoke", data={"token": "nonsense",
                                                       "token_type_hint": hint},
                                 auth=("taalapp", SECRET))
    assert answer.status_code == 200 and answer.json == {}
    assert answer.headers["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in answer.headers


def test_code_reuse_over_http(harness: Harness) -> None:
    verifier, challenge = pkce_pair()
    answer = harness.client.get("/oidc/authorize?" + urlencode(_authorize_query(
        code_challenge=challenge)))
    form = {"grant_type": "authorization_code", "code": query_of(answer.headers["Location"])[
        "code"], "redirect_uri": REDIRECT, "code_verifier": verifier}
    first = harness.client.post("/oidc/token", data=form, auth=("taalapp", SECRET))
    assert first.status_code == 200 and first.json is not None
    second = harness.client.post("/oidc/token", data=form, auth=("taalapp", SECRET))
    assert second.status_code == 400 and second.json is not None
    assert second.json["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {first.json['access_token']}"}
    info = harness.client.get("/oidc/userinfo", headers=bearer)
    assert info.status_code == 401
    assert info.headers["WWW-Authenticate"] == 'Bearer realm="loper", error="invalid_token"'


def test_userinfo_and_revocation_over_http(harness: Harness) -> None:
    missing = harness.client.get("/oidc/userinfo")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == (
        'Bearer realm="loper"')
    revoked = harness.client.post("/oidc/revoke", data={"token": "unknown"},
                                  auth=("taalapp", SECRET))
    assert revoked.status_code == 200 and revoked.headers["Cache-Control"] == "no-store"
    unauthenticated = harness.client.post("/oidc/revoke", data={"token": "unknown"})
    assert unauthenticated.status_code == 401


def test_without_an_openid_provider_the_endpoints_are_absent(harness: Harness) -> None:
    harness.app.extensions["loper"] = FakeBroker(None)
    for path in ("/.well-known/openid-configuration", "/oidc/jwks", "/oidc/authorize"):
        assert harness.client.get(path).status_code == 404
