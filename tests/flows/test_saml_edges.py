"""Bad input at Loper's SAML endpoints, over HTTP: a 4xx page with an error id, a way back
to the supplier where it is known, nothing stored and no assertion issued."""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator

import pytest
import redis

from tests.error_log import says
from tests.fixtures.redis_state import stored
from tests.flows.conftest import Federation
from tests.peers.browser import Browser, Form

ERROR_ID = re.compile(r'class="error-id">([0-9a-f]{12})<')


@pytest.fixture
def state(federation: Federation) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(federation.broker.settings.state_url)
    yield client
    client.close()


def deflated(xml: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(xml) + compressor.flush()).decode()


def assert_error_page(browser: Browser, status: int, *words: str) -> None:
    assert browser.page.status_code == status, browser.text[:400]
    assert ERROR_ID.search(browser.text), "the page must show an error id"
    assert "Traceback" not in browser.text and "SAMLResponse" not in browser.text
    for word in words:  # on the page, or in the log next to its error id
        assert says(browser.text, word), word


BAD_REQUESTS = {
    "garbage": "!!!not base64!!!",
    "truncated": deflated(b"<samlp:AuthnRequest xmlns:samlp=")[:20],
    "not deflate": base64.b64encode(b"plain bytes, not deflated").decode(),
    "deflate bomb": deflated(b"<a>" + b"\0" * (40 * 1024 * 1024) + b"</a>"),
    "doctype": deflated(b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'),
    "empty": "",
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_garbage_authn_requests_get_an_error_page_and_store_nothing(
        federation: Federation, browser: Browser, state: redis.Redis, name: str) -> None:
    before = stored(state).keys()
    browser.get(f"{federation.running.broker}/saml/idp/sso", {"SAMLRequest": BAD_REQUESTS[name]})
    assert_error_page(browser, 400)
    assert stored(state).keys() == before


def test_a_post_binding_deflate_bomb_is_refused(federation: Federation,
                                                browser: Browser) -> None:
    browser.post(f"{federation.running.broker}/saml/idp/sso",
                 {"SAMLRequest": BAD_REQUESTS["deflate bomb"]})
    assert_error_page(browser, 400)


def test_an_unknown_supplier_is_named_as_such(federation: Federation, browser: Browser) -> None:
    request = (b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
               b'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" '
               b'IssueInstant="2026-11-28T10:00:00Z"><saml:Issuer>https://evil.example/sp'
               b'</saml:Issuer></samlp:AuthnRequest>')
    browser.get(f"{federation.running.broker}/saml/idp/sso", {"SAMLRequest": deflated(request)})
    assert_error_page(browser, 404)


def test_an_unknown_school_in_the_picker(federation: Federation, browser: Browser) -> None:
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    browser.get(browser.url + "&school=atlantis")
    assert_error_page(browser, 404, "atlantis")


def _school_answer(browser: Browser, federation: Federation) -> Form:
    """Log in at the school but stop before the answer is posted to Loper."""
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
    browser.login(federation.pupil.id, auto_post=False)
    return browser.form("SAMLResponse")


def test_an_unsolicited_response_is_refused(federation: Federation, browser: Browser) -> None:
    with Browser() as other:
        answer = _school_answer(other, federation)
    browser.post(answer.action, {**answer.fields, "RelayState": "made-up"})
    assert_error_page(browser, 403, "does not belong to a login started in this browser")


def test_a_login_that_expired_at_school_still_links_back_to_its_app(
        federation: Federation, browser: Browser, state: redis.Redis) -> None:
    answer = _school_answer(browser, federation)
    for key in state.scan_iter("*pending:*"):
        state.delete(key)  # the pupil took longer at school than a pending login lives
    browser.submit(answer, auto_post=False)
    assert_error_page(browser, 403, "Opnieuw beginnen bij Rekenwonders")
    assert f'href="{federation.supplier("rekenwonders")}' in browser.text


def test_an_expired_login_names_no_app_when_another_app_was_started_meanwhile(
        federation: Federation, browser: Browser, state: redis.Redis) -> None:
    """Rekenwonders' login waits at the school in one tab, Leesplein's starts in another: when
    the first answer comes after both expired, either app may be the one the pupil came from,
    so the page offers neither (not 'start again at Leesplein' for Rekenwonders' login)."""
    answer = _school_answer(browser, federation)
    browser.get(f"{federation.supplier('leesplein')}/login")
    for key in state.scan_iter("*pending:*"):
        state.delete(key)
    browser.submit(answer, auto_post=False)
    assert_error_page(browser, 403)
    assert "Opnieuw beginnen" not in browser.text


def test_an_unsolicited_response_in_a_fresh_browser_names_no_app(federation: Federation,
                                                                  browser: Browser) -> None:
    with Browser() as other:
        answer = _school_answer(other, federation)
    browser.post(answer.action, answer.fields)
    assert_error_page(browser, 403)
    assert "Opnieuw beginnen" not in browser.text


def test_a_response_meant_for_another_browser_is_refused_and_burns_nothing(
        federation: Federation, browser: Browser) -> None:
    with Browser() as pupil:
        answer = _school_answer(pupil, federation)
        browser.post(answer.action, answer.fields)
        assert_error_page(browser, 403)
        pupil.submit(answer)
        assert pupil.url.startswith(federation.supplier("rekenwonders"))
        assert pupil.get_json(f"{federation.supplier('rekenwonders')}/whoami")["status"] == "ok"


def test_a_replayed_response_is_refused_with_a_way_back(federation: Federation,
                                                        browser: Browser) -> None:
    answer = _school_answer(browser, federation)
    browser.submit(answer)
    assert browser.url.startswith(federation.supplier("rekenwonders"))
    browser.submit(answer, auto_post=False)  # as Back after the login posts it once more
    assert_error_page(browser, 403, "Deze inlog is niet meer open")
    assert "answer_without_login" in browser.text and "klopt niet" not in browser.text


def test_a_tampered_response_ends_on_lopers_page_with_start_again(
        federation: Federation, browser: Browser) -> None:
    answer = _school_answer(browser, federation)
    xml = base64.b64decode(answer.fields["SAMLResponse"]).replace(b"Sanne", b"Sanna")
    browser.post(answer.action, {**answer.fields,
                                 "SAMLResponse": base64.b64encode(xml).decode()},
                 auto_post=False)
    assert_error_page(browser, 403, "Opnieuw beginnen bij Rekenwonders")
    assert f'href="{federation.supplier("rekenwonders")}' in browser.text
    assert browser.url.startswith(federation.running.broker), "never forwarded to the supplier"


def test_garbage_at_the_acs(federation: Federation, browser: Browser) -> None:
    for junk in ("%%%", base64.b64encode(b"<x/>").decode(), ""):
        browser.post(f"{federation.running.broker}/saml/sp/acs",
                     {"SAMLResponse": junk, "RelayState": "x"})
        assert browser.page.status_code in (400, 403)
        assert ERROR_ID.search(browser.text)


def test_a_relay_state_over_the_limit_is_refused(federation: Federation,
                                                 browser: Browser) -> None:
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    request_url = next(r.url for r in browser.history if "/saml/idp/sso" in r.url)
    long = re.sub(r"RelayState=[^&]*", "RelayState=" + "x" * 1025, request_url)
    browser.get(long)
    assert_error_page(browser, 400)
