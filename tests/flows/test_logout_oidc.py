"""Single logout with OIDC suppliers, over HTTP: Leesplein (authlib + joserfc) verifies every
logout token with Loper's JWKS and ends its own session; RP-initiated logout brings it back
to its registered page with its state; hostile and broken peers are reported, never waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import lxml.html
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from demo.supplier_oidc_logout import verify_logout_token
from tests.flows.conftest import Federation, at_school_login, log_out, whoami
from tests.flows.oidc_clients import register_client
from tests.peers.browser import Browser
from tests.peers.servers import serve

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def listed(browser: Browser, result: str) -> list[str]:
    """The apps Loper's logout page lists as `result` (done, frame, none, failed)."""
    page = lxml.html.fromstring(browser.text)
    return [str(li.text_content()) for li in page.xpath(f'//ul[@class="apps apps-{result}"]/li')]


def sent_to_school(browser: Browser, federation: Federation) -> int:
    """How often Loper sent this browser to the school to log in."""
    return sum(1 for r in browser.history
               if r.url.startswith(federation.running.school) and "SAMLRequest=" in r.url)


def log_in(browser: Browser, federation: Federation, supplier: str) -> None:
    browser.get(f"{federation.supplier(supplier)}/login", {"school": "regenboog"})
    if at_school_login(browser):
        browser.login(federation.pupil.id)


def test_logging_out_everywhere_ends_the_oidc_suppliers_session(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "leesplein")
    assert whoami(browser, federation.supplier("leesplein"))["sub"]
    log_out(browser, federation.issuer)
    assert browser.page.status_code == 200
    assert "Leesplein" in listed(browser, "done")
    assert whoami(browser, federation.supplier("leesplein")) is None  # its token verified
    before = sent_to_school(browser, federation)
    browser.get(f"{federation.supplier('leesplein')}/login", {"school": "regenboog"})
    assert sent_to_school(browser, federation) == before + 1  # Loper's session is gone too


def test_the_app_logs_out_at_loper_and_comes_back_with_its_state(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "leesplein")
    leesplein = federation.supplier("leesplein")
    browser.post(f"{leesplein}/logout", {})
    assert browser.url.startswith(f"{leesplein}/bye?state=")
    assert "You are logged out of Leesplein and of Loper." in browser.text
    before = sent_to_school(browser, federation)
    browser.get(f"{leesplein}/login", {"school": "regenboog"})
    assert sent_to_school(browser, federation) == before + 1


def test_a_post_logout_redirect_uri_not_registered_ends_on_lopers_page(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "leesplein")
    token = browser.get_json(f"{federation.supplier('leesplein')}/whoami")["raw_id_token"]
    browser.get(f"{federation.issuer}/oidc/logout", {
        "id_token_hint": token, "post_logout_redirect_uri": "https://evil.example/bye",
        "state": "s"})
    assert browser.url.startswith(federation.issuer)
    assert "evil.example" not in browser.text and browser.page.status_code == 200
    assert browser.page.headers["Cache-Control"] == "no-store"
    assert listed(browser, "done") == ["Leesplein"]  # the app asked: it logs itself out
    before = sent_to_school(browser, federation)
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
    assert sent_to_school(browser, federation) == before + 1  # Loper's session ended


def test_an_id_token_hint_loper_did_not_sign_is_refused(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "leesplein")
    key = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256"}, {"iss": federation.issuer, "aud": "leesplein",
                                           "sub": "x", "sid": "y"}, key)
    browser.get(f"{federation.issuer}/oidc/logout", {"id_token_hint": forged})
    assert browser.page.status_code == 403
    assert "logout_rejected" in browser.text and "Traceback" not in browser.text
    assert whoami(browser, federation.supplier("leesplein"))  # nobody was logged out


def test_without_a_hint_the_pupil_confirms_on_lopers_page(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "leesplein")
    browser.get(f"{federation.issuer}/oidc/logout", {"client_id": "leesplein"})
    assert browser.url == f"{federation.issuer}/logout"
    assert browser.form("csrf_token")
    assert whoami(browser, federation.supplier("leesplein"))


class Receiver:
    """A supplier's back-channel endpoint: answers as told, keeps what it got."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.tokens: list[str] = []
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] != "/logout/backchannel":  # the client's redirect URI
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"callback received"]
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = parse_qs(environ["wsgi.input"].read(size).decode())
        self.tokens.extend(body.get("logout_token", []))
        if self.mode == "hang":
            self.release.wait(30)
        status = "500 Internal Server Error" if self.mode == "500" else "200 OK"
        start_response(status, [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture(scope="module")
def receiver(federation: Federation) -> Iterator[tuple[Receiver, str]]:
    got = Receiver()
    with serve(got) as base:
        register_client(federation, "backchannel-rp", [f"{base}/cb"],
                        {"regenboog": ["role"]},
                        backchannel_logout_uri=f"{base}/logout/backchannel")
        yield got, base
        got.release.set()


def log_in_at_client(browser: Browser, federation: Federation, base: str) -> None:
    browser.get(f"{federation.issuer}/oidc/authorize", {
        "client_id": "backchannel-rp", "redirect_uri": f"{base}/cb", "response_type": "code",
        "scope": "openid", "school": "regenboog", "code_challenge_method": "S256",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
    if at_school_login(browser):
        browser.login(federation.pupil.id)
    assert browser.url.startswith(f"{base}/cb?code=")


def test_a_logout_token_is_what_the_back_channel_spec_asks(
        federation: Federation, browser: Browser, receiver: tuple[Receiver, str]) -> None:
    got, base = receiver
    got.mode, got.tokens[:] = "ok", []
    log_in_at_client(browser, federation, base)
    log_out(browser, federation.issuer)
    [raw] = got.tokens
    keys = KeySet.import_key_set(browser.get_json(f"{federation.issuer}/oidc/jwks"))
    claims = verify_logout_token(raw, keys, federation.issuer, "backchannel-rp")
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims
    assert set(claims) >= {"iss", "aud", "iat", "exp", "jti", "sid", "sub"}
    pseudonym = federation.pseudonym_of("regenboog", federation.pupil, "backchannel-rp")
    assert claims["sub"] == pseudonym


@pytest.mark.parametrize("mode", ["500", "hang"])
def test_a_broken_back_channel_is_reported_within_the_deadline(
        federation: Federation, browser: Browser, receiver: tuple[Receiver, str],
        mode: str) -> None:
    got, base = receiver
    got.mode = mode
    log_in_at_client(browser, federation, base)
    log_in(browser, federation, "leesplein")
    started = time.monotonic()
    log_out(browser, federation.issuer)
    waited = time.monotonic() - started
    got.release.set()
    assert browser.page.status_code == 200
    assert listed(browser, "failed") == ["Backchannel Rp"]
    assert "Leesplein" in listed(browser, "done")
    assert "Je bent uitgelogd bij Loper, maar niet overal." in browser.text
    assert waited < federation.broker.settings.logout_timeout + 10
    assert whoami(browser, federation.supplier("leesplein")) is None  # the others still went
    got.release.clear()


def test_nobody_logged_in_is_said_so(federation: Federation, browser: Browser) -> None:
    browser.get(f"{federation.issuer}/logout", {"lang": "en"})
    browser.submit(browser.form("csrf_token"))
    assert "Nobody was logged in to Loper on this device" in browser.text
    assert "You are logged out everywhere" not in browser.text
    params = urlencode({"lang": "nl"})
    browser.get(f"{federation.issuer}/logout?{params}")
    browser.submit(browser.form("csrf_token"))
    assert "Er was op dit apparaat niemand ingelogd bij Loper" in browser.text


def test_logging_out_everywhere_ends_the_session_at_an_oidc_school(
        federation: Federation, browser: Browser) -> None:
    leesplein = federation.supplier("leesplein")
    browser.get(f"{leesplein}/login", {"school": "lyceum"})
    browser.login(federation.lyceum_pupil.id)
    assert whoami(browser, leesplein)["sub"]
    log_out(browser, federation.issuer)
    lyceum = federation.running.schools["lyceum"]
    ended = [r.url for r in browser.history if r.url.startswith(f"{lyceum}/logout?")]
    assert ended and "id_token_hint=" in ended[-1]  # RP-initiated logout at the school
    assert browser.url.startswith(federation.issuer) and 'id="school-done"' in browser.text
    assert listed(browser, "done") == ["Leesplein"]
    browser.get(f"{leesplein}/login", {"school": "lyceum"})
    assert at_school_login(browser)  # the school asks for a password again


def test_a_schools_answer_to_no_logout_of_ours_is_refused(
        federation: Federation, browser: Browser) -> None:
    response = browser.get(f"{federation.issuer}/oidc/logged-out", {"state": "made-up"})
    assert response.status_code == 403 and "logout_rejected" in response.text


def log_in_at_front_channel_app(federation: Federation, browser: Browser, client_id: str,
                                base: str, front: str) -> None:
    """An OIDC app at `base` whose front-channel logout page is `base` + `front`, registered,
    and the demo pupil logged in to it."""
    register_client(federation, client_id, [f"{base}/cb"], {"regenboog": ["role"]},
                    frontchannel_logout_uri=f"{base}{front}")
    browser.get(f"{federation.issuer}/oidc/authorize", {
        "client_id": client_id, "redirect_uri": f"{base}/cb", "response_type": "code",
        "scope": "openid", "school": "regenboog", "code_challenge_method": "S256",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
    if at_school_login(browser):
        browser.login(federation.pupil.id)


def test_front_channel_logout_loads_the_apps_page_in_an_iframe(
        federation: Federation, browser: Browser) -> None:
    with serve(Receiver()) as base:
        log_in_at_front_channel_app(federation, browser, "frontchannel-rp", base,
                                    "/logout/front?app=1")
        log_out(browser, federation.issuer)
    page = lxml.html.fromstring(browser.text)
    [frame] = page.xpath("//iframe/@src")
    assert frame.startswith(f"{base}/logout/front?app=1&")
    query = parse_qs(frame.split("?", 1)[1])
    assert query["iss"] == [federation.issuer] and len(query["sid"][0]) >= 22
    assert listed(browser, "frame") == ["Frontchannel Rp"]
    assert f"frame-src {base}" in browser.page.headers["Content-Security-Policy"]


def test_an_app_without_logout_is_named_so_the_teacher_closes_its_tab(
        federation: Federation, browser: Browser, strict_client: Any) -> None:
    browser.get(f"{federation.issuer}/oidc/authorize", {
        "client_id": strict_client.client_id, "redirect_uri": strict_client.redirect_uri,
        "response_type": "code", "scope": "openid", "school": "regenboog",
        "code_challenge_method": "S256",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
    if at_school_login(browser):
        browser.login(federation.pupil.id)
    browser.get(f"{federation.issuer}/logout", {"lang": "en"})
    browser.submit(browser.form("csrf_token"))
    assert listed(browser, "none") == ["Strict Rp"]
    assert "You are logged out of Loper, but not everywhere." in browser.text
    assert "these apps have no logout through Loper" in browser.text
