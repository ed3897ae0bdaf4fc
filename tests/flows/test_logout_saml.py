"""SAML single logout over HTTP, with the suppliers' own libraries checking every message:
Rekenwonders (pysaml2) and Taalapp (python3-saml) as SPs, Leesplein (OIDC) beside them.
Loper's LogoutRequests go to each SP in turn; an SP's own LogoutRequest logs out the others.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from tests.flows.conftest import Federation, at_school_login, log_out, whoami
from tests.flows.oidc_clients import register_client
from tests.peers.browser import Browser, decode_saml
from tests.peers.servers import serve


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


@pytest.mark.parametrize("app", ["rekenwonders", "taalapp"])  # pysaml2, python3-saml
def test_an_apps_own_logout_logs_out_the_others_and_is_answered(
        federation: Federation, browser: Browser, app: str) -> None:
    log_in_everywhere(browser, federation)
    own = federation.supplier(app)
    browser.post(f"{own}/logout", {})
    assert browser.url.startswith(f"{own}/slo"), browser.text[:300]
    assert "You are logged out everywhere." in browser.text  # Success, not PartialLogout
    for supplier in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(supplier)) is None, supplier
    browser.get(f"{federation.supplier('leesplein')}/login", {"school": "regenboog"})
    assert at_school_login(browser)  # at school too


def _refusing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    return [b""]


def test_an_app_that_could_not_be_reached_makes_it_a_partial_logout(
        federation: Federation, browser: Browser) -> None:
    with serve(_refusing) as base:
        register_client(federation, "refusing-rp", [f"{base}/cb"], {"regenboog": ["role"]},
                        backchannel_logout_uri=f"{base}/logout")
        browser.get(f"{federation.issuer}/oidc/authorize", {
            "client_id": "refusing-rp", "redirect_uri": f"{base}/cb",
            "response_type": "code", "scope": "openid", "school": "regenboog",
            "code_challenge_method": "S256",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
        browser.login(federation.pupil.id)
        rekenwonders = federation.supplier("rekenwonders")
        browser.get(f"{rekenwonders}/login", {"school": "regenboog"})
        browser.post(f"{rekenwonders}/logout", {})
    answer = next(r.url for r in reversed(browser.history)
                  if r.url.startswith(f"{rekenwonders}/slo?SAMLResponse="))
    sent = decode_saml(parse_qs(urlsplit(answer).query)["SAMLResponse"][0])
    assert "status:Success" in sent and "status:PartialLogout" in sent
