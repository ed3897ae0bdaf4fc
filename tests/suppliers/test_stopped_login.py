"""A pupil stops a login on Loper's way (the picker's "Stop and go back to <app>", or the same
link after Cancel at the school): what the supplier software then does with Loper's answer.

SAML software gets a signed Response without assertion, Responder / AuthnFailed, and shows its
own error (tests/suppliers/error_pages.py). mod_auth_openidc gets error=access_denied with its
state and, as RFC 9207 requires of every authorization response, Loper's `iss`; it takes that
`iss` for a third-party-initiated login (it looks for `iss` before `error`) and never shows the
access_denied: without an OIDCDefaultURL it shows "Invalid Request", with one it starts a new
login, which brings the pupil straight back to Loper's picker. Either way the app made no
session and nothing stays open at Loper. Registered with `iss_in_errors = false`, it gets the
error without `iss` and shows it.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.flows.conftest import REGENBOOG, Federation
from tests.flows.stopping import assert_loper_error, stop_link
from tests.flows.test_cancel import cancel_at_school
from tests.peers.browser import Browser
from tests.suppliers.error_pages import (
    assert_shows_saml_error,
    logged_since,
    mark_logs,
    page_words,
)
from tests.suppliers.journey import open_app
from tests.suppliers.software import SupplierSoftware

ENGLISH = "en-GB,en;q=0.8"
WAYS = ("picker", "cancelled-at-school")
NO_TARGET = ('SSO to this module without specifying a "target_link_uri" parameter is not '
             "possible because OIDCDefaultURL is not set.")
"""mod_auth_openidc's words when an `iss` alone reaches its redirect URI."""


def stop_link_of(browser: Browser, software: SupplierSoftware, way: str) -> str:
    """Start a login at the app and find Loper's way out: on the picker, or on the "login
    cancelled" page after Cancel at the school."""
    browser.session.headers["Accept-Language"] = ENGLISH
    browser.get(software.app_url)
    assert "/discovery" in browser.url, browser.text[:500]
    if way == "cancelled-at-school":
        browser.click(REGENBOOG)
        cancel_at_school(browser)
        assert "Login cancelled" in browser.text
    url, words = stop_link(browser)
    assert words == f"Stop and go back to {software.supplier_name}"
    return url


def oidc_answer(browser: Browser, software: SupplierSoftware) -> dict[str, list[str]]:
    """The one answer Loper sent to the RP's redirect URI."""
    assert software.client is not None
    answers = [r.url for r in browser.history if r.url.startswith(software.client.redirect_uri)]
    assert len(answers) == 1, answers
    return parse_qs(urlsplit(answers[0]).query)


def assert_nothing_left(browser: Browser, software: SupplierSoftware, stop: str) -> None:
    """The app made no session (its page starts a login at Loper's picker again), and the
    login at Loper is closed (its way out says so)."""
    browser.get(software.app_url)
    assert open_app(browser, software) is None, "the app let the pupil in"
    assert "/discovery" in browser.url, browser.url
    browser.get(stop)
    assert_loper_error(browser, 400, "login_expired")
    assert "This login is no longer open" in browser.text


@pytest.mark.parametrize("way", WAYS)
def test_the_app_shows_its_own_answer_when_the_pupil_stops(
        loper: Federation, software: SupplierSoftware, browser: Browser, way: str) -> None:
    stop = stop_link_of(browser, software, way)
    marks = mark_logs(software)

    browser.get(stop)

    if software.protocol == "saml":
        assert_shows_saml_error(browser, software, marks, "Responder", "AuthnFailed")
    else:
        answer = oidc_answer(browser, software)
        assert answer["error"] == ["access_denied"] and answer["iss"] == [loper.issuer]
        assert browser.page.status_code == 200
        assert "Invalid Request" in page_words(browser) and NO_TARGET in page_words(browser)
        assert "access_denied" not in logged_since(marks)  # nor does its log say more
    assert_nothing_left(browser, software, stop)


@pytest.mark.parametrize("software", ["openidc_default_url"], indirect=True)
def test_with_a_default_url_mod_auth_openidc_sends_a_stopping_pupil_back_to_the_picker(
        loper: Federation, software: SupplierSoftware, browser: Browser) -> None:
    """Its OIDCDefaultURL turns the `iss` of Loper's access_denied answer into a fresh login:
    the pupil who stopped is at Loper's picker again, for a new login."""
    stop = stop_link_of(browser, software, "picker")
    stopped = parse_qs(urlsplit(stop).query)["login"]

    browser.get(stop)

    assert oidc_answer(browser, software)["error"] == ["access_denied"]
    assert "/discovery" in browser.url and "Choose your school" in browser.text, browser.url
    assert parse_qs(urlsplit(stop_link(browser)[0]).query)["login"] != stopped
    assert_nothing_left(browser, software, stop)


@pytest.mark.parametrize("software", ["openidc_plain_errors"], indirect=True)
def test_registered_without_iss_in_errors_mod_auth_openidc_shows_the_stop(
        loper: Federation, software: SupplierSoftware, browser: Browser) -> None:
    stop = stop_link_of(browser, software, "picker")

    browser.get(stop)

    answer = oidc_answer(browser, software)
    assert answer["error"] == ["access_denied"] and "iss" not in answer
    assert "OpenID Connect Provider error" in page_words(browser)
    assert "access_denied" in page_words(browser)
    assert_nothing_left(browser, software, stop)
