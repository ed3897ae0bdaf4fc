"""SAML single logout over HTTP, with the suppliers' own libraries checking every message:
Rekenwonders (pysaml2) and Taalapp (python3-saml) as SPs, Leesplein (OIDC) beside them.
Loper's LogoutRequests go to each SP in turn; an SP's own LogoutRequest logs out the others.
"""

from __future__ import annotations

import lxml.html

from tests.flows.conftest import Federation, at_school_login, log_out, whoami
from tests.peers.browser import Browser


def listed(browser: Browser, result: str) -> list[str]:
    page = lxml.html.fromstring(browser.text)
    return [str(li.text_content()) for li in page.xpath(f'//ul[@class="apps apps-{result}"]/li')]


def log_in_everywhere(browser: Browser, federation: Federation) -> None:
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        browser.get(f"{federation.supplier(supplier)}/login", {"school": "regenboog"})
        if at_school_login(browser):
            browser.login(federation.pupil.id)
        assert whoami(browser, federation.supplier(supplier))["status"] == "ok"


def test_log_out_everywhere_goes_through_every_saml_sp(federation: Federation,
                                                        browser: Browser) -> None:
    log_in_everywhere(browser, federation)
    log_out(browser, federation.issuer)
    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert sorted(listed(browser, "done")) == ["Leesplein", "Rekenwonders", "Taalapp"]
    assert browser.page.status_code == 200 and 'id="school-done"' in browser.text
    assert "Je bent overal uitgelogd." in browser.text
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(supplier)) is None, supplier
    browser.get(f"{federation.supplier('taalapp')}/login", {"school": "regenboog"})
    assert at_school_login(browser)  # the school's session ended too: a password again


def test_the_schools_own_logout_reaches_every_app(federation: Federation,
                                                  browser: Browser) -> None:
    log_in_everywhere(browser, federation)
    school = federation.running.school
    browser.post(f"{school}/logout", {})
    assert browser.url.startswith(f"{school}/slo"), browser.text[:300]
    assert "You are logged out at school and everywhere." in browser.text
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(supplier)) is None, supplier
    browser.get(f"{federation.supplier('taalapp')}/login", {"school": "regenboog"})
    assert at_school_login(browser)


def test_an_apps_own_logout_logs_out_the_others_and_is_answered(
        federation: Federation, browser: Browser) -> None:
    log_in_everywhere(browser, federation)
    rekenwonders = federation.supplier("rekenwonders")
    browser.post(f"{rekenwonders}/logout", {})
    assert browser.url.startswith(f"{rekenwonders}/slo"), browser.text[:300]
    assert "You are logged out everywhere." in browser.text
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(supplier)) is None, supplier


def test_taalapps_own_logout_is_answered_too(federation: Federation,
                                             browser: Browser) -> None:
    log_in_everywhere(browser, federation)
    taalapp = federation.supplier("taalapp")
    browser.post(f"{taalapp}/logout", {})
    assert browser.url.startswith(f"{taalapp}/slo"), browser.text[:300]
    assert "You are logged out everywhere." in browser.text
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(supplier)) is None, supplier
