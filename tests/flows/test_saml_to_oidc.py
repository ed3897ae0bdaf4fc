"""SAML school -> Loper -> OIDC suppliers, over real HTTP.

The school is OBS De Regenboog (pysaml2 IdP). The suppliers are Leesplein (demo RP on authlib)
and the strict test RP (requests + joserfc); Rekenwonders (SAML) joins for single sign-on.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from broker.records import Policy
from broker.upstream.saml import SamlUpstream
from tests.flows.conftest import (
    PASSWORD_PROTECTED,
    PSEUDONYM,
    REGENBOOG,
    Federation,
    at_school_login,
    log_in_via_picker,
    saml_request_to_school,
    whoami,
)
from tests.flows.strict_rp import StrictRp, query_of
from tests.peers.browser import Browser, decode_saml


def test_a_pupil_logs_in_via_the_picker_and_gets_exactly_the_release(
        federation: Federation, browser: Browser) -> None:
    leesplein = federation.supplier("leesplein")
    log_in_via_picker(browser, leesplein, federation.pupil)
    assert browser.url == f"{leesplein}/", browser.text[:500]
    me = whoami(browser, leesplein)
    assert me["status"] == "ok"
    assert me["sub"] == federation.pseudonym_of("regenboog", federation.pupil, "leesplein")
    assert PSEUDONYM.match(str(me["sub"]))
    # openid profile email asked; released: given_name and role
    assert me["claims"] == {"given_name": "Sanne", "eduperson_affiliation": ["student"]}
    assert me["userinfo"] == {"sub": me["sub"], "given_name": "Sanne",
                              "eduperson_affiliation": ["student"]}
    assert me["issuer"] == federation.issuer
    assert me["acr"] == PASSWORD_PROTECTED  # the school's AuthnContextClassRef
    assert federation.pupil.id not in browser.get(f"{leesplein}/whoami").text


def test_the_school_hint_skips_the_picker(federation: Federation, browser: Browser,
                                          rp: StrictRp) -> None:
    browser.get(f"{federation.supplier('leesplein')}/login", {"school": "regenboog"})
    assert at_school_login(browser)
    login = rp.begin(idp_hint="regenboog")
    with Browser() as other:
        other.get(login.url)
        assert at_school_login(other)
        other.login(federation.pupil.id)
        tokens = rp.finish(login, other.url)
        visited = [r.url for r in other.history]
    assert not any("/discovery" in url for url in visited)
    assert tokens.sub == federation.pseudonym_of("regenboog", federation.pupil, "strict-rp")


def test_standard_claims_need_their_scope_and_values_pass_unchanged(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    teacher = federation.teacher
    education = {"eduperson_affiliation": ["employee"],
                 "groups": ["groep-7a", "groep-8b", "leerkrachten"],
                 "schac_home_organization": "regenboog.example"}
    profile = {"given_name": "Bram", "family_name": "Visser"}
    expected = {"openid": education, "openid profile": education | profile,
                "openid profile email": education | profile | {
                    "email": "bram.visser@regenboog.example"}}
    first = True
    for scope, claims in expected.items():
        login = rp.begin(scope=scope)
        browser.get(login.url)
        if first:
            browser.click(REGENBOOG)
            browser.login(teacher.id)
            first = False
        tokens = rp.finish(login, browser.url)
        assert tokens.claims == claims, scope
        userinfo = rp.userinfo(tokens.access_token).json()
        assert userinfo == {"sub": tokens.sub, **claims}, scope
        assert tokens.body["scope"] == scope


def test_single_sign_on_from_a_saml_to_an_oidc_supplier(federation: Federation,
                                                        browser: Browser) -> None:
    rekenwonders, leesplein = federation.supplier("rekenwonders"), federation.supplier(
        "leesplein")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    name_id = whoami(browser, rekenwonders)["name_id"]
    browser.get(f"{leesplein}/login")
    assert browser.url == f"{leesplein}/", "expected single sign-on, got " + browser.url
    me = whoami(browser, leesplein)
    assert me["status"] == "ok" and me["sub"] != name_id
    assert me["claims"] == {"given_name": "Sanne", "eduperson_affiliation": ["student"]}


def test_prompt_login_sends_the_pupil_back_to_the_school(federation: Federation,
                                                         browser: Browser) -> None:
    leesplein = federation.supplier("leesplein")
    log_in_via_picker(browser, leesplein, federation.pupil)
    first = whoami(browser, leesplein)
    browser.get(f"{leesplein}/login", {"prompt": "login"})
    assert at_school_login(browser), "prompt=login must show the school's login"
    assert 'ForceAuthn="true"' in saml_request_to_school(browser, federation.running.school)
    browser.login(federation.pupil.id)
    again = whoami(browser, leesplein)
    assert again["status"] == "ok" and again["sub"] == first["sub"]
    assert int(str(again["auth_time"])) >= int(str(first["auth_time"]))


def test_prompt_none_without_a_session_answers_login_required(federation: Federation,
                                                              browser: Browser) -> None:
    leesplein = federation.supplier("leesplein")
    browser.get(f"{leesplein}/login", {"prompt": "none"})
    assert browser.url == f"{leesplein}/"
    assert whoami(browser, leesplein)["status"] == "login_required"


def test_prompt_none_with_a_session_logs_in_silently(federation: Federation,
                                                     browser: Browser) -> None:
    rekenwonders, leesplein = federation.supplier("rekenwonders"), federation.supplier(
        "leesplein")
    log_in_via_picker(browser, rekenwonders, federation.pupil)
    browser.get(f"{leesplein}/login", {"prompt": "none"})
    assert whoami(browser, leesplein)["status"] == "ok"


def test_max_age_is_honoured(federation: Federation, browser: Browser, rp: StrictRp) -> None:
    leesplein = federation.supplier("leesplein")
    log_in_via_picker(browser, leesplein, federation.pupil)
    first = whoami(browser, leesplein)
    browser.get(f"{leesplein}/login", {"max_age": "10000"})  # recent enough: no new login
    assert browser.url == f"{leesplein}/"
    assert whoami(browser, leesplein)["auth_time"] == first["auth_time"]
    login = rp.begin(max_age="0")  # too old by now: the school must log the pupil in again
    browser.get(login.url)
    assert at_school_login(browser), "max_age must make the school log the pupil in again"
    assert 'ForceAuthn="true"' in saml_request_to_school(browser, federation.running.school)
    browser.login(federation.pupil.id)
    tokens = rp.finish(login, browser.url)  # the RP checks auth_time against max_age
    assert tokens.id_token["auth_time"] >= int(str(first["auth_time"]))


def test_the_claims_are_a_snapshot_of_the_release_at_login(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    registry = federation.registry
    before = registry.policy("regenboog", "strict-rp")
    assert before is not None
    login = rp.begin(scope="openid profile")
    browser.get(login.url)
    browser.click(REGENBOOG)
    browser.login(federation.pupil.id)
    code = rp.code(login, browser.url)  # released now; redeemed after the release changed
    try:
        registry.set_policy(Policy("regenboog", "strict-rp", frozenset({"role"})))
        tokens = rp.redeem(login, code)
        assert tokens.claims["given_name"] == "Sanne"
        assert rp.userinfo(tokens.access_token).json()["given_name"] == "Sanne"
        later = rp.begin(scope="openid profile")
        browser.get(later.url)  # single sign-on: a new login, the new release
        assert rp.finish(later, browser.url).claims == {"eduperson_affiliation": ["student"]}
        assert rp.userinfo(tokens.access_token).json()["given_name"] == "Sanne"
    finally:
        registry.set_policy(before)


def test_the_same_pupil_gets_unrelated_subs_at_each_supplier(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    rekenwonders, leesplein = federation.supplier("rekenwonders"), federation.supplier(
        "leesplein")
    log_in_via_picker(browser, leesplein, federation.pupil)
    at_leesplein = str(whoami(browser, leesplein)["sub"])
    login = rp.begin()
    browser.get(login.url)
    at_strict = rp.finish(login, browser.url).sub
    browser.get(f"{rekenwonders}/login")
    at_rekenwonders = str(whoami(browser, rekenwonders)["name_id"])
    subs = {at_leesplein, at_strict, at_rekenwonders}
    assert len(subs) == 3 and all(PSEUDONYM.match(s) for s in subs)
    assert at_strict == federation.pseudonym_of("regenboog", federation.pupil, "strict-rp")
    assert not any(federation.pupil.id in s for s in subs)


def _forget_loper_session(browser: Browser) -> None:
    """Loper's SSO cookie gone, the school's session kept (another device's Loper, a cleared
    cookie): Loper cannot know how old the school's login is."""
    jar = browser.session.cookies
    for cookie in [c for c in jar if c.name == "loper_sso"]:
        jar.clear(cookie.domain, cookie.path, cookie.name)


def _force_authn_sent(browser: Browser, school_url: str, start: int) -> list[bool]:
    """ForceAuthn of each AuthnRequest Loper sent the school since browser.history[start]."""
    return ['ForceAuthn="true"' in decode_saml(query_of(r.url)["SAMLRequest"])
            for r in browser.history[start:]
            if r.url.startswith(school_url) and "SAMLRequest=" in r.url]


def test_max_age_with_a_fresh_school_session_asks_for_no_password(
        federation: Federation, browser: Browser, rp: StrictRp) -> None:
    log_in_via_picker(browser, federation.supplier("leesplein"), federation.pupil)
    _forget_loper_session(browser)
    start = len(browser.history)
    login = rp.begin(max_age="3600")
    browser.get(login.url)
    browser.click(REGENBOOG)  # the school answers from its own session
    assert not at_school_login(browser)
    assert _force_authn_sent(browser, federation.running.school, start) == [False]
    assert rp.finish(login, browser.url).sub  # the RP checks auth_time against max_age


def test_max_age_with_an_old_school_session_asks_the_school_once_more(
        federation: Federation, browser: Browser, rp: StrictRp,
        monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = federation.broker.upstreams["saml"]
    assert isinstance(upstream, SamlUpstream)
    # No clock skew, so that a school login of five seconds ago is too old for max_age=4,
    # while the fresh login that follows has seconds to spare on a busy machine.
    monkeypatch.setattr(upstream, "_config", replace(upstream._config, clock_skew=0))
    log_in_via_picker(browser, federation.supplier("leesplein"), federation.pupil)
    _forget_loper_session(browser)
    time.sleep(5)
    start = len(browser.history)
    login = rp.begin(max_age="4")
    browser.get(login.url)
    browser.click(REGENBOOG)  # answered from the school's session: too old, asked again
    assert at_school_login(browser), "the school must ask for the password this time"
    assert _force_authn_sent(browser, federation.running.school, start) == [False, True]
    browser.login(federation.pupil.id)
    assert rp.finish(login, browser.url).sub  # the RP checks auth_time against max_age
