"""OIDC school -> Loper -> SAML suppliers, over real HTTP.

The school is Het Lyceum (the demo OpenID Provider, which sends acr and over-shares a phone
number); the suppliers are Rekenwonders (pysaml2, encrypted assertions) and Taalapp
(python3-saml, assertions in the clear). SAML has no max_age: that part of the journey is
covered where the supplier speaks OIDC (test_saml_to_oidc.py, test_oidc_to_oidc.py).
"""

from __future__ import annotations

from broker.records import Policy
from tests.flows.conftest import (
    LYCEUM,
    LYCEUM_ACR,
    OID_AFFILIATION,
    OID_GIVEN_NAME,
    PAIRWISE_ID,
    PERSISTENT,
    PSEUDONYM,
    Federation,
    at_school_login,
    last_authn_context,
    log_in_via_picker,
    oidc_request_to_school,
    whoami,
)
from tests.peers.browser import Browser


def lyceum_url(federation: Federation) -> str:
    return federation.running.schools["lyceum"]


def test_a_pupil_logs_in_via_the_picker_and_gets_exactly_the_release(
        federation: Federation, browser: Browser) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    pupil = federation.lyceum_pupil
    log_in_via_picker(browser, rekenwonders, pupil, LYCEUM)
    assert browser.url.startswith(rekenwonders)
    me = whoami(browser, rekenwonders)
    assert me["status"] == "ok"
    assert me["name_id_format"] == PERSISTENT
    assert me["name_id"] == federation.pseudonym_of("lyceum", pupil, "rekenwonders")
    assert me["attributes"] == {  # the school's phone_number and e-mail stay behind
        OID_GIVEN_NAME: ["Lotte"], OID_AFFILIATION: ["student"],
        PAIRWISE_ID: [f"{me['name_id']}@127.0.0.1"]}
    sent = oidc_request_to_school(browser, lyceum_url(federation))
    assert sent["client_id"] == "loper" and sent["code_challenge_method"] == "S256"
    assert sent["redirect_uri"] == f"{federation.issuer}/oidc/callback"


def test_the_school_hint_skips_the_picker_and_acr_passes_through(
        federation: Federation, browser: Browser) -> None:
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login", {"school": "lyceum"})
    assert browser.url.startswith(lyceum_url(federation)) and at_school_login(browser)
    browser.login(federation.lyceum_teacher.id)
    me = whoami(browser, taalapp)
    assert me["status"] == "ok" and PSEUDONYM.match(str(me["name_id"]))
    # released: given_name, role, groups; the Lyceum sends no groups, so none arrive
    assert me["attributes"] == {
        OID_GIVEN_NAME: ["Fatima"], OID_AFFILIATION: ["employee"],
        PAIRWISE_ID: [f"{me['name_id']}@127.0.0.1"]}
    assert last_authn_context(browser, taalapp) == LYCEUM_ACR
    assert not any("/discovery" in r.url for r in browser.history)


def test_single_sign_on_from_an_oidc_to_a_saml_supplier(federation: Federation,
                                                        browser: Browser) -> None:
    leesplein, rekenwonders = federation.supplier("leesplein"), federation.supplier(
        "rekenwonders")
    log_in_via_picker(browser, leesplein, federation.lyceum_pupil, LYCEUM)
    at_leesplein = whoami(browser, leesplein)
    browser.get(f"{rekenwonders}/login")
    assert browser.url.startswith(rekenwonders), "expected single sign-on, got " + browser.url
    me = whoami(browser, rekenwonders)
    assert me["status"] == "ok" and me["name_id"] != at_leesplein["sub"]
    assert me["attributes"][OID_GIVEN_NAME] == ["Lotte"]  # type: ignore[index]


def test_force_authn_sends_the_pupil_back_to_the_school(federation: Federation,
                                                        browser: Browser) -> None:
    rekenwonders = federation.supplier("rekenwonders")
    log_in_via_picker(browser, rekenwonders, federation.lyceum_pupil, LYCEUM)
    first = whoami(browser, rekenwonders)
    browser.get(f"{rekenwonders}/login", {"force": "1"})
    assert at_school_login(browser), "ForceAuthn must show the school's login"
    sent = oidc_request_to_school(browser, lyceum_url(federation))
    assert sent["prompt"] == "login" and sent["max_age"] == "0"
    browser.login(federation.lyceum_pupil.id)
    again = whoami(browser, rekenwonders)
    assert again["status"] == "ok" and again["name_id"] == first["name_id"]


def test_is_passive_without_a_session_answers_no_passive(federation: Federation,
                                                         browser: Browser) -> None:
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login", {"passive": "1", "school": "lyceum"})
    assert browser.url.startswith(taalapp)
    assert whoami(browser, taalapp)["status"] == "NoPassive"


def test_is_passive_with_a_session_logs_in_silently(federation: Federation,
                                                    browser: Browser) -> None:
    rekenwonders, taalapp = federation.supplier("rekenwonders"), federation.supplier("taalapp")
    log_in_via_picker(browser, rekenwonders, federation.lyceum_pupil, LYCEUM)
    browser.get(f"{taalapp}/login", {"passive": "1"})
    me = whoami(browser, taalapp)
    assert me["status"] == "ok" and me["attributes"][OID_GIVEN_NAME] == [  # type: ignore[index]
        "Lotte"]


def test_a_changed_release_applies_from_the_next_login(federation: Federation,
                                                       browser: Browser) -> None:
    registry, rekenwonders = federation.registry, federation.supplier("rekenwonders")
    before = registry.policy("lyceum", "rekenwonders")
    assert before is not None
    log_in_via_picker(browser, rekenwonders, federation.lyceum_pupil, LYCEUM)
    assert OID_GIVEN_NAME in whoami(browser, rekenwonders)["attributes"]  # type: ignore[operator]
    try:
        registry.set_policy(Policy("lyceum", "rekenwonders", frozenset({"role"})))
        browser.get(f"{rekenwonders}/login")  # single sign-on, a new assertion
        me = whoami(browser, rekenwonders)
        assert me["attributes"] == {OID_AFFILIATION: ["student"],
                                    PAIRWISE_ID: [f"{me['name_id']}@127.0.0.1"]}
    finally:
        registry.set_policy(before)


def test_the_same_pupil_gets_unrelated_name_ids(federation: Federation,
                                                browser: Browser) -> None:
    rekenwonders, taalapp = federation.supplier("rekenwonders"), federation.supplier("taalapp")
    pupil = federation.lyceum_pupil
    log_in_via_picker(browser, rekenwonders, pupil, LYCEUM)
    browser.get(f"{taalapp}/login")
    ids = [str(whoami(browser, url)["name_id"]) for url in (rekenwonders, taalapp)]
    assert ids[0] != ids[1] and all(PSEUDONYM.match(i) for i in ids)
    assert ids == [federation.pseudonym_of("lyceum", pupil, "rekenwonders"),
                   federation.pseudonym_of("lyceum", pupil, "taalapp")]
    assert not any(pupil.id in i for i in ids)
