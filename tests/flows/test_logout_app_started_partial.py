"""An app that starts the logout while Loper cannot log the pupil out at the school: Loper's
page comes first, held, with the warning to close the browser and the "try again" button,
and the app gets its answer only when the pupil presses "Continue to <app>" (the same
answer: the SAML app then says "not everywhere", the OIDC app's page comes back with its
state). When the school logged the pupil out, the browser goes straight on to the app.

Also on the logout's page and its error pages: the line once a school cannot be tried again,
the way to log out everywhere on the "cannot be shown here" page, and the refused "try
again" page in the other language.

The real demo federation over HTTP, state in Redis; De Regenboog's logout request cannot be
built while the test says so (tests/flows/test_logout_retry_school.py `schools`).
"""

from __future__ import annotations

import lxml.html
import pytest

from broker.web import csrf
from tests.flows.conftest import REGENBOOG, Federation, whoami
from tests.flows.test_logout_earlier_schools import PUPILS, log_in, schools_listed
from tests.flows.test_logout_oidc import Receiver, log_in_at_front_channel_app
from tests.flows.test_logout_page_language import language_link
from tests.flows.test_logout_partial import NOT_EVERYWHERE
from tests.flows.test_logout_retry_school import (
    Schools,
    regenboog_failed,
    schools,
    try_again_buttons,
)
from tests.peers.browser import Browser
from tests.peers.servers import serve

__all__ = ["schools"]  # the fixture

WARNING = "Loper kon niet uitloggen bij deze scholen. Sluit nu de browser"
BYE = "You are logged out of Leesplein and of Loper."


def continue_to(browser: Browser, app: str) -> None:
    """Press "Continue to `app`" on Loper's held page: its link, or its form."""
    doc = lxml.html.fromstring(browser.page.content, base_url=browser.url)
    doc.make_links_absolute(browser.url)
    links = doc.xpath('//a[@id="loper-next"]')
    if links:
        assert links[0].text_content() == f"Doorgaan naar {app}"
        browser.get(links[0].get("href"))
        return
    assert doc.xpath('//form[@id="loper-post"]//button')[0].text_content() == (
        f"Doorgaan naar {app}")
    browser.submit(browser.form(lambda f: f.action == doc.xpath(
        '//form[@id="loper-post"]/@action')[0]))


def held(browser: Browser, federation: Federation) -> None:
    """Loper's page, held: the warning, the school's line and its button, nothing that goes
    on by itself."""
    assert browser.url.startswith(federation.issuer), browser.url
    assert browser.page.status_code == 200, browser.text[:400]
    assert "Je bent uitgelogd bij Loper, maar niet overal." in browser.text
    assert WARNING in browser.text
    assert schools_listed(browser, "failed") == [REGENBOOG]
    assert list(try_again_buttons(browser)) == ["regenboog"]
    assert "<script" not in browser.text and 'http-equiv="refresh"' not in browser.text


def test_an_oidc_app_waits_until_the_pupil_read_that_the_school_failed(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    leesplein = federation.supplier("leesplein")
    log_in(browser, federation, "leesplein", "regenboog", PUPILS["regenboog"])

    browser.post(f"{leesplein}/logout", {})

    held(browser, federation)
    assert BYE not in browser.text
    continue_to(browser, "Leesplein")
    assert browser.url.startswith(f"{leesplein}/bye?state="), browser.url
    assert browser.page.status_code == 200 and BYE in browser.text  # its state matched
    assert whoami(browser, leesplein) is None


@pytest.mark.parametrize(("app", "name"), [("rekenwonders", "Rekenwonders"),
                                           ("taalapp", "Taalapp")])  # pysaml2, python3-saml
def test_a_saml_app_waits_until_the_pupil_read_that_the_school_failed(
        federation: Federation, browser: Browser, schools: Schools, app: str,
        name: str) -> None:
    own = federation.supplier(app)
    log_in(browser, federation, app, "regenboog", PUPILS["regenboog"])

    browser.post(f"{own}/logout", {})

    held(browser, federation)
    continue_to(browser, name)
    assert browser.url.startswith(f"{own}/slo"), browser.url
    assert NOT_EVERYWHERE in browser.text
    assert whoami(browser, own) is None


def test_front_channel_frames_load_on_the_held_page(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    own = federation.supplier("rekenwonders")
    with serve(Receiver()) as base:
        log_in_at_front_channel_app(federation, browser, "frontchannel-rp", base, "/front")
        log_in(browser, federation, "rekenwonders", "regenboog", PUPILS["regenboog"])
        browser.post(f"{own}/logout", {})
    held(browser, federation)
    assert [str(src) for src in lxml.html.fromstring(browser.text).xpath("//iframe/@src")
            if str(src).startswith(f"{base}/front?")], browser.text[:600]
    assert f"frame-src {base}" in browser.page.headers["Content-Security-Policy"]
    continue_to(browser, "Rekenwonders")
    assert NOT_EVERYWHERE in browser.text


@pytest.mark.parametrize("app", ["leesplein", "rekenwonders"])
def test_with_the_school_logged_out_the_app_is_answered_at_once(
        federation: Federation, browser: Browser, schools: Schools, app: str) -> None:
    schools.down = False
    own = federation.supplier(app)
    log_in(browser, federation, app, "regenboog", PUPILS["regenboog"])
    browser.post(f"{own}/logout", {})
    assert browser.url.startswith(own), browser.url
    assert all(not r.url.startswith(f"{federation.issuer}/logout")
               for r in browser.history[-3:])


def test_a_try_again_on_the_held_page_ends_with_a_way_back_to_the_app(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    """The app had no answer yet, and gets none after the try (whoever started the logout
    is not answered again): the page links back to the app's registered address."""
    leesplein = federation.supplier("leesplein")
    log_in(browser, federation, "leesplein", "regenboog", PUPILS["regenboog"])
    browser.post(f"{leesplein}/logout", {})
    held(browser, federation)
    schools.down = False

    browser.submit(try_again_buttons(browser)["regenboog"])

    assert browser.url.startswith(federation.issuer), browser.url
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [REGENBOOG]
    assert 'id="loper-next"' not in browser.text and 'id="loper-post"' not in browser.text
    browser.click("Terug naar Leesplein")
    assert browser.url.rstrip("/") == leesplein.rstrip("/"), browser.url
    assert whoami(browser, leesplein) is None


def test_once_the_tries_are_used_the_page_says_why_there_is_no_button(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    button = regenboog_failed(browser, federation, schools)
    assert "zo vaak opnieuw geprobeerd" not in browser.text
    for _ in range(3):
        browser.submit(button)
        button = try_again_buttons(browser).get("regenboog", button)
    assert not try_again_buttons(browser)
    assert (f"Loper heeft het bij {REGENBOOG} zo vaak opnieuw geprobeerd als het kan. "
            "Sluit nu de browser") in browser.text
    browser.get(language_link(browser))
    assert f"Loper has tried {REGENBOOG} again as often as it can." in browser.text


@pytest.mark.parametrize(("lang", "way"), [("nl", "Overal uitloggen"),
                                           ("en", "Log out everywhere")])
def test_a_logout_page_that_cannot_be_shown_links_to_log_out(
        federation: Federation, browser: Browser, lang: str, way: str) -> None:
    browser.get(f"{federation.issuer}/logout/page", {"run": "x" * 20, "lang": lang})
    assert browser.page.status_code == 400
    assert 'data-error-code="logout_page_gone"' in browser.text
    doc = lxml.html.fromstring(browser.page.content)
    assert [(a.get("href"), a.text_content()) for a in doc.xpath('//a[@data-way="log-out"]')
            ] == [("/logout", way)]
    browser.click(way)
    assert browser.url.startswith(f"{federation.issuer}/logout")
    assert browser.form("csrf_token")  # the big button


def test_a_refused_try_again_is_shown_again_in_the_other_language(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    button = regenboog_failed(browser, federation, schools)
    fields = {k: v for k, v in button.fields.items() if k != csrf.FIELD}
    browser.post(button.action, fields)
    assert 'data-error-code="logout_retry_gone"' in browser.text

    link = language_link(browser)

    assert link.startswith(f"{federation.issuer}/error?page="), link
    browser.get(link)
    assert browser.page.status_code == 400
    assert 'data-error-code="logout_retry_gone"' in browser.text
    assert "This school cannot be tried again from here" in browser.text
    assert not browser.forms()  # not the start page with the big button
