"""The web edge: sessions and cookies, security headers, proxies and hosts, outbound fetches
caused by protocol input (SSRF), reflected markup and open redirects.

Covered elsewhere and not repeated here: tests/admin/test_auth.py (the admin login's rate
limit against X-Forwarded-For with and without a trusted proxy; admin CSRF and tenancy),
tests/core/test_app.py (the security headers on five pages of a fresh app).

Classes and cases: session fixation and upgrade 7, cookie flags 4, security headers on every
page 5, proxies and Host 4, outbound fetches caused by protocol input 12, reflected markup 3,
open redirects 3.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, request
from lxml import etree

from app import create_app
from broker.keys import KeyPair
from broker.web import health
from demo.keys import ensure_keypair
from demo.stack import running
from tests.flows.conftest import Federation
from tests.hostile.attacker import (
    SAML_NS,
    InProcess,
    Listener,
    SchoolSide,
    StateWatch,
    Traffic,
    authn_request,
    deflated,
    encode,
    query_of,
    refused,
    root_of,
    send,
)
from tests.peers.browser import Browser
from tests.upstream.saml_idp import sign as sign_enveloped

NS = SAML_NS
DS = NS["ds"]
HTTPS = "https://loper.example"


def log_in(browser: Browser, federation: Federation, supplier: str = "rekenwonders") -> None:
    browser.get(f"{federation.supplier(supplier)}/login", {"school": "regenboog"})
    browser.login(federation.pupil.id)
    assert browser.url.startswith(federation.supplier(supplier)), browser.url


def loper_host(federation: Federation) -> str:
    return federation.running.broker.split("://")[1].split(":")[0]


def sso_cookie(browser: Browser) -> str | None:
    value: str | None = browser.session.cookies.get("loper_sso")
    return value


# -- session fixation and upgrade --------------------------------------------------------

def test_a_planted_sso_cookie_is_not_kept_as_the_session(federation: Federation,
                                                         browser: Browser,
                                                         state: StateWatch) -> None:
    planted = "attacker-chosen-session-id-0123456789"
    browser.session.cookies.set("loper_sso", planted, domain=loper_host(federation), path="/")
    log_in(browser, federation)
    assert sso_cookie(browser) not in (None, planted)
    assert not state.client.exists(f"loper:session:{planted}")


def test_a_planted_sso_cookie_gives_no_single_sign_on(federation: Federation,
                                                      browser: Browser) -> None:
    browser.session.cookies.set("loper_sso", "x" * 24, domain=loper_host(federation), path="/")
    browser.get(f"{federation.supplier('taalapp')}/login", {"school": "regenboog"})
    assert browser.url.startswith(federation.running.school), "must go to the school"


@pytest.mark.parametrize("planted", ["short", "x" * 65, "has;semicolon-and=equals-1234",
                                     "é" * 20])
def test_a_malformed_browser_cookie_is_replaced(federation: Federation, browser: Browser,
                                                planted: str) -> None:
    browser.session.cookies.set("loper_browser", planted, domain=loper_host(federation),
                                path="/")
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
    issued = [c for r in browser.history for c in r.raw.headers.getlist("Set-Cookie")
              if c.startswith("loper_browser=")]
    assert issued and all(planted not in c for c in issued)


def test_a_failed_answer_leaves_the_session_as_it_was(federation: Federation, browser: Browser,
                                                      school: SchoolSide,
                                                      state: StateWatch) -> None:
    log_in(browser, federation)
    before = sso_cookie(browser)
    started = school.start(browser, force="1")  # ForceAuthn: back to the school
    forged = root_of(school.answer(started, person=federation.teacher))
    forged.find(".//saml:AttributeValue", NS).text = "employee"  # breaks the signature
    with state.unchanged():
        refused(school.post(browser, started, encode(forged)), 403)
    assert sso_cookie(browser) == before
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login")  # single sign-on: still the pupil, not the teacher
    assert browser.get_json(f"{taalapp}/whoami")["name_id"] == federation.pseudonym_of(
        "regenboog", federation.pupil, "taalapp")


# -- cookie flags --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def https_federation(tmp_path_factory: pytest.TempPathFactory,
                     redis_url: str) -> Iterator[Federation]:
    """The demo federation with Loper at https://loper.example (served in-process)."""
    folder = tmp_path_factory.mktemp("https-federation")
    with running(folder, settings={"state_url": redis_url, "base_url": HTTPS}) as stack:
        yield Federation(stack)


@pytest.fixture
def https_browser(https_federation: Federation) -> Iterator[Browser]:
    with Browser() as browser:
        browser.session.mount(HTTPS, InProcess(https_federation.running.apps["broker"]))
        yield browser


def set_cookies(browser: Browser, prefix: str) -> dict[str, list[str]]:
    """Every Set-Cookie of Loper's responses, by cookie name."""
    found: dict[str, list[str]] = {}
    for response in browser.history:
        if response.url.startswith(prefix):
            for value in response.raw.headers.getlist("Set-Cookie"):
                found.setdefault(value.split("=", 1)[0], []).append(value)
    return found


def flags(cookie: str) -> set[str]:
    """A Set-Cookie's attributes in lower case: their names, and samesite=<value>."""
    found = set()
    for part in cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        found.add(f"samesite={value.lower()}" if name.lower() == "samesite" else name.lower())
    return found


def test_over_https_every_cookie_is_secure_and_http_only(https_federation: Federation,
                                                         https_browser: Browser) -> None:
    rekenwonders = https_federation.supplier("rekenwonders")
    https_browser.get(f"{rekenwonders}/login")
    https_browser.click("OBS De Regenboog")
    https_browser.login(https_federation.pupil.id)
    assert https_browser.url.startswith(rekenwonders), https_browser.url
    cookies = set_cookies(https_browser, HTTPS)
    assert set(cookies) == {"__Host-loper_browser", "__Host-loper_school", "__Host-loper_sso",
                            "__Host-loper_app"}
    for values in cookies.values():
        for value in values:
            assert flags(value) >= {"secure", "httponly", "path"}, value
            assert "domain" not in flags(value), "a __Host- cookie has no Domain"
    assert all(flags(v) >= {"samesite=none"} for v in cookies["__Host-loper_browser"])
    # the app of the last login rides the school's cross-site POST, for the way back
    assert all(flags(v) >= {"samesite=none"} for v in cookies["__Host-loper_app"])
    assert all("max-age" not in flags(v) for v in cookies["__Host-loper_app"])
    assert all(flags(v) >= {"samesite=none", "max-age"} for v in cookies["__Host-loper_sso"])
    assert all(flags(v) >= {"samesite=lax"} for v in cookies["__Host-loper_school"])


def logout_token(browser: Browser, base: str) -> str:
    """What the logout page puts in its form for this browser."""
    page = send(browser, "GET", f"{base}/logout")
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def test_over_https_logout_clears_the_session_cookie_with_the_same_flags(
        https_federation: Federation, https_browser: Browser) -> None:
    rekenwonders = https_federation.supplier("rekenwonders")
    https_browser.get(f"{rekenwonders}/login", {"school": "regenboog"})
    https_browser.login(https_federation.pupil.id)
    token = logout_token(https_browser, HTTPS)
    response = send(https_browser, "POST", f"{HTTPS}/logout", data={"csrf_token": token})
    cleared = [c for c in response.raw.headers.getlist("Set-Cookie")
               if c.startswith("__Host-loper_sso=")]
    assert len(cleared) == 1
    assert flags(cleared[0]) >= {"secure", "httponly", "samesite=none", "expires"}


def test_over_plain_http_on_loopback_cookies_are_http_only_and_lax(federation: Federation,
                                                                   browser: Browser) -> None:
    log_in(browser, federation)
    cookies = set_cookies(browser, federation.running.broker)
    assert {"loper_browser", "loper_sso"} <= set(cookies)
    for values in cookies.values():
        for value in values:
            assert flags(value) >= {"httponly", "samesite=lax"} and "secure" not in flags(value)


def test_the_https_metadata_and_forms_name_only_https(https_federation: Federation,
                                                      https_browser: Browser) -> None:
    """Loper behind TLS never sends a browser (or a school) to a plain-http Loper URL."""
    for path in ("/saml/idp/metadata", "/saml/sp/metadata",
                 "/.well-known/openid-configuration"):
        body = send(https_browser, "GET", HTTPS + path).text
        assert "http://loper.example" not in body and HTTPS in body


# -- security headers on every page ------------------------------------------------------------

def assert_secure_headers(response: Any, where: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, where
    assert "base-uri 'none'" in csp, where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    assert "Traceback" not in response.get_data(as_text=True), where


def loper_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every route outside the admin portal, with dummy path values."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/admin", "/static")):
            continue
        path = rule.rule.replace("<", "").replace(">", "")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def test_every_route_carries_the_security_headers(federation: Federation) -> None:
    app = federation.running.apps["broker"]
    client = app.test_client()
    routes = loper_routes(app)
    assert len(routes) >= 14, routes
    for method, path in routes:
        for data in (None, {"SAMLRequest": "%%", "SAMLResponse": "%%", "state": "x"}):
            response = client.open(path, method=method, data=data,
                                   query_string={"login": "x", "state": "y"})
            assert response.status_code < 500, (method, path, response.status_code)
            assert_secure_headers(response, f"{method} {path}")


@pytest.mark.parametrize("case", ["404", "405", "413"])
def test_error_statuses_carry_the_security_headers(federation: Federation, case: str) -> None:
    client = federation.running.apps["broker"].test_client()
    response = {"404": lambda: client.get("/no/such/page"),
                "405": lambda: client.put("/saml/sp/acs"),
                "413": lambda: client.post("/saml/sp/acs",
                                           data={"SAMLResponse": "A" * (1024 * 1024 + 1)})
                }[case]()
    assert response.status_code == int(case)
    assert 'class="error-id"' in response.get_data(as_text=True)
    assert_secure_headers(response, case)


def test_an_unexpected_error_is_a_500_page_without_a_stack_trace(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise RuntimeError("secret detail /etc/loper/keys")

    client = federation.running.apps["broker"].test_client()
    monkeypatch.setattr(health, "broker", broken)
    response = client.get("/healthz")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert 'class="error-id"' in text and "secret detail" not in text
    assert_secure_headers(response, "500")


# -- proxies and the Host header -------------------------------------------------------------

@pytest.fixture
def probe(instance: Path) -> Iterator[Callable[..., Flask]]:
    """An app with a probe route that shows how Loper sees the client, per trusted_proxies."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app({"instance": instance, "base_url": HTTPS, **settings})
        app.add_url_rule("/_probe", "probe", lambda: {
            "remote_addr": request.remote_addr, "scheme": request.scheme, "host": request.host})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["loper"].registry.close()
        app.extensions["loper"].store.close()


SPOOF = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "http",
         "X-Forwarded-Host": "evil.example"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(
        probe: Callable[..., Flask]) -> None:
    client = probe(trusted_proxies=0).test_client()
    seen = client.get("/_probe", base_url=HTTPS, headers=SPOOF,
                      environ_base={"REMOTE_ADDR": "192.0.2.10"}).get_json()
    assert seen == {"remote_addr": "192.0.2.10", "scheme": "https", "host": "loper.example"}


def test_behind_one_proxy_only_the_address_it_saw_counts(probe: Callable[..., Flask]) -> None:
    """The client sends its own X-Forwarded-For; the proxy appends the address it saw."""
    client = probe(trusted_proxies=1).test_client()
    seen = client.get("/_probe", base_url="http://10.0.0.2", environ_base={
        "REMOTE_ADDR": "10.0.0.1"}, headers={
        "X-Forwarded-For": "6.6.6.6, 7.7.7.7, 203.0.113.7", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "loper.example"}).get_json()
    assert seen["remote_addr"] == "203.0.113.7"


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/saml/idp/metadata"])
def test_a_foreign_host_header_changes_no_published_url(probe: Callable[..., Flask],
                                                        path: str) -> None:
    client = probe(trusted_proxies=0).test_client()
    body = client.get(path, base_url="https://evil.example", headers=SPOOF).get_data(
        as_text=True)
    assert "evil.example" not in body and HTTPS in body


# -- outbound fetches caused by protocol input: none ------------------------------------------

def _key_info_retrieval(url: str, kind: str = "X509Data") -> etree._Element:
    key_info = etree.Element(f"{{{DS}}}KeyInfo")
    etree.SubElement(key_info, f"{{{DS}}}RetrievalMethod", URI=f"{url}/keyinfo",
                     Type=f"{DS}{kind}")
    return key_info


def _signed_request_with(sso_entity: str, key_file: Any, url: str,
                         change: Callable[[etree._Element, str], None]) -> bytes:
    root = etree.fromstring(authn_request(sso_entity))
    sign_enveloped(root, key_file)
    root = etree.fromstring(etree.tostring(root))
    change(root, url)
    return bytes(etree.tostring(root))


def _replace_key_info(kind: str) -> Callable[[etree._Element, str], None]:
    def change(root: etree._Element, url: str) -> None:
        signature = root.find("ds:Signature", NS)
        signature.remove(signature.find("ds:KeyInfo", NS))
        signature.append(_key_info_retrieval(url, kind))
    return change


def _xinclude(root: etree._Element, url: str) -> None:
    extensions = etree.SubElement(root, f"{{{NS['samlp']}}}Extensions")
    root.find("saml:Issuer", NS).addnext(extensions)
    etree.SubElement(extensions, "{http://www.w3.org/2001/XInclude}include", href=url + "/x")


def _schema_location(root: etree._Element, url: str) -> None:
    root.set("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation",
             f"{NS['samlp']} {url}/saml.xsd")


def _get_complete(root: etree._Element, url: str) -> None:
    scoping = etree.SubElement(root, f"{{{NS['samlp']}}}Scoping")
    etree.SubElement(scoping, f"{{{NS['samlp']}}}GetComplete").text = url + "/idps"


REQUESTS: dict[str, tuple[Callable[[etree._Element, str], None], tuple[int, ...]]] = {
    "KeyInfo RetrievalMethod for X509Data": (_replace_key_info("X509Data"), (403,)),
    "KeyInfo RetrievalMethod for a raw certificate": (
        _replace_key_info("rawX509Certificate"), (403,)),
    "xi:include": (_xinclude, (200, 303, 403)),
    "xsi:schemaLocation": (_schema_location, (200, 303, 403)),
    "Scoping GetComplete": (_get_complete, (200, 303, 403)),
}


@pytest.mark.parametrize("name", REQUESTS)
def test_an_authn_request_fetches_nothing(federation: Federation, browser: Browser,
                                          traffic: Traffic, name: str) -> None:
    change, statuses = REQUESTS[name]
    entity = federation.registry.supplier("taalapp")
    assert entity is not None and entity.protocol == "saml"
    keys = KeyPair(*ensure_keypair(federation.running.folder / "peers" / "taalapp",
                                   "taalapp-sp"))
    with Listener() as listener:
        xml = _signed_request_with(entity.config.entity_id, keys, listener.url, change)
        with traffic.none():
            response = send(browser, "POST", federation.running.broker + "/saml/idp/sso",
                            data={"SAMLRequest": base64.b64encode(xml).decode()})
    assert response.status_code in statuses, response.text[:300]
    assert listener.connections == 0


def _answer_key_info(school: SchoolSide, url: str) -> Callable[[Any], str]:
    def make(started: Any) -> str:
        root = root_of(school.answer(started))
        signature = root.find("saml:Assertion/ds:Signature", NS)
        signature.remove(signature.find("ds:KeyInfo", NS))
        signature.append(_key_info_retrieval(url))
        return encode(root)
    return make


def _answer_encrypted_key_elsewhere(school: SchoolSide, url: str) -> Callable[[Any], str]:
    xenc = "http://www.w3.org/2001/04/xmlenc#"

    def make(started: Any) -> str:
        root = root_of(school.answer(started, encrypt_assertion=True))
        for key_info in root.iter(f"{{{DS}}}KeyInfo"):
            if key_info.find(f"{{{xenc}}}EncryptedKey") is not None:
                key_info.remove(key_info.find(f"{{{xenc}}}EncryptedKey"))
                etree.SubElement(key_info, f"{{{DS}}}RetrievalMethod", URI=f"{url}/key",
                                 Type=f"{xenc}EncryptedKey")
        return encode(root)
    return make


def _answer_schema_location(school: SchoolSide, url: str) -> Callable[[Any], str]:
    def make(started: Any) -> str:
        root = root_of(school.answer(started))
        _schema_location(root, url)
        return encode(root)
    return make


ANSWERS: dict[str, tuple[Callable[[SchoolSide, str], Callable[[Any], str]], tuple[int, ...]]] = {
    "assertion KeyInfo with a RetrievalMethod": (_answer_key_info, (200,)),
    "EncryptedKey behind a RetrievalMethod": (_answer_encrypted_key_elsewhere, (403,)),
    "xsi:schemaLocation on the Response": (_answer_schema_location, (200,)),
}


@pytest.mark.parametrize("name", ANSWERS)
def test_a_school_answer_fetches_nothing(school: SchoolSide, traffic: Traffic,
                                         name: str) -> None:
    """A KeyInfo is never read (the key comes from the metadata), so an answer whose genuine
    signature is joined by a RetrievalMethod is still accepted; nothing is ever fetched."""
    factory, statuses = ANSWERS[name]
    with Browser() as browser, Listener() as listener:
        started = school.start(browser)
        make = factory(school, listener.url)
        with traffic.none():
            response = school.post(browser, started, make(started))
        assert response.status_code in statuses, response.text[:300]
    assert listener.connections == 0


def _request_object(url: str) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'RS256', 'jku': url + '/jwks', 'kid': 'k'})}.{b64({'iss': 'x'})}.AAAA"


OIDC_FRONT = {
    "request_uri at a listener": lambda url: {"request_uri": url + "/request"},
    "request object with a jku at a listener": lambda url: {"request": _request_object(url)},
    "sector_identifier_uri and jwks_uri at a listener": lambda url: {
        "sector_identifier_uri": url + "/sector", "jwks_uri": url + "/jwks"},
    "redirect_uri at a listener": lambda url: {"redirect_uri": url + "/cb"},
}


@pytest.mark.parametrize("name", OIDC_FRONT)
def test_an_authorization_request_fetches_nothing(federation: Federation, browser: Browser,
                                                  strict_client: Any, state: StateWatch,
                                                  name: str) -> None:
    with Listener() as listener:
        params = {"response_type": "code", "client_id": strict_client.client_id,
                  "redirect_uri": strict_client.redirect_uri, "scope": "openid",
                  "state": "s", "code_challenge": "a" * 43, "code_challenge_method": "S256",
                  **OIDC_FRONT[name](listener.url)}
        response = send(browser, "GET",
                        f"{federation.issuer}/oidc/authorize?{urlencode(params)}")
        if response.status_code == 303:  # to the picker, or an error to the registered URI
            location = response.headers["Location"]
            assert location.startswith((strict_client.redirect_uri,
                                        federation.running.broker + "/discovery?"))
            assert "code=" not in location
        else:
            refused(response, 403)
    assert listener.connections == 0


# -- reflected markup ---------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_an_unknown_school_in_the_picker_is_shown_escaped(federation: Federation,
                                                          browser: Browser) -> None:
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    login = query_of(browser.url)["login"]
    response = send(browser, "GET", f"{federation.running.broker}/discovery",
                    params={"login": login, "school": SCRIPT})
    refused(response, 404)
    assert SCRIPT not in response.text and "&lt;script&gt;" in response.text


def test_an_unknown_issuer_is_shown_escaped(federation: Federation, browser: Browser) -> None:
    xml = authn_request(SCRIPT)
    response = send(browser, "GET", f"{federation.running.broker}/saml/idp/sso",
                    params={"SAMLRequest": deflated(xml)})
    refused(response, 404)
    assert SCRIPT not in response.text


def test_a_search_in_the_picker_is_shown_escaped(federation: Federation,
                                                 browser: Browser) -> None:
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    response = send(browser, "GET", browser.url, params={"q": '"><svg onload=alert(1)>'})
    assert response.status_code == 200 and "<svg onload" not in response.text


# -- open redirects --------------------------------------------------------------------------

EVIL = "https://evil.example/"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_logout_redirects_nowhere(federation: Federation, browser: Browser,
                                  method: str) -> None:
    params = {"next": EVIL, "return_to": EVIL, "redirect_uri": EVIL,
              "post_logout_redirect_uri": EVIL}
    base = federation.running.broker
    form = {"csrf_token": logout_token(browser, base)} if method == "POST" else None
    response = send(browser, method, f"{base}/logout", params=params, data=form)
    assert response.status_code == 200 and "Location" not in response.headers
    assert EVIL not in response.text


def test_another_site_cannot_log_a_pupil_out(federation: Federation,
                                            browser: Browser) -> None:
    """The SSO cookie is SameSite=None, so a cross-site POST carries it: the token decides."""
    log_in(browser, federation)
    for forged in ({}, {"csrf_token": "0" * 64}):
        response = send(browser, "POST", f"{federation.running.broker}/logout", data=forged)
        assert response.status_code == 400 and "Set-Cookie" not in response.headers
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login", {"passive": "1"})
    assert browser.get_json(f"{taalapp}/whoami")["status"] == "ok", "still logged in"


def test_a_refused_request_links_back_to_the_registered_supplier_only(
        federation: Federation, browser: Browser) -> None:
    entity = federation.registry.supplier("rekenwonders")
    assert entity is not None and entity.protocol == "saml"
    xml = authn_request(entity.config.entity_id, acs=EVIL + "acs")
    response = send(browser, "GET", f"{federation.running.broker}/saml/idp/sso",
                    params={"SAMLRequest": deflated(xml), "RelayState": EVIL})
    refused(response, 403)
    assert "evil.example" not in response.text
    links = etree.HTML(response.content).xpath("//a/@href")
    assert all(link.startswith(federation.supplier("rekenwonders")) for link in links), links
