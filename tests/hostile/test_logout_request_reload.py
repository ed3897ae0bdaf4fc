"""An app's own logout request coming again (broker/logout/journey.py, `asked_again`): the
pupil logged out in a learning app, and the browser sends the app's request to Loper once more
(a reload of the page it ended on, the back button, a phone restoring its tab). In the browser
where that logout ran and is over, Loper's page says again how it went, with a link back to
the app (200), and nothing is done: no peer is called (no LogoutRequest to the other apps, no
second LogoutResponse to the app), nothing is written, no cookie is cleared, nobody is logged
out. In another browser, or altered, the request is refused as a replay or a forgery, as before.

The same holds for an OIDC app's RP-initiated logout (its id_token_hint is no one-time
message, but a reload must neither send the pupil who logged in since to a confirmation of
their own logout, nor say that nobody was logged in) and for the school's own LogoutRequest.
"""

from __future__ import annotations

from urllib.parse import urlencode

import lxml.html

from tests.flows.conftest import Federation, whoami
from tests.hostile.attacker import StateWatch, Traffic, query_of, refused, send
from tests.hostile.test_logout import session_alive
from tests.hostile.test_logout_reload import (
    REFUSED_TITLE,
    clears_sso_cookie,
    listed,
    log_in,
    over_and_kept,
)
from tests.peers.browser import Browser

APPS = ["Leesplein", "Rekenwonders", "Taalapp"]


def logged_out_by_taalapp(federation: Federation, browser: Browser) -> str:
    """Log in at both SAML apps and Leesplein, then log out in Taalapp (python3-saml): the URL
    of Taalapp's LogoutRequest at Loper, after Taalapp got its LogoutResponse."""
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        log_in(browser, federation, supplier)
    taalapp = federation.supplier("taalapp")
    browser.post(f"{taalapp}/logout", {})
    assert "You are logged out everywhere." in browser.text, browser.text[:300]
    asked = [r.url for r in browser.history
             if r.url.startswith(f"{federation.issuer}/saml/idp/slo?SAMLRequest=")]
    assert len(asked) == 1, asked
    return asked[0]


def back_link(page: str) -> tuple[str, str]:
    link = lxml.html.fromstring(page).get_element_by_id("back-to-app")
    return str(link.get("href")), str(link.text_content())


def test_reloading_an_apps_logout_request_shows_how_it_went_and_does_nothing(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    url = logged_out_by_taalapp(federation, browser)
    sessions = state.sessions()
    for _ in range(2):  # every reload, not only the first
        with state.unchanged(), traffic.none():
            again = send(browser, "GET", url)
        assert again.status_code == 200, again.text[:400]
        assert again.headers["Cache-Control"] == "no-store" and "Location" not in again.headers
        assert "Je bent overal uitgelogd." in again.text
        assert REFUSED_TITLE not in again.text and "niemand" not in again.text
        assert sorted(listed(again.text, "done")) == APPS and 'id="school-done"' in again.text
        assert "<iframe" not in again.text and "<form" not in again.text
        assert "SAMLResponse" not in again.text  # the app had its answer: none again
        assert back_link(again.text) == (federation.supplier("taalapp"), "Terug naar Taalapp")
        assert not clears_sso_cookie(again)
    assert state.sessions() == sessions
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(supplier)) is None, supplier


def test_a_reload_after_another_pupil_logged_in_says_so_and_keeps_them_logged_in(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    url = logged_out_by_taalapp(federation, browser)
    log_in(browser, federation, "taalapp", person=federation.teacher.id)  # the next one
    again = over_and_kept(federation, browser, state, traffic, url)
    assert back_link(again.text)[0] == federation.supplier("taalapp")


def test_the_same_request_in_another_browser_is_still_refused(
        federation: Federation, browser: Browser, state: StateWatch) -> None:
    url = logged_out_by_taalapp(federation, browser)
    with Browser() as other:
        log_in(other, federation, "taalapp")
        with state.unchanged():
            refused(send(other, "GET", url), 403, "logout_rejected", "used once already")
        assert session_alive(federation, other)
        assert whoami(other, federation.supplier("taalapp"))["status"] == "ok"


def _altered(url: str, **changed: str) -> str:
    base = url.split("?", 1)[0]
    return f"{base}?{urlencode({**query_of(url), **changed})}"


def test_an_altered_request_is_still_refused(
        federation: Federation, browser: Browser, state: StateWatch) -> None:
    url = logged_out_by_taalapp(federation, browser)
    log_in(browser, federation, "taalapp")
    signature = query_of(url)["Signature"]
    other = ("B" if signature[0] == "A" else "A") + signature[1:]
    for altered in (_altered(url, Signature=other), _altered(url, RelayState="elsewhere")):
        with state.unchanged():
            refused(send(browser, "GET", altered), 403, "logout_rejected")
    assert session_alive(federation, browser)
    assert whoami(browser, federation.supplier("taalapp"))["status"] == "ok"


def _oidc_logout_request(federation: Federation, browser: Browser) -> str:
    """Log in at Leesplein, log out there: the URL of its RP-initiated logout at Loper."""
    log_in(browser, federation, "leesplein")
    leesplein = federation.supplier("leesplein")
    browser.post(f"{leesplein}/logout", {})
    assert browser.url.startswith(f"{leesplein}/bye?state="), browser.url
    asked = [r.url for r in browser.history
             if r.url.startswith(f"{federation.issuer}/oidc/logout?")]
    assert len(asked) == 1, asked
    return asked[0]


def test_reloading_an_oidc_apps_logout_request_shows_how_it_went(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    url = _oidc_logout_request(federation, browser)
    with state.unchanged(), traffic.none():
        again = send(browser, "GET", url)
    assert again.status_code == 200, again.text[:400]
    assert "Je bent overal uitgelogd." in again.text and "niemand" not in again.text
    assert back_link(again.text)[0] == federation.supplier("leesplein")
    assert "Location" not in again.headers and not clears_sso_cookie(again)
    log_in(browser, federation, "taalapp", person=federation.teacher.id)  # the next one
    over_and_kept(federation, browser, state, traffic, url)


def test_reloading_the_schools_logout_request_shows_how_it_went(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    for supplier in ("rekenwonders", "taalapp"):
        log_in(browser, federation, supplier)
    school = federation.running.school
    browser.post(f"{school}/logout", {})
    assert "You are logged out at school and everywhere." in browser.text, browser.text[:300]
    asked = [r.url for r in browser.history
             if r.url.startswith(f"{federation.issuer}/saml/sp/slo?SAMLRequest=")]
    assert len(asked) == 1, asked
    with state.unchanged(), traffic.none():
        again = send(browser, "GET", asked[0])
    assert again.status_code == 200, again.text[:400]
    assert REFUSED_TITLE not in again.text and "niemand" not in again.text
    assert sorted(listed(again.text, "done")) == ["Rekenwonders", "Taalapp"]
    assert not clears_sso_cookie(again)
    with Browser() as other:
        with state.unchanged():
            refused(send(other, "GET", asked[0]), 403, "used once already")
