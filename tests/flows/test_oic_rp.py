"""An OIDC supplier on pyoidc (`oic`) logs in through either school, over real HTTP.

The second OIDC client library downstream, next to authlib (Leesplein): discovery, PKCE, the
code flow with client_secret_basic, ID token verification against Loper's JWKS and user info,
all done by oic.oic.Client (tests/flows/oic_rp.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.flows.conftest import (
    LYCEUM_ACR,
    PASSWORD_PROTECTED,
    PSEUDONYM,
    Federation,
    at_school_login,
)
from tests.flows.oic_rp import OicRp, oic_rp
from tests.flows.oidc_clients import RpClient, register_client
from tests.peers.browser import Browser

CLIENT_ID = "oic-rp"
RELEASE = ["given_name", "email", "role", "groups"]
"""Released by both schools: no family_name, so the profile scope cannot bring it in."""
SCOPE = "openid profile email"


@pytest.fixture(scope="module")
def oic_client(federation: Federation, catcher: str) -> RpClient:
    releases = {"regenboog": RELEASE, "lyceum": RELEASE}
    return register_client(federation, CLIENT_ID, [f"{catcher}/oic/cb"], releases)


@pytest.fixture
def oic(federation: Federation, oic_client: RpClient) -> Iterator[OicRp]:
    with oic_rp(federation.issuer, oic_client) as the_rp:
        yield the_rp


def test_a_pupil_of_the_saml_school_logs_in(federation: Federation, browser: Browser,
                                            oic: OicRp) -> None:
    pupil = federation.pupil
    login = oic.begin(scope=SCOPE, idp_hint="regenboog")
    browser.get(login.url)
    assert at_school_login(browser), "the school hint must lead straight to the school"
    browser.login(pupil.id)
    tokens = oic.finish(login, browser.url)
    assert not any("/discovery" in r.url for r in browser.history)
    assert tokens.sub == federation.pseudonym_of("regenboog", pupil, CLIENT_ID)
    assert PSEUDONYM.match(tokens.sub) and pupil.id not in tokens.sub
    claims = {"given_name": "Sanne", "email": "sanne.devries@regenboog.example",
              "eduperson_affiliation": ["student"], "groups": ["groep-7a"]}
    assert tokens.claims == claims
    assert tokens.id_token["acr"] == PASSWORD_PROTECTED
    assert tokens.response["scope"] == SCOPE.split()  # oic parses the scope into a list
    assert oic.userinfo(login) == {"sub": tokens.sub, **claims}


def test_a_teacher_of_the_oidc_school_logs_in(federation: Federation, browser: Browser,
                                              oic: OicRp) -> None:
    teacher = federation.lyceum_teacher
    login = oic.begin(scope=SCOPE, idp_hint="lyceum")
    browser.get(login.url)
    assert browser.url.startswith(federation.running.schools["lyceum"])
    assert at_school_login(browser)
    browser.login(teacher.id)
    tokens = oic.finish(login, browser.url)
    assert not any("/discovery" in r.url for r in browser.history)
    assert tokens.sub == federation.pseudonym_of("lyceum", teacher, CLIENT_ID)
    assert PSEUDONYM.match(tokens.sub) and teacher.id not in tokens.sub
    claims = {"given_name": "Fatima", "email": "fatima.yilmaz@lyceum.example",
              "eduperson_affiliation": ["employee"]}  # groups: the Lyceum sends none
    assert tokens.claims == claims
    assert tokens.id_token["acr"] == LYCEUM_ACR
    assert oic.userinfo(login) == {"sub": tokens.sub, **claims}


@pytest.mark.parametrize("school", ["regenboog", "lyceum"])
def test_prompt_none_without_a_session_answers_login_required(
        browser: Browser, oic: OicRp, school: str) -> None:
    login = oic.begin(scope=SCOPE, prompt="none", idp_hint=school)
    browser.get(login.url)
    answer = oic.answer(login, browser.url)
    assert answer["error"] == "login_required" and "code" not in answer
