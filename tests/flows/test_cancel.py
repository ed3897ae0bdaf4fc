"""Pressing Cancel at the school, over real HTTP: the pupil reads that the login was stopped
(not that the school's answer is wrong), and can start again or choose another school.
Nothing is released, nothing is written to the ledger."""

from __future__ import annotations

import pytest

from tests.flows.conftest import LYCEUM, REGENBOOG, Federation, at_school_login, whoami
from tests.flows.stopping import assert_stopped_answer, stop_link
from tests.flows.strict_rp import StrictRp, query_of
from tests.peers.browser import Browser


def cancel_at_school(browser: Browser) -> None:
    form = browser.form(lambda f: "password" in f.visible and "person" in f.choices)
    browser.submit(form, cancel="1")


def assert_cancelled_page(browser: Browser, name: str) -> None:
    assert browser.page.status_code == 400
    assert 'data-error-code="login_cancelled"' in browser.text
    assert "Inloggen gestopt" in browser.text and "Er is niets doorgestuurd" in browser.text
    for wrong in ("klopt niet", "verlopen", "access_denied", "AuthnFailed", "HTTP"):
        assert wrong not in browser.text
    url, words = stop_link(browser)  # the way back tells the app: the pupil stopped
    assert "/discovery/cancel?login=" in url and words == f"Stoppen en terug naar {name}"


@pytest.mark.parametrize("school", [REGENBOOG, LYCEUM])
def test_cancel_at_the_school_then_choose_a_school_again(federation: Federation,
                                                        browser: Browser, school: str) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    before = federation.registry.ledger().verify().rows
    browser.get(f"{rekenwonders}/login")
    browser.click(school)
    assert at_school_login(browser)
    cancel_at_school(browser)
    assert_cancelled_page(browser, "Rekenwonders")
    assert federation.registry.ledger().verify().rows == before, "nothing released"

    browser.click("Een andere school kiezen")
    assert "/discovery" in browser.url and "Kies je school" in browser.text
    browser.click(REGENBOOG)
    browser.login(federation.pupil.id)
    assert browser.url.startswith(rekenwonders)
    assert whoami(browser, rekenwonders)["status"] == "ok"


def test_the_cancelled_page_speaks_english_to_an_english_browser(federation: Federation,
                                                                browser: Browser) -> None:
    browser.session.headers["Accept-Language"] = "en-GB,en;q=0.8"
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login")
    browser.click(REGENBOOG)
    cancel_at_school(browser)
    assert "Login cancelled" in browser.text and "Choose another school" in browser.text
    assert "Inloggen" not in browser.text


def oidc_answer(browser: Browser, federation: Federation, app: str) -> tuple[str, dict[str, str]]:
    """The state of the app's authorization request, and what Loper sent to its callback."""
    asked = [r.url for r in browser.history
             if r.url.startswith(f"{federation.issuer}/oidc/authorize?")]
    answers = [r.url for r in browser.history if r.url.startswith(f"{app}/callback?")]
    assert asked and len(answers) == 1, (asked, answers)
    return query_of(asked[-1])["state"], query_of(answers[0])


def test_the_picker_stops_a_saml_login_and_tells_the_app(federation: Federation,
                                                        browser: Browser) -> None:
    """A pupil who opened the wrong app, or whose school is not listed, goes back from the
    picker itself; the app hears that nobody logged in (SAML Core 3.4.1.4)."""
    taalapp = federation.supplier("taalapp")
    before = federation.registry.ledger().verify().rows
    browser.get(f"{taalapp}/login")
    assert "Kies je school" in browser.text
    url, words = stop_link(browser)
    assert words == "Stoppen en terug naar Taalapp"
    browser.get(url)
    assert_stopped_answer(federation, browser, taalapp)
    assert federation.registry.ledger().verify().rows == before, "nothing released"


def test_the_picker_stops_an_oidc_login_and_tells_the_app(federation: Federation,
                                                         browser: Browser) -> None:
    """OIDC Core 3.1.2.6: the app gets error=access_denied with its own state, and reads it."""
    leesplein = federation.supplier("leesplein")
    browser.get(f"{leesplein}/login")
    browser.click("Stoppen en terug naar Leesplein")
    state, answer = oidc_answer(browser, federation, leesplein)
    assert answer["error"] == "access_denied" and answer["state"] == state
    assert answer["iss"] == federation.issuer  # RFC 9207
    assert whoami(browser, leesplein)["status"] == "access_denied"


def test_stopping_after_cancel_at_a_saml_school_tells_a_saml_app(federation: Federation,
                                                                 browser: Browser) -> None:
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login")
    browser.click(REGENBOOG)
    cancel_at_school(browser)
    assert_cancelled_page(browser, "Taalapp")
    browser.get(stop_link(browser)[0])
    assert_stopped_answer(federation, browser, taalapp)


def test_stopping_after_cancel_at_an_oidc_school_tells_an_oidc_app(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    login = rp.begin()
    browser.get(login.url)
    browser.click(LYCEUM)
    cancel_at_school(browser)
    assert_cancelled_page(browser, "Strict Rp")
    browser.get(stop_link(browser)[0])
    assert browser.url.startswith(rp.redirect_uri), browser.url
    answer = query_of(browser.url)
    assert answer["error"] == "access_denied" and answer["state"] == login.state
    assert answer["iss"] == federation.issuer and "code" not in answer


def test_the_way_out_speaks_english_to_an_english_browser(federation: Federation,
                                                          browser: Browser) -> None:
    browser.session.headers["Accept-Language"] = "en-GB,en;q=0.8"
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    assert stop_link(browser)[1] == "Stop and go back to Rekenwonders"
