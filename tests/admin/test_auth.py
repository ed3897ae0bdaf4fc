"""Logging in and out: argon2id passwords, throttling, session fixation, TOTP, CSRF."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from broker.admin.security import Limits
from broker.registry import Registry
from broker.registry.admins import Admins
from tests.admin.conftest import (
    ADMIN_A,
    ADMIN_B,
    OPERATOR,
    PASSWORD,
    SAML_SUPPLIER,
    SCHOOL_A,
    Portal,
    as_admin,
    enrol_totp,
    make_app,
    next_code,
)
from tests.registry.helpers import snapshot


def test_passwords_are_stored_as_argon2id(accounts: Admins, registry: Registry) -> None:
    from tests.registry.helpers import sql

    url = str(registry._db.engine.url)
    (stored,) = sql(url, "SELECT password_hash FROM admins WHERE email = ?", ADMIN_A)[0]
    assert str(stored).startswith("$argon2id$") and PASSWORD not in str(stored)
    assert accounts.check_password(ADMIN_A.upper(), PASSWORD) is not None
    assert accounts.check_password(ADMIN_A, PASSWORD + "x") is None
    assert accounts.check_password("nobody@example.org", PASSWORD) is None


def test_log_in_and_out(portal: Portal) -> None:
    response = portal.login(ADMIN_A)
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/schools/{SCHOOL_A}")
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 200
    response = portal.post("/admin/logout")
    assert response.status_code == 302 and response.location.endswith("/admin/login")
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 302


def test_logout_typed_in_the_address_bar_asks_first(portal: Portal) -> None:
    """A GET never ends the session (any page could make the browser fetch it): it offers
    the button; signed out, it is the login page."""
    assert portal.get("/admin/logout").location.endswith("/admin/login")
    portal.login(ADMIN_A)
    page = portal.get("/admin/logout", query_string={"lang": "en"}).get_data(as_text=True)
    assert "Do you want to log out of Loper" in page
    assert '<form method="post" action="/admin/logout">' in page
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 200, "still signed in"
    portal.post("/admin/logout")
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 302


@pytest.mark.parametrize(("email", "password"), [
    (ADMIN_A, "wrong password here"), ("nobody@example.org", PASSWORD), (ADMIN_A, ""), ("", ""),
])
def test_a_wrong_login_is_refused(portal: Portal, email: str, password: str) -> None:
    response = portal.login(email, password)
    assert response.status_code == 400
    assert "klopt niet" in response.get_data(as_text=True) or "not right" in response.get_data(
        as_text=True)
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 302


def test_the_session_is_renewed_at_login(portal: Portal) -> None:
    """Session fixation: the CSRF token and session cookie from before the login are gone."""
    portal.get("/admin/login")
    before_token = portal.token
    with portal.client.session_transaction() as session:
        session["planted"] = "by an attacker"
    portal.post("/admin/login", {"email": ADMIN_A, "password": PASSWORD})
    with portal.client.session_transaction() as session:
        assert "planted" not in session
        assert session["admin_csrf"] != before_token
    old = Portal(portal.client)
    old.token = before_token
    assert old.post(f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}/suspend",
                    {"reason": "x"}).status_code == 400


def test_logging_out_ends_the_session_on_the_server(app: Flask) -> None:
    portal = as_admin(app, ADMIN_A)
    with portal.client.session_transaction() as session:
        stolen = dict(session)
    portal.post("/admin/logout")
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(stolen)
    response = thief.get(f"/admin/schools/{SCHOOL_A}")
    assert response.status_code == 302 and "/admin/login" in response.location


def test_a_password_reset_ends_every_session(app: Flask, accounts: Admins) -> None:
    portal = as_admin(app, ADMIN_A)
    accounts.set_password(ADMIN_A, "another long password")
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin/",
                                    "/elsewhere", "/admin/\\evil.example"])
def test_next_never_leaves_the_portal(portal: Portal, target: str) -> None:
    portal.get("/admin/login", query_string={"next": target})
    response = portal.post("/admin/login", {"email": ADMIN_A, "password": PASSWORD,
                                            "next": target})
    assert response.status_code == 302
    assert response.location == f"/admin/schools/{SCHOOL_A}"


def test_next_brings_the_admin_back(portal: Portal) -> None:
    wanted = f"/admin/schools/{SCHOOL_A}/ledger"
    response = portal.get(wanted)
    assert "next=" in response.location
    response = portal.post("/admin/login", {"email": ADMIN_A, "password": PASSWORD,
                                            "next": wanted})
    assert response.location == wanted


@pytest.fixture
def strict(app: Flask) -> Flask:
    app.config["ADMIN_LOGIN_LIMITS"] = Limits(per_account=3, per_address=5, window=600)
    return app


def test_brute_force_on_one_account_is_throttled(strict: Flask) -> None:
    portal = Portal(strict.test_client())
    for _ in range(3):
        assert portal.login(ADMIN_A, "guess guess guess").status_code == 400
    assert portal.login(ADMIN_A, "guess guess guess").status_code == 429
    assert portal.login(ADMIN_A).status_code == 429, "even the right password waits"
    other = Portal(strict.test_client())
    assert other.login(ADMIN_B).status_code == 302, "other accounts are not locked"


def test_brute_force_from_one_address_is_throttled(strict: Flask) -> None:
    portal = Portal(strict.test_client())
    for i in range(5):
        assert portal.login(f"guess{i}@example.org", "guess guess guess").status_code == 400
    assert portal.login(OPERATOR).status_code == 429
    elsewhere = Portal(strict.test_client())
    response = elsewhere.login(OPERATOR, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302


def test_x_forwarded_for_does_not_bypass_the_limit(strict: Flask) -> None:
    """trusted_proxies = 0: X-Forwarded-For is a header anyone can send."""
    portal = Portal(strict.test_client())
    for i in range(7):
        response = portal.login(f"guess{i}@example.org", "guess guess guess",
                                headers={"X-Forwarded-For": f"198.51.100.{i}"})
    assert response.status_code == 429


def test_behind_a_trusted_proxy_its_client_address_counts(template_instance: Path,
                                                         tmp_path: Path) -> None:
    app = make_app(template_instance, tmp_path, trusted_proxies=1)
    app.config["ADMIN_LOGIN_LIMITS"] = Limits(per_account=50, per_address=2, window=600)
    portal = Portal(app.test_client())
    for i in range(2):
        portal.login(f"guess{i}@example.org", "nope nope nope",
                     headers={"X-Forwarded-For": "198.51.100.1"})
    assert portal.login(ADMIN_A, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert portal.login(ADMIN_A, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 302
    app.extensions["loper"].registry.close()


def _enrol(portal: Portal) -> str:
    return enrol_totp(portal)[0]


def test_totp_enrolment_and_login(app: Flask, accounts: Admins) -> None:
    portal = as_admin(app, ADMIN_A)
    secret = _enrol(portal)
    account = accounts.by_email(ADMIN_A)
    assert account is not None and account.totp_enabled
    assert secret not in portal.get("/admin/account").get_data(as_text=True), "shown once"
    portal.post("/admin/logout")

    response = portal.login(ADMIN_A)
    assert response.location.endswith("/admin/login/code")
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 302, "password alone: no"
    assert portal.post("/admin/login/code", {"code": "000000"}).status_code == 400
    response = portal.post("/admin/login/code", {"code": next_code(secret)})
    assert response.status_code == 302
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 200


def test_a_totp_code_works_once(app: Flask) -> None:
    portal = as_admin(app, ADMIN_A)
    secret = _enrol(portal)
    portal.post("/admin/logout")
    code = next_code(secret)
    portal.login(ADMIN_A)
    assert portal.post("/admin/login/code", {"code": code}).status_code == 302
    second = Portal(app.test_client())
    second.login(ADMIN_A)
    assert second.post("/admin/login/code", {"code": code}).status_code == 400


def test_a_wrong_enrolment_code_enables_nothing(app: Flask, accounts: Admins) -> None:
    portal = as_admin(app, ADMIN_A)
    portal.post("/admin/account/totp", {"action": "start"})
    response = portal.post("/admin/account/totp", {"action": "confirm", "code": "123456"})
    assert response.status_code == 400
    account = accounts.by_email(ADMIN_A)
    assert account is not None and not account.totp_enabled


def test_totp_guessing_is_throttled(strict: Flask) -> None:
    portal = as_admin(strict, ADMIN_A)
    _enrol(portal)
    portal.post("/admin/logout")
    portal.login(ADMIN_A)
    codes = [portal.post("/admin/login/code", {"code": f"{i:06d}"}).status_code
             for i in range(4)]
    assert codes == [400, 400, 400, 429]


@pytest.mark.parametrize("token", [None, "", "forged-token-forged-token-forged-token"])
@pytest.mark.parametrize(("url", "form"), [
    ("/admin/login", {"email": ADMIN_A, "password": PASSWORD}),
    (f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}",
     {"action": "save", "release-email": "all"}),
    (f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}/suspend", {"reason": "csrf"}),
    (f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}/resume", {}),
    (f"/admin/suppliers/{SAML_SUPPLIER}", {"ask-eck_id": "yes", "why-eck_id-en": "csrf"}),
    ("/admin/operator/suppliers/new", {"id": "csrf", "name": "CSRF", "protocol": "oidc",
                                       "redirect_uris": "https://csrf.example/cb"}),
    ("/admin/account/totp", {"action": "start"}),
    ("/admin/logout", {}),
])
def test_a_missing_or_wrong_csrf_token_is_refused(app: Flask, registry: Registry,
                                                  url: str, form: dict[str, object],
                                                  token: str | None) -> None:
    registry.suspend(SCHOOL_A, SAML_SUPPLIER, "to see that resume is refused")
    portal = as_admin(app, OPERATOR)
    before = snapshot(registry)
    data = form if token is None else {**form, "csrf_token": token}
    response = portal.post(url, data, csrf=False)
    assert response.status_code == 400
    assert 'data-error-code="form_expired"' in response.get_data(as_text=True)
    assert snapshot(registry) == before
    assert portal.get(f"/admin/schools/{SCHOOL_A}").status_code == 200, "still logged in"


def test_throttling_holds_across_broker_processes_on_redis(template_instance: Path,
                                                           tmp_path: Path,
                                                           redis_url: str) -> None:
    """Two broker instances on one Redis share the counters: no extra guesses per process."""
    apps = [make_app(template_instance, tmp_path / name, state_url=redis_url)
            for name in ("one", "two")]
    account = f"victim-{tmp_path.name}@example.org"
    try:
        for app in apps:
            app.config["ADMIN_LOGIN_LIMITS"] = Limits(per_account=2, per_address=100, window=60)
        statuses = [Portal(app.test_client()).login(account, "guess guess guess").status_code
                    for app in (apps[0], apps[1], apps[0], apps[1])]
        assert statuses == [400, 400, 429, 429]
    finally:
        for app in apps:
            app.extensions["loper"].registry.close()
            app.extensions["loper"].store.close()


def test_the_session_cookie_is_secure_httponly_and_lax_over_https(template_instance: Path,
                                                                  tmp_path: Path) -> None:
    app = make_app(template_instance, tmp_path, base_url="https://loper.example")
    try:
        response = app.test_client().get("/admin/login", base_url="https://loper.example")
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        app.extensions["loper"].registry.close()
        app.extensions["loper"].store.close()
