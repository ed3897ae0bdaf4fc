"""Activation, end to end: a supplier the school has not activated gets nothing, SAML or OIDC,
and the pupil is told so before being sent to the school; an activated supplier with an
empty release gets the pseudonym only; an agreement holds through its last day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from broker import localtime
from broker.records import Policy
from tests.flows.conftest import (
    PAIRWISE_ID,
    REGENBOOG,
    Federation,
    at_school_login,
    log_in_via_picker,
    whoami,
)
from tests.flows.oidc_clients import register_client, strict_rp
from tests.peers.browser import Browser

NOT_ENABLED = "nog niet aangezet"


def releases(federation: Federation, supplier: str) -> int:
    return len(federation.registry.ledger().entries("regenboog", supplier, limit=10_000))


@pytest.fixture
def taalapp_entry(federation: Federation) -> Iterator[Policy]:
    """Regenboog's release entry for Taalapp (a SAML SP), put back after the test."""
    registry = federation.registry
    before = registry.policy("regenboog", "taalapp")
    assert before is not None and before.active
    yield before
    registry.set_policy(before)


def answers(browser: Browser) -> int:
    """SAML Responses the browser posted so far (to Loper or to a supplier)."""
    return len([p for p in browser.saml_posts if "SAMLResponse" in p])


def attempt(browser: Browser, url: str, params: dict[str, str] | None = None) -> int:
    """Open `url`; returns answers() before."""
    posted = answers(browser)
    browser.get(url, params)
    return posted


def assert_stopped(federation: Federation, browser: Browser, supplier: str, count: int,
                   posted: int) -> None:
    assert browser.page.status_code == 403
    assert NOT_ENABLED in browser.text and "supplier_not_activated" in browser.text
    assert not at_school_login(browser), "never sent to the school"
    assert answers(browser) == posted, "no answer posted to anyone"
    assert "code=" not in browser.url
    assert releases(federation, supplier) == count, "nothing in the ledger"


def test_a_saml_supplier_not_activated_gets_nothing(federation: Federation, browser: Browser,
                                                    taalapp_entry: Policy) -> None:
    federation.registry.deactivate("regenboog", "taalapp")
    count = releases(federation, "taalapp")
    taalapp = federation.supplier("taalapp")
    posted = attempt(browser, f"{taalapp}/login", {"school": "regenboog"})  # hinted
    assert_stopped(federation, browser, "taalapp", count, posted)
    posted = attempt(browser, f"{taalapp}/login")  # picked in the picker
    browser.click(REGENBOOG)
    assert_stopped(federation, browser, "taalapp", count, posted)
    log_in_via_picker(browser, federation.supplier("rekenwonders"), federation.pupil)
    assert whoami(browser, federation.supplier("rekenwonders"))["status"] == "ok"
    posted = attempt(browser, f"{taalapp}/login")  # single sign-on session: still nothing
    assert_stopped(federation, browser, "taalapp", count, posted)


def test_an_oidc_supplier_not_activated_gets_nothing(federation: Federation, browser: Browser,
                                                     catcher: str) -> None:
    client = register_client(federation, "unactivated-rp", [f"{catcher}/unactivated/cb"], {})
    with strict_rp(federation.issuer, client) as rp:
        posted = attempt(browser, rp.begin(scope="openid profile").url)
        browser.click(REGENBOOG)
        assert_stopped(federation, browser, client.client_id, 0, posted)
        log_in_via_picker(browser, federation.supplier("rekenwonders"), federation.pupil)
        posted = attempt(browser, rp.begin(scope="openid profile").url)  # single sign-on
        assert_stopped(federation, browser, client.client_id, 0, posted)


def test_an_activated_saml_supplier_with_an_empty_release_gets_the_pseudonym_only(
        federation: Federation, browser: Browser, taalapp_entry: Policy) -> None:
    federation.registry.set_policy(Policy("regenboog", "taalapp"))
    taalapp = federation.supplier("taalapp")
    log_in_via_picker(browser, taalapp, federation.pupil)
    me = whoami(browser, taalapp)
    assert me["status"] == "ok" and me["name_id"]
    assert set(me["attributes"]) == {PAIRWISE_ID}  # type: ignore[call-overload]
    entry = federation.registry.ledger().entries("regenboog", "taalapp", limit=1)[0]
    assert entry.attributes == ()


def test_an_activated_oidc_supplier_with_an_empty_release_gets_the_pseudonym_only(
        federation: Federation, browser: Browser, catcher: str) -> None:
    client = register_client(federation, "empty-release-rp", [f"{catcher}/empty/cb"],
                             {"regenboog": []})
    with strict_rp(federation.issuer, client) as rp:
        login = rp.begin(scope="openid profile email")
        browser.get(login.url)
        browser.click(REGENBOOG)
        browser.login(federation.pupil.id)
        tokens = rp.finish(login, browser.url)
        assert tokens.sub and tokens.claims == {}
        userinfo = rp.userinfo(tokens.access_token).json()
        assert set(userinfo) == {"sub"}
    entry = federation.registry.ledger().entries("regenboog", client.client_id, limit=1)[0]
    assert entry.attributes == ()


def test_an_agreement_holds_on_its_last_day_and_stops_the_day_after(
        federation: Federation, browser: Browser, taalapp_entry: Policy) -> None:
    registry = federation.registry
    today = localtime.today()  # an agreement's days are Dutch days
    taalapp = federation.supplier("taalapp")
    registry.set_policy(replace(taalapp_entry, valid_until=today))  # its last day
    log_in_via_picker(browser, taalapp, federation.pupil)
    assert whoami(browser, taalapp)["status"] == "ok"
    count = releases(federation, "taalapp")
    registry.set_policy(replace(taalapp_entry, valid_until=today - timedelta(days=1)))
    browser.get(f"{taalapp}/login")  # single sign-on: today is the day it expired
    assert browser.page.status_code == 403
    assert "data-error-code=\"agreement_ended\"" in browser.text and "is afgelopen" in browser.text
    assert releases(federation, "taalapp") == count
