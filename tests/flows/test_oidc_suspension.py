"""A school suspends an OIDC supplier: what the supplier was given before stops working too.

New logins stop at once (test_saml_to_saml); here the supplier holds a refresh token and an
access token from a login before the suspension. Both end with it: the refresh grant answers
invalid_grant (and revokes the login's grant as a whole), userinfo answers 401. When the school
resumes, a new login works again; the old grant stays ended. A lapsed agreement
(policy.valid_until) counts as a suspension.

The supplier is the strict RP (tests/flows/strict_rp.py) registered with offline_access.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.flows.conftest import REGENBOOG, Federation
from tests.flows.oidc_clients import RpClient, register_client, strict_rp
from tests.flows.strict_rp import StrictRp, Tokens
from tests.peers.browser import Browser

CLIENT = "suspension-rp"
SCOPE = "openid profile offline_access"
REASON = "under review after a data incident"


@pytest.fixture(scope="module")
def offline_client(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, CLIENT, [f"{catcher}/suspension/cb"],
                           {"regenboog": ["given_name", "role"]}, offline_access=True)


@pytest.fixture
def offline(federation: Federation, offline_client: RpClient) -> Iterator[StrictRp]:
    with strict_rp(federation.issuer, offline_client) as the_rp:
        yield the_rp


def log_in(rp: StrictRp, browser: Browser, person: str | None) -> Tokens:
    """A login at the RP: via the picker and the school, or (person None) by single sign-on."""
    login = rp.begin(scope=SCOPE)
    browser.get(login.url)
    if person is not None:
        browser.click(REGENBOOG)
        browser.login(person)
    return rp.finish(login, browser.url)


def assert_refused(rp: StrictRp, tokens: Tokens, *, suspended: bool) -> None:
    """The refresh token and the access token of `tokens` no longer serve anything."""
    assert tokens.refresh_token is not None
    refreshed = rp.refresh(tokens.refresh_token)
    assert (refreshed.status, refreshed.body["error"]) == (400, "invalid_grant")
    assert ("suspended" in refreshed.body["error_description"]) is suspended
    assert "access_token" not in refreshed.body and "id_token" not in refreshed.body
    userinfo = rp.userinfo(tokens.access_token)
    assert userinfo.status_code == 401
    assert userinfo.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in userinfo.headers["WWW-Authenticate"]
    assert "Sanne" not in userinfo.text


def test_a_suspension_ends_the_refresh_token_and_userinfo_and_resuming_needs_a_new_login(
        federation: Federation, browser: Browser, offline: StrictRp) -> None:
    first = log_in(offline, browser, federation.pupil.id)
    assert first.claims["given_name"] == "Sanne" and first.refresh_token is not None
    second = offline.refresh(first.refresh_token)  # before the suspension: served as ever
    assert second.status == 200 and second.claims["given_name"] == "Sanne"
    assert offline.userinfo(second.access_token).json()["given_name"] == "Sanne"

    registry = federation.registry
    registry.suspend("regenboog", CLIENT, REASON)
    try:
        assert_refused(offline, second, suspended=True)
        assert offline.userinfo(first.access_token).status_code == 401
        login = offline.begin(scope=SCOPE)  # single sign-on, but no new login either
        page = browser.get(login.url)
        assert page.status_code == 403 and REASON in browser.text
        assert "code=" not in browser.url
    finally:
        registry.resume("regenboog", CLIENT)

    assert_refused(offline, second, suspended=False)  # the old grant stays revoked
    again = log_in(offline, browser, None)  # single sign-on: a new login
    assert again.claims["given_name"] == "Sanne" and again.sub == first.sub
    assert offline.userinfo(again.access_token).json()["given_name"] == "Sanne"
    assert again.refresh_token is not None
    assert offline.refresh(again.refresh_token).status == 200


def test_a_lapsed_agreement_ends_the_refresh_token_and_userinfo(
        federation: Federation, browser: Browser, offline: StrictRp) -> None:
    tokens = log_in(offline, browser, federation.pupil.id)
    registry = federation.registry
    before = registry.policy("regenboog", CLIENT)
    assert before is not None
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    registry.set_policy(replace(before, valid_until=yesterday))
    try:
        assert_refused(offline, tokens, suspended=True)
    finally:
        registry.set_policy(before)
