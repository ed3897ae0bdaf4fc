"""Password reset by e-mail, against a real SMTP server on loopback: the request page tells
nobody which accounts exist, requests are throttled, and a spoilt link changes nothing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from broker.admin.security import Limits
from broker.registry.admin_links import token_hash
from broker.registry.admins import Admins
from broker.registry.models_admin import AdminLinkRow
from tests.admin.conftest import ADMIN_A, ADMIN_B, PASSWORD, Portal, as_admin, make_app
from tests.admin.test_invitations import refused
from tests.fixtures.smtp_server import SmtpServer

NEW_PASSWORD = "a brand new password sentence"
_LINK = re.compile(r"/admin/reset/([A-Za-z0-9_-]+)")


@pytest.fixture
def mailing(template_instance: Path, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Flask]:
    (tmp_path / "mail").mkdir()
    app = make_app(template_instance, tmp_path / "mail", **smtp_server.settings())
    yield app
    app.extensions["loper"].registry.close()
    app.extensions["loper"].store.close()


@pytest.fixture
def accounts(mailing: Flask) -> Admins:
    found: Admins = mailing.extensions["loper_admins"]
    return found


def links(app: Flask) -> int:
    accounts: Admins = app.extensions["loper_admins"]
    with accounts.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AdminLinkRow)) or 0)


def ask(app: Flask, email: str, portal: Portal | None = None) -> str:
    portal = portal or Portal(app.test_client())
    portal.get("/admin/reset?lang=en")
    response = portal.post("/admin/reset", {"email": email})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def reset_token(smtp: SmtpServer, email: str) -> str:
    found = _LINK.search(smtp.wait_for(email).get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert found is not None
    return found.group(1)


def test_the_answer_is_the_same_for_an_unknown_address(mailing: Flask,
                                                       smtp_server: SmtpServer) -> None:
    def answer(html: str) -> str:
        return re.sub(r'value="[^"]*"', "", html)

    unknown = ask(mailing, "nobody@nowhere.example")
    known = ask(mailing, ADMIN_A)
    assert answer(unknown) == answer(known) and "If an admin account" in known
    reset_token(smtp_server, ADMIN_A)
    time.sleep(0.2)
    assert smtp_server.inbox.to("nobody@nowhere.example") == []
    assert links(mailing) == 1


def test_a_reset_sets_the_password_and_ends_every_session(mailing: Flask,
                                                          smtp_server: SmtpServer,
                                                          accounts: Admins) -> None:
    signed_in = as_admin(mailing, ADMIN_A)
    ask(mailing, ADMIN_A)
    token = reset_token(smtp_server, ADMIN_A)
    portal = Portal(mailing.test_client())
    assert ADMIN_A in portal.get(f"/admin/reset/{token}").get_data(as_text=True)
    response = portal.post(f"/admin/reset/{token}",
                           {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/admin/login")
    assert signed_in.get("/admin/account").status_code == 302
    assert accounts.check_password(ADMIN_A, PASSWORD) is None
    assert accounts.check_password(ADMIN_A, NEW_PASSWORD) is not None
    trail = mailing.extensions["loper"].registry.audit_trail().entries("regenboog")
    assert "password reset by e-mail link" in str(trail[0].reason)
    assert token not in repr(trail)


@pytest.mark.parametrize(("spoil", "status", "code"), [
    ("expired", 410, "link_expired"),
    ("reused", 410, "link_used"),
    ("tampered", 404, "link_unknown"),
    ("invitation", 404, "link_unknown"),
])
def test_a_spoilt_reset_link_changes_nothing(mailing: Flask, smtp_server: SmtpServer,
                                            accounts: Admins, spoil: str, status: int,
                                            code: str) -> None:
    ask(mailing, ADMIN_A)
    token = reset_token(smtp_server, ADMIN_A)
    password = PASSWORD
    if spoil == "expired":
        with accounts.db.write() as session:
            session.execute(update(AdminLinkRow)
                            .where(AdminLinkRow.token_hash == token_hash(token))
                            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    elif spoil == "reused":
        Portal(mailing.test_client()).post(f"/admin/reset/{token}", {
            "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
        password = NEW_PASSWORD
    elif spoil == "tampered":
        token = token[:10] + token[11:] + "x"
    stranger = Portal(mailing.test_client())
    url = f"/admin/{'invitation' if spoil == 'invitation' else 'reset'}/{token}"
    refused(stranger.get(url), status, code)
    refused(stranger.post(url, {"password": "attacker's password!", "password2":
                                "attacker's password!"}), status, code)
    assert accounts.check_password(ADMIN_A, password) is not None


def test_reset_requests_for_one_address_are_throttled(mailing: Flask,
                                                      smtp_server: SmtpServer) -> None:
    mailing.config["ADMIN_RESET_LIMITS"] = Limits(per_account=2, per_address=10, window=3600)
    for _ in range(2):
        ask(mailing, ADMIN_A)
        reset_token(smtp_server, ADMIN_A)
    portal = Portal(mailing.test_client())
    portal.get("/admin/reset")
    refused(portal.post("/admin/reset", {"email": ADMIN_A}), 429, "too_many_reset_requests")
    time.sleep(0.2)
    assert smtp_server.inbox.to(ADMIN_A) == [], "nothing sent once throttled"
    ask(mailing, ADMIN_B)  # another address is not held up


def test_reset_requests_from_one_client_are_throttled(mailing: Flask) -> None:
    mailing.config["ADMIN_RESET_LIMITS"] = Limits(per_account=5, per_address=2, window=3600)
    portal = Portal(mailing.test_client())
    ask(mailing, "a@example.org", portal)
    ask(mailing, "b@example.org", portal)
    refused(portal.post("/admin/reset", {"email": "c@example.org"}), 429,
            "too_many_reset_requests")


def test_without_mail_the_page_says_to_ask_the_operator(template_instance: Path,
                                                        tmp_path: Path) -> None:
    app = make_app(template_instance, tmp_path)
    try:
        page = ask(app, ADMIN_A)
        assert "Ask the federation operator" in page and links(app) == 0
    finally:
        app.extensions["loper"].registry.close()
        app.extensions["loper"].store.close()


def test_a_mail_server_that_is_down_makes_no_invitation(template_instance: Path,
                                                       tmp_path: Path,
                                                       smtp_server: SmtpServer) -> None:
    from tests.fixtures.redis_server import free_port

    app = make_app(template_instance, tmp_path,
                   **smtp_server.settings(smtp_port=free_port(), outbound_timeout=2))
    try:
        operator = as_admin(app, "operator@loper.example")
        operator.get("/admin/schools/regenboog/admins")
        response = operator.post("/admin/schools/regenboog/admins/invite",
                                 {"email": "new@regenboog.example"})
        refused(response, 502, "mail_failed")
        assert links(app) == 0
    finally:
        app.extensions["loper"].registry.close()
        app.extensions["loper"].store.close()


def test_a_password_of_only_spaces_is_refused_and_the_link_still_works(
        mailing: Flask, smtp_server: SmtpServer, accounts: Admins) -> None:
    ask(mailing, ADMIN_A)
    token = reset_token(smtp_server, ADMIN_A)
    portal = Portal(mailing.test_client())
    portal.get(f"/admin/reset/{token}?lang=en")
    response = portal.post(f"/admin/reset/{token}", {"password": " " * 12,
                                                     "password2": " " * 12})
    assert response.status_code == 400
    assert "The password is only spaces" in response.get_data(as_text=True)
    assert accounts.check_password(ADMIN_A, " " * 12) is None
    assert accounts.check_password(ADMIN_A, PASSWORD) is not None
    response = portal.post(f"/admin/reset/{token}", {"password": NEW_PASSWORD,
                                                     "password2": NEW_PASSWORD})
    assert response.status_code == 302 and accounts.check_password(ADMIN_A, NEW_PASSWORD)


def test_with_mail_inviting_again_says_the_earlier_link_no_longer_works(
        mailing: Flask, smtp_server: SmtpServer) -> None:
    operator = as_admin(mailing, "operator@loper.example")
    shown = []
    for _ in range(2):
        operator.get("/admin/schools/regenboog/admins")
        response = operator.post("/admin/schools/regenboog/admins/invite",
                                 {"email": "new@regenboog.example"})
        assert response.status_code == 302
        shown.append(operator.get(response.location).get_data(as_text=True))
        smtp_server.wait_for("new@regenboog.example")
    assert "De uitnodiging is verstuurd naar new@regenboog.example." in shown[1]
    assert "werkt niet meer" not in shown[0] and (
        "De link van die eerdere uitnodiging werkt niet meer" in shown[1])
    assert links(mailing) == 1
