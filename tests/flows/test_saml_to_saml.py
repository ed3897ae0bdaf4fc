"""SAML school -> Loper -> SAML suppliers, over real HTTP, as a pupil would click through."""

from __future__ import annotations

import re

from tests.flows.conftest import (
    OID_AFFILIATION,
    OID_GIVEN_NAME,
    OID_MEMBER_OF,
    PAIRWISE_ID,
    PERSISTENT,
    Federation,
    log_in_via_picker,
    log_out,
)
from tests.peers.browser import Browser

PSEUDONYM = re.compile(r"^v1-[a-z2-7]{52}$")


def whoami(browser: Browser, supplier_url: str) -> dict[str, object]:
    data: dict[str, object] = browser.get_json(f"{supplier_url}/whoami")
    return data


def test_a_pupil_logs_in_and_the_supplier_gets_exactly_the_release(
        federation: Federation, browser: Browser) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    assert browser.url.startswith(rekenwonders)
    me = whoami(browser, rekenwonders)
    assert me["status"] == "ok"
    assert me["name_id_format"] == PERSISTENT
    assert PSEUDONYM.match(str(me["name_id"]))
    assert me["attributes"] == {
        OID_GIVEN_NAME: ["Sanne"], OID_AFFILIATION: ["student"],
        PAIRWISE_ID: [f"{me['name_id']}@127.0.0.1"]}
    assert federation.pupil.id not in browser.text


def test_second_supplier_needs_no_school_login_and_gets_another_pseudonym(
        federation: Federation, browser: Browser) -> None:
    rekenwonders, taalapp = federation.supplier("rekenwonders"), federation.supplier("taalapp")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    first = whoami(browser, rekenwonders)
    browser.get(f"{taalapp}/login")
    assert browser.url.startswith(taalapp), "expected single sign-on, got " + browser.url
    second = whoami(browser, taalapp)
    assert second["status"] == "ok"
    assert second["name_id"] != first["name_id"] and PSEUDONYM.match(str(second["name_id"]))
    assert second["attributes"] == {
        OID_GIVEN_NAME: ["Sanne"], OID_AFFILIATION: ["student"], OID_MEMBER_OF: ["groep-7a"],
        PAIRWISE_ID: [f"{second['name_id']}@127.0.0.1"]}


def test_the_pseudonym_is_stable_across_logins_and_browsers(federation: Federation) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    names = []
    for _ in range(2):
        with Browser() as browser:
            log_in_via_picker(browser, rekenwonders, federation.pupil)
            names.append(whoami(browser, rekenwonders)["name_id"])
    assert names[0] == names[1]


def test_the_school_hint_skips_the_picker(federation: Federation, browser: Browser) -> None:
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
    assert "/discovery" not in browser.url
    assert browser.form(lambda f: "password" in f.visible)


def test_the_picker_remembers_the_last_school(federation: Federation, browser: Browser) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    log_out(browser, federation.running.broker)
    browser.get(f"{rekenwonders}/login")
    assert "Vorige keer gekozen" in browser.text or "Chosen last time" in browser.text


def test_force_authn_sends_the_pupil_back_to_the_school(federation: Federation,
                                                        browser: Browser) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    browser.get(f"{rekenwonders}/login", {"force": "1"})
    assert browser.form(lambda f: "password" in f.visible), "ForceAuthn must show the login"
    browser.login(federation.pupil.id)
    assert whoami(browser, rekenwonders)["status"] == "ok"


def test_is_passive_without_a_session_answers_no_passive(federation: Federation,
                                                         browser: Browser) -> None:
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login", {"passive": "1"})
    assert browser.url.startswith(taalapp)
    assert whoami(browser, taalapp)["status"] == "NoPassive"


def test_is_passive_with_a_session_logs_in_silently(federation: Federation,
                                                    browser: Browser) -> None:
    rekenwonders, taalapp = federation.supplier("rekenwonders"), federation.supplier("taalapp")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    browser.get(f"{taalapp}/login", {"passive": "1"})
    assert whoami(browser, taalapp)["status"] == "ok"


def test_log_out_everywhere_ends_single_sign_on(federation: Federation,
                                                browser: Browser) -> None:
    rekenwonders, taalapp = federation.supplier("rekenwonders"), federation.supplier("taalapp")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    log_out(browser, federation.running.broker)
    assert "logged out everywhere" in browser.text or "overal uitgelogd" in browser.text
    browser.get(f"{taalapp}/login", {"passive": "1"})
    assert whoami(browser, taalapp)["status"] == "NoPassive"


def test_a_suspended_supplier_stops_at_once_with_a_clear_page(federation: Federation,
                                                              browser: Browser) -> None:
    registry = federation.registry
    registry.suspend("regenboog", "taalapp", "under review after a data incident")
    try:
        page = browser.get(f"{federation.supplier('taalapp')}/login", {"school": "regenboog"})
        assert page.status_code == 403, "stopped before the pupil is sent to the school"
        assert "Taalapp" in browser.text and "OBS De Regenboog" in browser.text
        assert "under review after a data incident" in browser.text
        assert "SAMLResponse" not in browser.text
    finally:
        registry.resume("regenboog", "taalapp")


def test_every_release_lands_in_the_ledger_without_values(federation: Federation,
                                                          browser: Browser) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    name_id = whoami(browser, rekenwonders)["name_id"]
    ledger = federation.registry.ledger()
    entry = ledger.entries("regenboog", "rekenwonders", limit=1)[0]
    assert entry.pseudonym == name_id
    assert entry.attributes == ("given_name", "role")
    assert ledger.verify().ok
