"""A logout's last answer coming again (broker/logout/journey.py): the pupil reloads Loper's
"logged out" page, or a phone restores its tab, and the supplier's or school's answer is sent
once more. In the browser where that logout ran and is over, the page says again how it went
(200) and nothing is done: no peer is called, nothing is written, no cookie is cleared, nobody
is logged out. Anywhere else, and for any other message naming that logout, it is refused as
before and nobody is logged out.
"""

from __future__ import annotations

import lxml.html
import requests

from tests.flows.conftest import Federation, at_school_login, log_out, whoami
from tests.hostile.attacker import StateWatch, Traffic, query_of, refused, send
from tests.hostile.test_logout import Attacker, session_alive
from tests.peers.browser import Browser

REFUSED_TITLE = "Dit uitlogbericht klopt niet"


def listed(page: str, result: str) -> list[str]:
    """The apps Loper's logout page lists as `result` (done, frame, none, failed)."""
    doc = lxml.html.fromstring(page)
    return [str(li.text_content()) for li in doc.xpath(f'//ul[@class="apps apps-{result}"]/li')]


def log_in(browser: Browser, federation: Federation, supplier: str,
           school: str = "regenboog", person: str | None = None) -> None:
    browser.get(f"{federation.supplier(supplier)}/login", {"school": school})
    if at_school_login(browser):
        browser.login(person or federation.pupil.id)
    assert whoami(browser, federation.supplier(supplier))["status"] == "ok", supplier


def clears_sso_cookie(response: requests.Response) -> bool:
    return any(value.startswith("loper_sso=")
               for value in response.raw.headers.getlist("Set-Cookie"))


def logged_out_at_saml_app(federation: Federation, browser: Browser) -> str:
    """Log in at both SAML apps and Leesplein, press "log out everywhere": the URL of the page
    it ended on, where Taalapp's LogoutResponse came back."""
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        log_in(browser, federation, supplier)
    log_out(browser, federation.issuer)
    assert browser.page.status_code == 200 and "Je bent overal uitgelogd." in browser.text
    assert browser.url.startswith(f"{federation.issuer}/saml/idp/slo?SAMLResponse="), \
        browser.url
    return browser.url


def test_reloading_the_last_page_shows_the_same_result_and_does_nothing(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    url = logged_out_at_saml_app(federation, browser)
    first = browser.text
    for _ in range(2):  # every reload, not only the first
        with state.unchanged(), traffic.none():
            again = send(browser, "GET", url)
        assert again.status_code == 200, again.text[:400]
        assert again.headers["Cache-Control"] == "no-store"
        assert "Je bent overal uitgelogd." in again.text
        assert REFUSED_TITLE not in again.text and "niemand uitgelogd" not in again.text
        assert listed(again.text, "done") == listed(first, "done") == [
            "Leesplein", "Rekenwonders", "Taalapp"]
        assert 'id="school-done"' in again.text
        assert "<iframe" not in again.text and "<form" not in again.text
        assert not clears_sso_cookie(again)
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(supplier)) is None, supplier


def over_and_kept(federation: Federation, browser: Browser, state: StateWatch,
                  traffic: Traffic, url: str) -> requests.Response:
    """`url` (a logout message) again after the next pupil logged in at Taalapp in this
    browser: the page says that logout was over, nothing is written or sent, and that pupil
    stays logged in. The answer."""
    assert session_alive(federation, browser)
    sessions = state.sessions()
    with state.unchanged(), traffic.none():
        again = send(browser, "GET", url)
    assert again.status_code == 200, again.text[:400]
    assert ("Dit uitloggen was al klaar. Daarna is er weer iemand ingelogd op dit apparaat."
            in again.text)  # never a confirmation of the next pupil's logout
    assert "Je bent overal uitgelogd." not in again.text and REFUSED_TITLE not in again.text
    assert '<a id="log-out-now" href="/logout' in again.text  # a way out for the pupil now
    assert not clears_sso_cookie(again)
    assert state.sessions() == sessions and session_alive(federation, browser)
    assert whoami(browser, federation.supplier("taalapp"))["status"] == "ok"
    return again


def test_a_reload_after_someone_logged_in_again_logs_nobody_out(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    url = logged_out_at_saml_app(federation, browser)
    log_in(browser, federation, "taalapp")  # the next pupil, on the same device
    over_and_kept(federation, browser, state, traffic, url)


def test_the_same_answer_in_another_browser_is_still_refused(
        federation: Federation, browser: Browser, state: StateWatch) -> None:
    url = logged_out_at_saml_app(federation, browser)
    with Browser() as other:
        log_in(other, federation, "taalapp")
        with state.unchanged():
            refused(send(other, "GET", url), 403, "logout_rejected", "belongs to no logout")
        assert session_alive(federation, other)


def test_another_message_naming_a_finished_logout_is_still_refused(
        federation: Federation, browser: Browser, state: StateWatch) -> None:
    url = logged_out_at_saml_app(federation, browser)
    run = query_of(url)["RelayState"]
    log_in(browser, federation, "taalapp")
    attacker = Attacker(federation)
    forged = attacker.message("", kind="LogoutResponse", in_response_to="_" + "ab" * 20)
    unsigned = attacker.message("", kind="LogoutResponse", in_response_to="_" + "cd" * 20)
    with state.unchanged():
        refused(send(browser, "GET", attacker.url(forged, relay_state=run)), 403,
                "logout_rejected", "belongs to no logout")
        refused(send(browser, "GET", attacker.url(unsigned, relay_state=run, signed=False)),
                403, "logout_rejected")
    assert session_alive(federation, browser)
    assert whoami(browser, federation.supplier("taalapp"))["status"] == "ok"


def test_an_answer_coming_again_while_its_logout_goes_on_is_refused_and_waited_past(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "taalapp")
    started = send(browser, "GET", federation.issuer + "/logout")
    token = started.text.split('name="csrf_token" value="')[1].split('"')[0]
    step = send(browser, "POST", federation.issuer + "/logout", data={"csrf_token": token})
    at_school = send(browser, "GET", step.headers["Location"])
    answer = at_school.headers["Location"]  # the school's answer, at Loper
    to_taalapp = send(browser, "GET", answer)
    assert to_taalapp.headers["Location"].startswith(federation.supplier("taalapp") + "/slo?")
    refused(send(browser, "GET", answer), 403, "logout_rejected", "still going on")
    browser.get(to_taalapp.headers["Location"])  # the logout goes on: Taalapp answers
    assert browser.url.startswith(f"{federation.issuer}/saml/idp/slo?SAMLResponse=")
    assert browser.page.status_code == 200 and "Je bent overal uitgelogd." in browser.text
    assert listed(browser.text, "done") == ["Taalapp"]


def test_reloading_the_page_after_the_oidc_schools_answer_shows_it_again(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    log_in(browser, federation, "leesplein", school="lyceum",
           person=federation.lyceum_pupil.id)
    log_out(browser, federation.issuer)
    url = browser.url
    assert url.startswith(f"{federation.issuer}/oidc/logged-out?state="), url
    assert browser.page.status_code == 200 and 'id="school-done"' in browser.text
    with state.unchanged(), traffic.none():
        again = send(browser, "GET", url)
    assert again.status_code == 200, again.text[:400]
    assert "Je bent overal uitgelogd." in again.text and REFUSED_TITLE not in again.text
    assert listed(again.text, "done") == ["Leesplein"] and 'id="school-done"' in again.text
    assert not clears_sso_cookie(again)
    with Browser() as other, state.unchanged():
        refused(send(other, "GET", url), 403, "logout_rejected")


def test_reloading_the_page_of_an_apps_oidc_logout_shows_it_again(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    log_in(browser, federation, "leesplein")
    token = browser.get_json(f"{federation.supplier('leesplein')}/whoami")["raw_id_token"]
    browser.get(f"{federation.issuer}/oidc/logout", {
        "id_token_hint": token, "post_logout_redirect_uri": "https://evil.example/bye"})
    url = browser.url  # the school's answer: Loper's page, as the app's page is not registered
    assert url.startswith(f"{federation.issuer}/saml/sp/slo?SAMLResponse="), url
    with state.unchanged(), traffic.none():
        again = send(browser, "GET", url)
    assert again.status_code == 200, again.text[:400]
    assert "Je bent overal uitgelogd." in again.text and REFUSED_TITLE not in again.text
    assert listed(again.text, "done") == ["Leesplein"] and 'id="school-done"' in again.text
    assert "evil.example" not in again.text and "Location" not in again.headers
