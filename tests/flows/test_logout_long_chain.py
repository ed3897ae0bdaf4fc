"""A long "log out everywhere" on a shared device: four pupils at two schools, one after the
other, each at both SAML apps. Every school session and every app session is one redirect there
and one back: some 25 redirects in one navigation, where a browser stops at about 20 (Chromium:
ERR_TOO_MANY_REDIRECTS) and the earlier pupils would stay logged in. Loper breaks the chain with
a small page of its own, "logging out…", that goes on at once by itself.

The real demo federation over HTTP (De Regenboog a pysaml2 IdP, Het Lyceum an OIDC provider,
Rekenwonders and Taalapp SAML apps), state in Redis; the scripted browser, and one real Chromium.
"""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import lxml.html
import pytest
import requests
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Request, Route, expect

from broker.logout.journey import GoingOn
from broker.outgoing import Outgoing
from broker.web.logout import carry_on
from demo.people import DEFAULT_PEOPLE
from demo.school_op import LYCEUM_PEOPLE
from tests.fixtures.chromium import check_page
from tests.flows.conftest import LYCEUM, REGENBOOG, Federation, at_school_login, log_out, whoami
from tests.flows.test_logout_earlier_schools import log_in, schools_listed
from tests.flows.test_logout_earlier_sessions import sso_cookie
from tests.flows.test_logout_saml import listed
from tests.peers.browser import Browser
from tests.peers.servers import serve

APPS = ("rekenwonders", "taalapp")
PUPILS = (("regenboog", DEFAULT_PEOPLE[0].id), ("lyceum", LYCEUM_PEOPLE[0].id),
          ("regenboog", DEFAULT_PEOPLE[1].id), ("lyceum", LYCEUM_PEOPLE[1].id))
"""One after the other on one device; a pupil at a school someone was logged in at before
logs in afresh (ForceAuthn: whoever sits here types)."""
MOST_REDIRECTS = 14
"""The most redirects one navigation may take: well under the browser's limit of about 20."""
GOING_ON = {"nl": "Bezig met uitloggen…", "en": "Logging out…"}


def pupils_one_after_another(federation: Federation, browser: Browser) -> list[str]:
    """Every pupil of PUPILS logs in at every app of APPS in `browser`: their sessions' ids."""
    sessions: list[str] = []
    schools: set[str] = set()
    for school, pupil in PUPILS:
        force = {"force": "1"} if school in schools else {}
        log_in(browser, federation, APPS[0], school, pupil, **force)
        log_in(browser, federation, APPS[1], school, pupil)  # from the pupil's session
        schools.add(school)
        sessions.append(sso_cookie(federation, browser))
    assert len(set(sessions)) == len(PUPILS)
    return sessions


def redirects_in_a_row(responses: list[requests.Response]) -> int:
    """The longest run of redirects between two pages the browser showed."""
    longest = run = 0
    for response in responses:
        run = run + 1 if response.is_redirect else 0
        longest = max(longest, run)
    return longest


def going_on_pages(federation: Federation, responses: list[requests.Response]) -> list[
        requests.Response]:
    return [r for r in responses if r.url.startswith(federation.issuer) and not r.is_redirect
            and 'http-equiv="refresh"' in r.text]


def test_a_long_logout_goes_on_from_pages_of_its_own_and_logs_everyone_out(
        federation: Federation, browser: Browser) -> None:
    sessions = pupils_one_after_another(federation, browser)
    start = len(browser.history)

    log_out(browser, federation.issuer)

    during = browser.history[start:]
    assert redirects_in_a_row(during) <= MOST_REDIRECTS
    shown = going_on_pages(federation, during)
    assert shown, "a page of Loper's own broke the chain"
    for page in shown:
        assert page.status_code == 200
        doc = lxml.html.fromstring(page.content)
        assert doc.get("lang") == "nl"
        assert doc.findtext(".//h1") == GOING_ON["nl"]
        assert doc.xpath('//a[@id="loper-next"]/@href'), "a way on for a browser that stays"
    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert "Je bent overal uitgelogd." in browser.text
    assert sorted(listed(browser, "done")) == ["Rekenwonders", "Taalapp"]
    assert schools_listed(browser, "done") == [LYCEUM, REGENBOOG]
    for session_id in sessions:
        assert federation.broker.store.get_session(session_id) is None
    for app in APPS:
        assert whoami(browser, federation.supplier(app)) is None, app
    for school in ("regenboog", "lyceum"):  # nobody is logged in at either school here
        browser.get(f"{federation.supplier(APPS[0])}/login", {"school": school})
        assert at_school_login(browser), school


def test_a_short_logout_is_one_chain_without_a_page_between(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, APPS[0], "regenboog", DEFAULT_PEOPLE[0].id)
    start = len(browser.history)

    log_out(browser, federation.issuer)

    assert not going_on_pages(federation, browser.history[start:])
    assert "Je bent overal uitgelogd." in browser.text
    assert listed(browser, "done") == ["Rekenwonders"]
    assert schools_listed(browser, "done") == [REGENBOOG]


def chain_of(request: Request) -> int:
    """How many redirects the browser followed to make `request`."""
    count = 0
    while (request := request.redirected_from) is not None:  # type: ignore[assignment]
        count += 1
    return count


def test_a_long_logout_ends_on_its_page_in_a_real_browser(
        federation: Federation, browser: Browser, chromium: Chromium) -> None:
    pupils_one_after_another(federation, browser)
    context = chromium.new_context(locale="en-GB", viewport={"width": 375, "height": 900})
    try:
        context.add_cookies([{"name": c.name, "value": c.value or "", "domain": c.domain,
                              "path": c.path} for c in browser.session.cookies])
        page = context.new_page()
        chains: list[int] = []
        page.on("requestfinished",
                lambda request: chains.append(chain_of(request))
                if request.is_navigation_request() else None)
        page.goto(f"{federation.issuer}/logout")
        page.get_by_role("button", name="Log out everywhere").click()
        page.wait_for_selector("#apps-done")
        assert page.url.startswith(federation.issuer)
        assert "You are logged out everywhere." in page.inner_text("main")
        assert max(chains) <= MOST_REDIRECTS
        for app in APPS:  # the apps, asked in this browser
            assert page.goto(f"{federation.supplier(app)}/whoami") is not None
            assert page.inner_text("body").strip() == "null", app
    finally:
        context.close()


def served(html: str) -> WSGIApplication:
    """A WSGI app that answers every request with `html`."""
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode()]
    return app


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_going_on_page_reads_well_at_every_width(
        federation: Federation, chromium: Chromium, axe_url: str, lang: str) -> None:
    target = f"{federation.supplier(APPS[0])}/slo?SAMLRequest=next"
    with federation.running.apps["broker"].test_request_context():
        html = carry_on(GoingOn(Outgoing(target), lang)).get_data(as_text=True)
    context = chromium.new_context(viewport={"width": 375, "height": 900})
    try:
        page = context.new_page()
        page.route(lambda url: url == target, stay)
        with serve(served(html)) as shown, page.expect_request(
                lambda request: request.url == target):  # it goes on by itself
            page.goto(shown)
        expect(page.get_by_role("heading", name=GOING_ON[lang])).to_be_visible()
        expect(page.locator("#loper-next")).to_have_attribute("href", target)
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            check_page(page, lang, axe_url)
    finally:
        context.close()


def stay(route: Route) -> None:
    """No content: the browser stays on the page it was going on from."""
    route.fulfill(status=204)
