"""Pressing Cancel at the school, over real HTTP: the pupil reads that the login was stopped
(not that the school's answer is wrong), and can start again or choose another school.
Nothing is released, nothing is written to the ledger."""

from __future__ import annotations

import pytest

from tests.flows.conftest import LYCEUM, REGENBOOG, Federation, at_school_login, whoami
from tests.peers.browser import Browser


def cancel_at_school(browser: Browser) -> None:
    form = browser.form(lambda f: "password" in f.visible and "person" in f.choices)
    browser.submit(form, cancel="1")


def assert_cancelled_page(browser: Browser, supplier: str) -> None:
    assert browser.page.status_code == 400
    assert 'data-error-code="login_cancelled"' in browser.text
    assert "Inloggen gestopt" in browser.text and "Er is niets doorgestuurd" in browser.text
    for wrong in ("klopt niet", "verlopen", "access_denied", "AuthnFailed", "HTTP"):
        assert wrong not in browser.text
    assert f'href="{supplier}"' in browser.text, "the way back to the app"


@pytest.mark.parametrize("school", [REGENBOOG, LYCEUM])
def test_cancel_at_the_school_then_choose_a_school_again(federation: Federation,
                                                        browser: Browser, school: str) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    before = federation.registry.ledger().verify().rows
    browser.get(f"{rekenwonders}/login")
    browser.click(school)
    assert at_school_login(browser)
    cancel_at_school(browser)
    assert_cancelled_page(browser, rekenwonders)
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


def test_the_picker_leads_back_to_the_app(federation: Federation, browser: Browser) -> None:
    """A pupil who opened the wrong app, or whose school is not listed, goes back from the
    picker itself: to the app's own address, not into a login."""
    rekenwonders = federation.supplier("rekenwonders")
    browser.get(f"{rekenwonders}/login")
    assert "Kies je school" in browser.text
    assert f'<a href="{rekenwonders}" data-way="back">Terug naar Rekenwonders</a>' in browser.text
