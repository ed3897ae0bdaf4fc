"""A logout ends what the session's logins issued to relying parties: after it, a refresh
token from that session gets invalid_grant and its access token is refused at userinfo, for
every way a logout starts (the pupil, the app itself, another OIDC or SAML app, the
school). The relying party is authlib's OAuth 2.0 client (requests), over
HTTP against the running demo federation; tokens of another browser's session live on.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.flows.conftest import Federation, at_school_login, log_out
from tests.flows.oidc_clients import RpClient, register_client
from tests.peers.browser import Browser


@pytest.fixture(scope="module")
def offline(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, "offline-app", [f"{catcher}/offline/cb"],
                           {"regenboog": ["given_name"]}, offline_access=True,
                           post_logout_redirect_uris=(f"{catcher}/offline/bye",))


class AuthlibRp:
    """The relying party: authlib's OAuth2Session, PKCE S256, asking for offline_access."""

    def __init__(self, federation: Federation, client: RpClient) -> None:
        self.issuer = federation.issuer
        self.session = OAuth2Session(client.client_id, client.secret,
                                     scope="openid offline_access",
                                     redirect_uri=client.redirect_uri,
                                     code_challenge_method="S256")

    def log_in(self, browser: Browser) -> dict[str, str]:
        """The authorization request in the pupil's browser (answered from its SSO session),
        then the code redeemed at the token endpoint."""
        verifier = secrets.token_urlsafe(48)
        url, _ = self.session.create_authorization_url(
            f"{self.issuer}/oidc/authorize", code_verifier=verifier, school="regenboog",
            nonce=secrets.token_urlsafe(12))
        answer = browser.session.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 303, answer.text[:400]
        token: dict[str, str] = self.session.fetch_token(
            f"{self.issuer}/oidc/token", authorization_response=answer.headers["Location"],
            code_verifier=verifier)
        return token

    def refresh(self, token: dict[str, str]) -> dict[str, str]:
        refreshed: dict[str, str] = self.session.refresh_token(
            f"{self.issuer}/oidc/token", refresh_token=token["refresh_token"])
        return refreshed

    def userinfo(self, token: dict[str, str]) -> int:
        return requests.get(f"{self.issuer}/oidc/userinfo", timeout=10, headers={
            "Authorization": f"Bearer {token['access_token']}"}).status_code

    def id_token(self, token: dict[str, str]) -> dict[str, object]:
        """The ID token's claims, verified as an RP does: with Loper's JWKS."""
        keys = KeySet.import_key_set(requests.get(f"{self.issuer}/oidc/jwks", timeout=10).json())
        claims: dict[str, object] = jwt.decode(token["id_token"], keys,
                                               algorithms=["RS256", "ES256"]).claims
        return claims


@pytest.fixture
def rp(federation: Federation, offline: RpClient) -> Iterator[AuthlibRp]:
    the_rp = AuthlibRp(federation, offline)
    yield the_rp
    the_rp.session.close()


def logged_in(browser: Browser, federation: Federation) -> Browser:
    """A pupil with an SSO session at Loper (logged in at the school through Leesplein)."""
    browser.get(f"{federation.supplier('leesplein')}/login", {"school": "regenboog"})
    if at_school_login(browser):
        browser.login(federation.pupil.id)
    return browser


def assert_ended(rp: AuthlibRp, token: dict[str, str]) -> None:
    with pytest.raises(OAuthError) as refused:
        rp.refresh(token)
    assert refused.value.error == "invalid_grant"
    assert rp.userinfo(token) == 401


def test_logging_out_everywhere_ends_the_refresh_tokens_of_the_session(
        federation: Federation, browser: Browser, rp: AuthlibRp) -> None:
    token = rp.log_in(logged_in(browser, federation))
    token = rp.refresh(token)  # works while the session lives, and rotates
    assert rp.userinfo(token) == 200
    with Browser() as other:  # another pupil's session on another device
        kept = rp.log_in(logged_in(other, federation))
        log_out(browser, federation.issuer)
    assert browser.page.status_code == 200
    assert_ended(rp, token)
    assert rp.userinfo(rp.refresh(kept)) == 200  # the other session's tokens live on


def test_the_apps_own_logout_ends_its_refresh_tokens(
        federation: Federation, browser: Browser, rp: AuthlibRp) -> None:
    token = rp.log_in(logged_in(browser, federation))
    browser.get(f"{federation.issuer}/oidc/logout", {"id_token_hint": token["id_token"]})
    assert browser.page.status_code == 200 and "Traceback" not in browser.text
    assert_ended(rp, token)


def test_another_apps_logout_ends_them_too(
        federation: Federation, browser: Browser, rp: AuthlibRp) -> None:
    token = rp.log_in(logged_in(browser, federation))
    leesplein = federation.supplier("leesplein")
    browser.post(f"{leesplein}/logout", {})  # Leesplein's RP-initiated logout
    assert browser.url.startswith(f"{leesplein}/bye")
    assert_ended(rp, token)


def test_the_schools_logout_and_a_saml_apps_logout_end_them_too(
        federation: Federation, browser: Browser, rp: AuthlibRp) -> None:
    school = federation.running.school
    token = rp.log_in(logged_in(browser, federation))
    browser.post(f"{school}/logout", {})  # the school's own SAML LogoutRequest
    assert browser.url.startswith(f"{school}/slo"), browser.text[:300]
    assert_ended(rp, token)
    rekenwonders = federation.supplier("rekenwonders")
    browser.get(f"{rekenwonders}/login", {"school": "regenboog"})
    if at_school_login(browser):
        browser.login(federation.pupil.id)
    token = rp.log_in(browser)
    browser.post(f"{rekenwonders}/logout", {})  # a SAML app's LogoutRequest
    assert browser.url.startswith(f"{rekenwonders}/slo"), browser.text[:300]
    assert_ended(rp, token)


def test_a_refreshed_id_token_names_the_session_so_logout_ends_back_at_the_app(
        federation: Federation, browser: Browser, rp: AuthlibRp, catcher: str) -> None:
    """authlib (like mod_auth_openidc) keeps the latest ID token: the refreshed one carries the
    login's sid, so the app's logout with it runs at once and comes back with its state."""
    token = rp.log_in(logged_in(browser, federation))
    fresh = rp.refresh(token)
    first, again = rp.id_token(token), rp.id_token(fresh)
    assert isinstance(first["sid"], str) and again["sid"] == first["sid"]
    assert {k: again[k] for k in ("iss", "sub", "aud", "auth_time", "acr")} == {
        k: first[k] for k in ("iss", "sub", "aud", "auth_time", "acr")}
    browser.get(f"{federation.issuer}/oidc/logout", {
        "id_token_hint": fresh["id_token"],
        "post_logout_redirect_uri": f"{catcher}/offline/bye", "state": "after-refresh"})
    assert browser.url == f"{catcher}/offline/bye?state=after-refresh"
    assert not any(r.url.startswith(f"{federation.issuer}/logout") for r in browser.history)
    assert_ended(rp, fresh)


def hinted_from_elsewhere(federation: Federation, browser: Browser, rp: AuthlibRp,
                          redirect_uri: str, state: str) -> dict[str, str]:
    """The pupil logged in, and the app asking for a logout with an ID token of its own from
    another session (another device). The pupil's token."""
    with Browser() as other:
        elsewhere = rp.log_in(logged_in(other, federation))
    token = rp.log_in(logged_in(browser, federation))
    browser.get(f"{federation.issuer}/oidc/logout", {
        "id_token_hint": elsewhere["id_token"], "post_logout_redirect_uri": redirect_uri,
        "state": state})
    return token


def confirm_page(federation: Federation, browser: Browser, rp: AuthlibRp, catcher: str,
                 state: str) -> dict[str, str]:
    """hinted_from_elsewhere, with a registered URI: Loper's confirm page. The pupil's
    token."""
    token = hinted_from_elsewhere(federation, browser, rp, f"{catcher}/offline/bye", state)
    assert browser.url.startswith(f"{federation.issuer}/logout?"), browser.url
    assert "Offline App" in browser.text
    assert rp.userinfo(token) == 200  # nothing ends before the pupil confirms
    return token


def test_after_confirming_the_logout_still_ends_at_the_app_with_its_state(
        federation: Federation, browser: Browser, rp: AuthlibRp, catcher: str) -> None:
    token = confirm_page(federation, browser, rp, catcher, "confirmed")
    browser.submit(browser.form("csrf_token"))
    assert browser.url == f"{catcher}/offline/bye?state=confirmed"
    assert_ended(rp, token)
    browser.get(f"{federation.issuer}/oidc/logout", {  # nobody logged in: at once, no page
        "id_token_hint": rp.log_in(logged_in(browser, federation))["id_token"],
        "post_logout_redirect_uri": f"{catcher}/offline/bye", "state": "x"})
    assert browser.url == f"{catcher}/offline/bye?state=x"


def test_where_a_confirmed_logout_ends_cannot_be_changed_on_the_way(
        federation: Federation, browser: Browser, rp: AuthlibRp, catcher: str) -> None:
    token = confirm_page(federation, browser, rp, catcher, "mine")
    form, link = browser.form("csrf_token"), browser.url
    with Browser() as attacker:  # the same app's logout, asked in the attacker's browser
        attacker.get(f"{federation.issuer}/logout")  # a browser id of its own
        confirm_page(federation, attacker, rp, catcher, "theirs")
        theirs = attacker.form("csrf_token")
        attacker.get(link)  # the pupil's link is signed for the pupil's browser only
        assert "answer" not in attacker.form("csrf_token").fields
        assert "Offline App" not in attacker.text
    for changed in ({"answer": theirs.fields["answer"]}, dict(theirs.fields),
                    {"answer": form.fields["answer"][:-2] + "AA"}, {"answer": ""}):
        browser.post(form.action, {**form.fields, **changed})
        assert browser.page.status_code == 400 and "logout_expired" in browser.text
    browser.post(form.action, {"csrf_token": form.fields["csrf_token"]})  # without whom
    assert browser.page.status_code == 400
    assert rp.userinfo(token) == 200  # none of that logged anybody out
    browser.submit(form)
    assert browser.url == f"{catcher}/offline/bye?state=mine"
    assert_ended(rp, token)


def test_without_a_registered_uri_the_confirmed_logout_ends_on_lopers_page(
        federation: Federation, browser: Browser, rp: AuthlibRp, catcher: str) -> None:
    token = hinted_from_elsewhere(federation, browser, rp, f"{catcher}/elsewhere", "s")
    assert browser.url == f"{federation.issuer}/logout"
    browser.submit(browser.form("csrf_token"))
    assert browser.url.startswith(federation.issuer) and browser.page.status_code == 200
    assert_ended(rp, token)


def test_a_confirm_page_left_too_long_logs_out_on_lopers_page(
        federation: Federation, browser: Browser, rp: AuthlibRp, catcher: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("broker.portal.logout.ANSWER_TTL", -1)  # expired when it is made
    token = hinted_from_elsewhere(federation, browser, rp, f"{catcher}/offline/bye", "late")
    assert "answer" not in browser.form("csrf_token").fields
    browser.submit(browser.form("csrf_token"))
    assert browser.url.startswith(federation.issuer) and browser.page.status_code == 200
    assert_ended(rp, token)
