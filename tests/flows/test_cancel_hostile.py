"""The way out of a login (/discovery/cancel), abused over real HTTP: a missing or forged
login id, another browser's link, a reload, an app removed or re-registered meanwhile. Each
gets Loper's clear error page, and no app is ever answered twice."""

from __future__ import annotations

import pytest

from tests.flows.conftest import Federation
from tests.flows.oidc_clients import register_client, strict_rp
from tests.flows.stopping import (
    assert_loper_error,
    assert_stopped_answer,
    saml_answers_to,
    stop_link,
)
from tests.peers.browser import Browser


def at_the_picker(federation: Federation, browser: Browser, app: str = "taalapp") -> str:
    """The app's login waits in the picker: the URL of its way out."""
    browser.get(f"{federation.supplier(app)}/login")
    assert "/discovery?login=" in browser.url, browser.url
    return stop_link(browser)[0]


@pytest.mark.parametrize(("query", "status", "code"), [
    ("", 400, "no_login_started"), ("?login=", 400, "no_login_started"),
    ("?login=forged-login-id", 400, "login_expired"),
    ("?login=" + "x" * 500, 400, "login_expired"),
    ("?login=%00%ff%22<b>", 400, "login_expired"),
])
def test_a_missing_or_forged_login_id(federation: Federation, browser: Browser, query: str,
                                      status: int, code: str) -> None:
    browser.get(f"{federation.issuer}/discovery/cancel{query}")
    assert_loper_error(browser, status, code)


def test_a_reload_answers_the_app_once(federation: Federation, browser: Browser) -> None:
    taalapp = federation.supplier("taalapp")
    url = at_the_picker(federation, browser)
    browser.get(url)
    assert_stopped_answer(federation, browser, taalapp)
    browser.get(url)  # the reload, or a second click through the browser's history
    assert_loper_error(browser, 400, "login_expired")
    assert "Opnieuw beginnen bij Taalapp" in browser.text, "the plain way back stays"
    assert len(saml_answers_to(browser, taalapp)) == 1


def test_another_browsers_link_is_refused_and_burns_nothing(federation: Federation,
                                                            browser: Browser) -> None:
    taalapp = federation.supplier("taalapp")
    url = at_the_picker(federation, browser)
    with Browser() as stranger:
        stranger.get(url)
        assert_loper_error(stranger, 400, "login_expired")
        assert saml_answers_to(stranger, taalapp) == []
    browser.get(url)  # the pupil's own browser still can
    assert_stopped_answer(federation, browser, taalapp)


def test_an_app_removed_meanwhile(federation: Federation, browser: Browser,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    taalapp = federation.supplier("taalapp")
    url = at_the_picker(federation, browser)
    registry = federation.registry
    known = registry.supplier
    monkeypatch.setattr(registry, "supplier",
                        lambda sid: None if sid == "taalapp" else known(sid))
    browser.get(url)
    assert_loper_error(browser, 404, "unknown_supplier")
    monkeypatch.undo()
    browser.get(url)  # back again: the login was taken, nothing is answered late
    assert_loper_error(browser, 400, "login_expired")
    assert saml_answers_to(browser, taalapp) == []


def test_an_app_whose_registration_changed_meanwhile(federation: Federation, browser: Browser,
                                                    catcher: str) -> None:
    """Its redirect URI is no longer registered: Loper sends nobody there, not even an error."""
    client = register_client(federation, "moving-rp", [f"{catcher}/moving/cb"],
                             {"regenboog": ["role"]})
    with strict_rp(federation.issuer, client) as rp:
        browser.get(rp.begin().url)
    url = stop_link(browser)[0]
    register_client(federation, "moving-rp", [f"{catcher}/moved/cb"], {"regenboog": ["role"]})
    browser.get(url)
    assert_loper_error(browser, 403, "supplier_request_rejected")
    assert f'href="{catcher}/"' in browser.text, "the plain way back to the app"
    assert not any(r.url.startswith(catcher) for r in browser.history)
    browser.get(url)
    assert_loper_error(browser, 400, "login_expired")
