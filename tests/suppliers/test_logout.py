"""Single logout with supplier software from the field, both ways.

(a) The pupil logs out at the app: Shibboleth, mellon and SimpleSAMLphp send Loper a signed
SAML LogoutRequest (SP-initiated SLO) and get Loper's LogoutResponse; mod_auth_openidc sends
the browser to Loper's end_session_endpoint with its ID token as hint. Loper's session ends,
and the school's: the next login there asks for the school and its password again.
(b) "Log out everywhere" at Loper reaches the app: Shibboleth, mellon and SimpleSAMLphp get
Loper's signed LogoutRequest in the browser's redirect chain and answer it; mod_auth_openidc
gets a logout token at its registered backchannel_logout_uri, or (a second instance) its
front-channel logout loaded by a real Chromium in the iframe of Loper's page. The app's
session is gone: its protected page sends the browser to Loper again.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from demo.people import DEFAULT_PEOPLE
from tests.flows.conftest import Federation, at_school_login, log_out
from tests.flows.test_logout_saml import listed
from tests.peers.browser import Browser
from tests.suppliers.conftest import LOGOUT_SOFTWARE
from tests.suppliers.journey import log_in, log_in_with_page, open_app
from tests.suppliers.loper import SCHOOL
from tests.suppliers.slo import (
    SUCCESS,
    assert_logged_out_at_app,
    mark,
    own_logout,
    saml_messages,
    status_of,
)
from tests.suppliers.software import SupplierSoftware

DAAN, NOOR = DEFAULT_PEOPLE[1], DEFAULT_PEOPLE[2]
"""Pupils with no session at the software but the test's own: mellon finds the session a
LogoutRequest ends by its NameID alone (test_mellon_finds_the_session_to_end_by_nameid_alone)."""


@pytest.mark.parametrize("software", list(LOGOUT_SOFTWARE), indirect=True)
def test_logging_out_at_the_app_ends_lopers_session(loper: Federation,
                                                    software: SupplierSoftware,
                                                    browser: Browser) -> None:
    log_in(browser, software, DAAN)
    since = mark(browser)

    browser.get(own_logout(software))

    assert browser.url.startswith(f"{software.base_url}/"), browser.text[:500]
    if software.protocol == "saml":
        requests_ = saml_messages(browser, since, f"{loper.issuer}/saml/idp/slo",
                                  "SAMLRequest")
        assert len(requests_) == 1 and "LogoutRequest" in requests_[0]
        answers = saml_messages(browser, since, software.base_url, "SAMLResponse")
        assert [status_of(xml) for xml in answers] == [SUCCESS]
    else:
        ended = [r.url for r in browser.history[since[0]:]
                 if r.url.startswith(f"{loper.issuer}/oidc/logout")]
        assert ended and "id_token_hint=" in ended[0]
    assert_logged_out_at_app(browser, loper, software, DAAN)


@pytest.mark.parametrize("software", list(LOGOUT_SOFTWARE), indirect=True)
def test_log_out_everywhere_reaches_the_app(loper: Federation, software: SupplierSoftware,
                                            browser: Browser) -> None:
    log_in(browser, software, NOOR)
    since = mark(browser)

    log_out(browser, loper.issuer)

    assert browser.url.startswith(loper.issuer), browser.text[:500] + "".join(
        log.read_text()[-3000:] for log in software.logs)
    assert listed(browser, "done") == [software.supplier_name], browser.text[:2000]
    assert 'id="school-done"' in browser.text
    if software.protocol == "saml":  # the LogoutRequest went through the browser, answered
        asked = saml_messages(browser, since, software.base_url, "SAMLRequest")
        assert len(asked) == 1 and "LogoutRequest" in asked[0]
        answers = saml_messages(browser, since, f"{loper.issuer}/saml/idp/slo",
                                "SAMLResponse")
        assert [status_of(xml) for xml in answers] == [SUCCESS]
    else:  # the back channel: the browser never went to the app
        assert not [r.url for r in browser.history[since[0]:]
                    if r.url.startswith(software.base_url)]
    assert_logged_out_at_app(browser, loper, software, NOOR)


def test_mellon_finds_the_session_to_end_by_nameid_alone(loper: Federation,
                                                         mellon: SupplierSoftware,
                                                         browser: Browser) -> None:
    """A pupil logged in at mellon on two devices: Loper's LogoutRequest for the second names
    the NameID and SessionIndex of the second, but mellon looks the session up by NameID
    alone, finds the other one, and Lasso refuses the request ("Unknown principal on
    logout"): mellon answers HTTP 500 and no LogoutResponse. The school was logged out before
    any app, so the next pupil on this device still has to type a password."""
    with Browser() as other_device:
        log_in(other_device, mellon, loper.pupil)
    log_in(browser, mellon, loper.pupil)

    log_out(browser, loper.issuer)

    assert browser.url.startswith(f"{mellon.base_url}/mellon/logout?SAMLRequest=")
    assert browser.page.status_code == 500
    assert "Unknown principal on logout" in (mellon.folder / "error.log").read_text()
    browser.get(f"{loper.supplier('rekenwonders')}/login", {"school": SCHOOL})
    assert at_school_login(browser)


def test_a_logout_stuck_at_an_app_goes_on_when_the_pupil_logs_out_again(
        loper: Federation, mellon: SupplierSoftware, simplesamlphp: SupplierSoftware,
        browser: Browser) -> None:
    """The chain stops at mellon's HTTP 500 (the two-device case above), before SimpleSAMLphp
    was asked. The pupil goes back to Loper and presses "log out everywhere" again: mellon
    counts as not reached, and the logout goes on with SimpleSAMLphp."""
    with Browser() as other_device:
        log_in(other_device, mellon, NOOR)
    log_in(browser, mellon, NOOR)
    browser.get(simplesamlphp.app_url)  # single sign-on: no school login
    assert open_app(browser, simplesamlphp) is not None

    log_out(browser, loper.issuer)
    assert browser.url.startswith(f"{mellon.base_url}/mellon/logout?SAMLRequest=")
    assert browser.page.status_code == 500

    log_out(browser, loper.issuer)

    assert browser.url.startswith(loper.issuer), browser.text[:500]
    assert listed(browser, "failed") == [mellon.supplier_name]
    assert listed(browser, "done") == [simplesamlphp.supplier_name]
    browser.get(simplesamlphp.app_url)
    assert open_app(browser, simplesamlphp) is None  # its session ended too


def test_front_channel_logout_reaches_mod_auth_openidc_in_a_real_browser(
        loper: Federation, openidc_front: SupplierSoftware, page: Page) -> None:
    """Chromium loads the app's logout (its redirect URI with logout=get, iss and sid) in the
    hidden iframe of Loper's page; mod_auth_openidc ends its session from that request."""
    log_in_with_page(page, openidc_front, loper.pupil)
    page.goto(f"{loper.issuer}/logout?lang=en")
    frame_url = f"{openidc_front.client.redirect_uri}?logout=get"  # type: ignore[union-attr]
    with page.expect_response(lambda r: r.url.startswith(frame_url)) as framed:
        page.get_by_role("button", name="Log out everywhere").click()
    asked = parse_qs(urlsplit(framed.value.url).query)
    assert asked["iss"] == [loper.issuer] and asked["sid"][0]
    assert framed.value.status == 200
    assert openidc_front.supplier_name in page.locator("ul.apps-frame").inner_text()
    page.goto(openidc_front.app_url)  # the app's session is gone: back to Loper's picker
    assert "/discovery" in page.url, page.url
