"""OIDC school -> Loper -> OIDC suppliers, over real HTTP.

The school is Het Lyceum (the demo OpenID Provider: it sends acr and over-shares a phone
number); the suppliers are Leesplein (demo RP on authlib) and the strict test RP (requests +
joserfc); Taalapp (SAML) joins for single sign-on.
"""

from __future__ import annotations

import pytest

from broker.records import Policy
from tests.flows.conftest import (
    LYCEUM,
    LYCEUM_ACR,
    PSEUDONYM,
    REGENBOOG,
    Federation,
    at_school_login,
    log_in_via_picker,
    oidc_request_to_school,
    whoami,
)
from tests.flows.strict_rp import StrictRp
from tests.peers.browser import Browser

LOTTE = {"given_name": "Lotte", "eduperson_affiliation": ["student"],
         "email": "lotte.bakker@lyceum.example"}
"""What the Lyceum releases to Leesplein (given_name, role, email) for its pupil Lotte."""


def lyceum_url(federation: Federation) -> str:
    return federation.running.schools["lyceum"]


def test_a_pupil_logs_in_via_the_picker_and_gets_exactly_the_release(
        federation: Federation, browser: Browser) -> None:
    leesplein, pupil = federation.supplier("leesplein"), federation.lyceum_pupil
    log_in_via_picker(browser, leesplein, pupil, LYCEUM)
    assert browser.url == f"{leesplein}/", browser.text[:500]
    me = whoami(browser, leesplein)
    assert me["status"] == "ok"
    assert me["sub"] == federation.pseudonym_of("lyceum", pupil, "leesplein")
    assert me["claims"] == LOTTE  # no family_name (not released), no phone_number (unknown)
    assert me["userinfo"] == {"sub": me["sub"], **LOTTE}
    assert me["acr"] == LYCEUM_ACR
    assert pupil.id not in browser.get(f"{leesplein}/whoami").text


def test_the_school_hint_skips_the_picker(federation: Federation, browser: Browser,
                                          rp: StrictRp) -> None:
    browser.get(f"{federation.supplier('leesplein')}/login", {"school": "lyceum"})
    assert browser.url.startswith(lyceum_url(federation)) and at_school_login(browser)
    login = rp.begin(idp_hint="lyceum")
    with Browser() as other:
        other.get(login.url)
        assert other.url.startswith(lyceum_url(federation)) and at_school_login(other)
        other.login(federation.lyceum_pupil.id)
        tokens = rp.finish(login, other.url)
    assert tokens.sub == federation.pseudonym_of("lyceum", federation.lyceum_pupil, "strict-rp")
    assert tokens.id_token["acr"] == LYCEUM_ACR


def test_standard_claims_need_their_scope(federation: Federation, browser: Browser,
                                          rp: StrictRp) -> None:
    education = {"eduperson_affiliation": ["employee"],
                 "schac_home_organization": "lyceum.example"}  # groups: the Lyceum sends none
    profile = {"given_name": "Fatima", "family_name": "Yilmaz"}
    expected = {"openid": education, "email openid profile": education | profile | {
        "email": "fatima.yilmaz@lyceum.example"}, "openid profile": education | profile}
    browser.get(f"{federation.supplier('leesplein')}/login", {"school": "lyceum"})
    browser.login(federation.lyceum_teacher.id)
    for scope, claims in expected.items():
        login = rp.begin(scope=scope)
        browser.get(login.url)  # single sign-on
        tokens = rp.finish(login, browser.url)
        assert tokens.claims == claims, scope
        assert rp.userinfo(tokens.access_token, "post-header").json() == {
            "sub": tokens.sub, **claims}


def test_single_sign_on_across_saml_and_oidc_suppliers(federation: Federation,
                                                       browser: Browser) -> None:
    taalapp, leesplein = federation.supplier("taalapp"), federation.supplier("leesplein")
    log_in_via_picker(browser, taalapp, federation.lyceum_pupil, LYCEUM)
    name_id = whoami(browser, taalapp)["name_id"]
    browser.get(f"{leesplein}/login")
    assert browser.url == f"{leesplein}/", "expected single sign-on, got " + browser.url
    me = whoami(browser, leesplein)
    assert me["status"] == "ok" and me["claims"] == LOTTE and me["sub"] != name_id


def test_prompt_login_sends_the_pupil_back_to_the_school(federation: Federation,
                                                         browser: Browser) -> None:
    leesplein = federation.supplier("leesplein")
    log_in_via_picker(browser, leesplein, federation.lyceum_pupil, LYCEUM)
    first = whoami(browser, leesplein)
    browser.get(f"{leesplein}/login", {"prompt": "login"})
    assert at_school_login(browser), "prompt=login must show the school's login"
    sent = oidc_request_to_school(browser, lyceum_url(federation))
    assert sent["prompt"] == "login" and sent["max_age"] == "0"
    browser.login(federation.lyceum_pupil.id)
    again = whoami(browser, leesplein)
    assert again["status"] == "ok" and again["sub"] == first["sub"]
    assert int(str(again["auth_time"])) >= int(str(first["auth_time"]))


def test_prompt_none_without_a_session_answers_login_required(
        federation: Federation, rp: StrictRp, browser: Browser) -> None:
    login = rp.begin(prompt="none", school="lyceum")
    browser.get(login.url)
    answer = rp.answer(login, browser.url)
    assert answer["error"] == "login_required" and "code" not in answer


def test_prompt_none_with_a_session_logs_in_silently(federation: Federation,
                                                     browser: Browser) -> None:
    taalapp, leesplein = federation.supplier("taalapp"), federation.supplier("leesplein")
    log_in_via_picker(browser, taalapp, federation.lyceum_pupil, LYCEUM)
    browser.get(f"{leesplein}/login", {"prompt": "none"})
    assert whoami(browser, leesplein)["status"] == "ok"


def test_prompt_select_account_lets_the_pupil_pick_another_school(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    """A shared classroom device: Loper has Lotte's Lyceum session (and remembers the Lyceum
    as the last choice), the app even names the Lyceum; the next pupil picks her own school."""
    log_in_via_picker(browser, federation.supplier("leesplein"), federation.lyceum_pupil,
                      LYCEUM)
    login = rp.begin(prompt="select_account", school="lyceum")
    browser.get(login.url)
    assert "/discovery" in browser.url, "prompt=select_account must show the school picker"
    assert browser.text.count("school=lyceum") == 2  # the last choice, shown, not chosen
    browser.click(REGENBOOG)
    browser.login(federation.pupil.id)
    tokens = rp.finish(login, browser.url)
    assert tokens.sub == federation.pseudonym_of("regenboog", federation.pupil, "strict-rp")


@pytest.mark.parametrize(("prompt", "named"), [
    ("create", "prompt=create"), ("select_acount", "prompt=select_acount"),
    ("none select_account", "prompt=none"), ("x" * 10_000, "prompt=" + "x" * 40 + "...")])
def test_a_prompt_loper_does_not_honour_is_refused_to_the_app(
        federation: Federation, browser: Browser, rp: StrictRp, prompt: str,
        named: str) -> None:
    login = rp.begin(prompt=prompt, school="lyceum")
    browser.get(login.url)
    answer = rp.answer(login, browser.url)  # back at the redirect_uri with its state and iss
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert answer["error_description"].startswith(named)
    assert len(answer["error_description"]) < 200


def test_max_age_is_honoured(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    leesplein = federation.supplier("leesplein")
    log_in_via_picker(browser, leesplein, federation.lyceum_pupil, LYCEUM)
    first = whoami(browser, leesplein)
    login = rp.begin(max_age="10000")
    browser.get(login.url)  # recent enough: single sign-on
    assert rp.finish(login, browser.url).id_token["auth_time"] == first["auth_time"]
    browser.get(f"{leesplein}/login", {"max_age": "0"})  # too old by now: log in again
    assert at_school_login(browser), "max_age must make the school log the pupil in again"
    assert oidc_request_to_school(browser, lyceum_url(federation))["prompt"] == "login"
    browser.login(federation.lyceum_pupil.id)
    again = whoami(browser, leesplein)  # Leesplein checked auth_time against max_age
    assert again["status"] == "ok"
    assert int(str(again["auth_time"])) >= int(str(first["auth_time"]))


def test_the_claims_are_a_snapshot_of_the_release_at_login(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    registry, leesplein = federation.registry, federation.supplier("leesplein")
    before = registry.policy("lyceum", "leesplein")
    assert before is not None
    log_in_via_picker(browser, leesplein, federation.lyceum_pupil, LYCEUM)
    login = rp.begin(scope="openid profile email")
    browser.get(login.url)
    code = rp.code(login, browser.url)
    strict_before = registry.policy("lyceum", "strict-rp")
    assert strict_before is not None
    try:
        registry.set_policy(Policy("lyceum", "leesplein", frozenset({"role"})))
        registry.set_policy(Policy("lyceum", "strict-rp", frozenset({"role"})))
        # tokens and user info from the earlier login keep what was released then
        now = browser.get_json(f"{leesplein}/userinfo")
        assert now == {"status": 200, "userinfo": {"sub": whoami(browser, leesplein)["sub"],
                                                   **LOTTE}}
        tokens = rp.redeem(login, code)
        assert tokens.claims["given_name"] == "Lotte" and tokens.claims["email"]
        # a new login gets the new release
        browser.get(f"{leesplein}/login")
        assert whoami(browser, leesplein)["claims"] == {"eduperson_affiliation": ["student"]}
        assert browser.get_json(f"{leesplein}/userinfo")["userinfo"] == {
            "sub": whoami(browser, leesplein)["sub"], "eduperson_affiliation": ["student"]}
        assert rp.userinfo(tokens.access_token, "post-body").json()["given_name"] == "Lotte"
    finally:
        registry.set_policy(before)
        registry.set_policy(strict_before)


def test_the_same_pupil_gets_unrelated_subs_at_two_suppliers(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    leesplein, pupil = federation.supplier("leesplein"), federation.lyceum_pupil
    log_in_via_picker(browser, leesplein, pupil, LYCEUM)
    login = rp.begin()
    browser.get(login.url)
    subs = [str(whoami(browser, leesplein)["sub"]), rp.finish(login, browser.url).sub]
    assert subs[0] != subs[1] and all(PSEUDONYM.match(s) for s in subs)
    assert subs == [federation.pseudonym_of("lyceum", pupil, "leesplein"),
                    federation.pseudonym_of("lyceum", pupil, "strict-rp")]
    assert not any(pupil.id in s for s in subs)
