"""A shared classroom device: pupil A logs in at two apps and walks away without logging out;
pupil B logs in afresh in the same browser at a third app (the app asks ForceAuthn), which
replaces A's SSO session in the cookie. B's logout, however it starts, ends A's session too:
every app of either pupil is logged out, both sessions are gone from the state store and A's
refresh token is refused. The real demo federation over HTTP, the suppliers' own libraries.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker.web import cookies
from demo.people import DEFAULT_PEOPLE
from tests.flows.conftest import Federation, at_school_login, log_out, whoami
from tests.flows.oidc_clients import RpClient, register_client
from tests.flows.test_logout_refresh import AuthlibRp, assert_ended
from tests.flows.test_logout_saml import listed
from tests.peers.browser import Browser

PUPIL_A, PUPIL_B = DEFAULT_PEOPLE[0], DEFAULT_PEOPLE[1]
APPS = ("rekenwonders", "leesplein", "taalapp")


@pytest.fixture(scope="module")
def offline(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, "offline-app", [f"{catcher}/offline/cb"],
                           {"regenboog": ["given_name"]}, offline_access=True)


@pytest.fixture
def rp(federation: Federation, offline: RpClient) -> Iterator[AuthlibRp]:
    the_rp = AuthlibRp(federation, offline)
    yield the_rp
    the_rp.session.close()


def sso_cookie(federation: Federation, browser: Browser) -> str:
    name = cookies.cookie_name(federation.broker.settings, cookies.SSO)
    value = browser.session.cookies.get(name)
    assert value, "no SSO session in this browser"
    return str(value)


def at(browser: Browser, federation: Federation, app: str, **params: str) -> None:
    browser.get(f"{federation.supplier(app)}/login", {"school": "regenboog", **params})


def a_then_b(federation: Federation, browser: Browser,
             rp: AuthlibRp) -> tuple[str, str, dict[str, str]]:
    """A at Rekenwonders and Leesplein (and the offline app, with a refresh token), then B
    afresh at Taalapp: A's session id, B's, and A's tokens."""
    at(browser, federation, "rekenwonders")
    assert at_school_login(browser)
    browser.login(PUPIL_A.id)
    at(browser, federation, "leesplein")  # from A's session: no password
    assert whoami(browser, federation.supplier("leesplein"))["status"] == "ok"
    token = rp.log_in(browser)
    session_a = sso_cookie(federation, browser)
    at(browser, federation, "taalapp", force="1")  # ForceAuthn: whoever sits here types
    assert at_school_login(browser)
    browser.login(PUPIL_B.id)
    assert whoami(browser, federation.supplier("taalapp"))["status"] == "ok"
    session_b = sso_cookie(federation, browser)
    assert session_b != session_a
    store = federation.broker.store
    assert store.get_session(session_a) is not None  # A's lives on, out of the cookie
    return session_a, session_b, token


def assert_all_gone(federation: Federation, browser: Browser, rp: AuthlibRp,
                    sessions: tuple[str, ...], token: dict[str, str]) -> None:
    for app in APPS:
        assert whoami(browser, federation.supplier(app)) is None, app
    for session_id in sessions:
        assert federation.broker.store.get_session(session_id) is None
    assert_ended(rp, token)


def test_log_out_everywhere_ends_the_previous_pupils_session_too(
        federation: Federation, browser: Browser, rp: AuthlibRp) -> None:
    session_a, session_b, token = a_then_b(federation, browser, rp)
    with Browser() as other:  # a session in another browser is nobody's business here
        at(other, federation, "rekenwonders")
        other.login(PUPIL_A.id)
        log_out(browser, federation.issuer)
        assert whoami(other, federation.supplier("rekenwonders"))["status"] == "ok"
        assert federation.broker.store.get_session(sso_cookie(federation, other)) is not None
    assert listed(browser, "none") == ["Offline App"]  # it registered no logout
    assert sorted(listed(browser, "done")) == ["Leesplein", "Rekenwonders", "Taalapp"]
    assert_all_gone(federation, browser, rp, (session_a, session_b), token)
    at(browser, federation, "rekenwonders")
    assert at_school_login(browser)  # nobody is logged in on this device any more


def test_an_apps_own_logout_ends_the_previous_pupils_session_too(
        federation: Federation, browser: Browser, rp: AuthlibRp) -> None:
    session_a, session_b, token = a_then_b(federation, browser, rp)
    taalapp = federation.supplier("taalapp")
    browser.post(f"{taalapp}/logout", {})  # B's app asks (python3-saml LogoutRequest)
    assert browser.url.startswith(f"{taalapp}/slo"), browser.text[:300]
    assert_all_gone(federation, browser, rp, (session_a, session_b), token)


def test_a_logout_without_a_replaced_session_is_as_before(
        federation: Federation, browser: Browser) -> None:
    at(browser, federation, "rekenwonders")
    browser.login(PUPIL_A.id)
    at(browser, federation, "taalapp")  # from the session: nothing replaced
    session = sso_cookie(federation, browser)
    assert federation.broker.store.get_token("sso-earlier", session) is None
    log_out(browser, federation.issuer)
    assert sorted(listed(browser, "done")) == ["Rekenwonders", "Taalapp"]
    assert "Je bent overal uitgelogd." in browser.text
