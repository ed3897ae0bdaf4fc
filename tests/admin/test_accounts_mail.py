"""Admin accounts end to end, over real HTTP and a real SMTP server on loopback: the operator
invites a school admin, who follows the link in the e-mail, chooses a password, turns on the
second factor by the QR code's otpauth URI, and logs in; later they forget their password and
reset it by e-mail, which ends their old session.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from sqlalchemy import text

from broker.registry.admins import Admins
from tests.admin.conftest import OPERATOR, PASSWORD, SCHOOL_A, make_app
from tests.fixtures.smtp_server import SmtpServer
from tests.peers.browser import Browser
from tests.peers.servers import serve_factory

INVITEE = "nieuw@regenboog.example"
NEW_PASSWORD = "a new sentence as my password"


@dataclass
class Live:
    base: str
    app: Flask
    smtp: SmtpServer

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def accounts(self) -> Admins:
        found: Admins = self.app.extensions["loper_admins"]
        return found


@pytest.fixture
def live(template_instance: Path, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Live]:
    def build(base_url: str) -> Flask:
        return make_app(template_instance, tmp_path, base_url=base_url,
                        **smtp_server.settings())

    with serve_factory(build) as (base, app):
        yield Live(base, app, smtp_server)
        app.extensions["loper"].registry.close()
        app.extensions["loper"].store.close()


def link_in(message: EmailMessage, live: Live, path: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    found = re.findall(re.escape(live.base + path) + r"[A-Za-z0-9_-]+", text)
    assert found and len(set(found)) == 1, text
    return str(found[0])


def log_in(browser: Browser, live: Live, email: str, password: str) -> None:
    browser.get(live.url("/admin/login"))
    browser.submit(browser.form("password"), email=email, password=password)


def test_invitation_totp_and_reset_by_email(live: Live) -> None:
    # The operator invites a new admin for school A.
    with Browser() as operator:
        log_in(operator, live, OPERATOR, PASSWORD)
        operator.get(live.url(f"/admin/schools/{SCHOOL_A}/admins"))
        operator.submit(operator.form(lambda f: "email" in f.visible), email=INVITEE)
        assert operator.page.status_code == 200 and INVITEE in operator.text
        assert "/admin/invitation/" not in operator.text, "with mail, the link is not shown"

    message = live.smtp.wait_for(INVITEE)
    assert message["From"] == "loper@loper.example"
    assert "Uitnodiging" in message["Subject"] and "Invitation" in message["Subject"]
    invitation = link_in(message, live, "/admin/invitation/")

    # The invitee follows the link, chooses a password and is signed in.
    invitee = Browser()
    invitee.get(invitation)
    assert "OBS De Regenboog" in invitee.text and INVITEE in invitee.text
    invitee.submit(invitee.form("password2"), password=PASSWORD, password2=PASSWORD)
    assert urlsplit(invitee.url).path == "/admin/account" and invitee.page.status_code == 200

    # ... turns on the second factor: the key comes from the otpauth URI beside the QR code.
    invitee.submit(invitee.form(lambda f: f.fields.get("action") == "start"))
    assert "<svg" in invitee.text and "https://" not in invitee.text.split("<svg", 1)[1][:20]
    uri = re.search(r'id="totp-uri">([^<]+)<', invitee.text)
    assert uri is not None
    otpauth = uri.group(1).replace("&amp;", "&")
    assert otpauth.startswith("otpauth://totp/Loper:")
    secret = parse_qs(urlsplit(otpauth).query)["secret"][0]
    totp = pyotp.TOTP(secret)
    invitee.submit(invitee.form(lambda f: f.fields.get("action") == "confirm"), code=totp.now())
    codes = re.findall(r"<li>([a-z2-7-]{19})</li>", invitee.text)
    assert len(codes) == 10

    # ... and logs in with password and a code from the app.
    invitee.submit(invitee.form(lambda f: f.action.endswith("/admin/logout")))
    log_in(invitee, live, INVITEE, PASSWORD)
    assert urlsplit(invitee.url).path == "/admin/login/code"
    invitee.submit(invitee.form("code"), code=totp.at(time.time() + totp.interval))
    assert urlsplit(invitee.url).path == f"/admin/schools/{SCHOOL_A}"
    with live.accounts.db.read() as session:
        raw = session.execute(text("select totp_secret from admins where email = :e"),
                              {"e": INVITEE}).scalar_one()
    assert secret not in raw and raw.startswith("sealed:"), "sealed at rest"

    # Forgot the password: a reset link by e-mail; the old session ends.
    with Browser() as stranger:
        stranger.get(live.url("/admin/reset"))
        stranger.submit(stranger.form("email"), email=INVITEE)
        assert stranger.page.status_code == 200
    reset = link_in(live.smtp.wait_for(INVITEE), live, "/admin/reset/")
    with Browser() as phone:
        phone.get(reset)
        phone.submit(phone.form("password2"), password=NEW_PASSWORD, password2=NEW_PASSWORD)
        assert urlsplit(phone.url).path == "/admin/login"
        phone.get(reset)
        assert phone.page.status_code == 410, "a reset link works once"
    invitee.get(live.url(f"/admin/schools/{SCHOOL_A}"))
    assert urlsplit(invitee.url).path == "/admin/login", "the old session has ended"

    # The new password, with a recovery code as second factor (the phone is elsewhere).
    log_in(invitee, live, INVITEE, PASSWORD)
    assert invitee.page.status_code == 400, "the old password no longer works"
    log_in(invitee, live, INVITEE, NEW_PASSWORD)
    invitee.submit(invitee.form("code"), code=codes[0].upper())
    assert urlsplit(invitee.url).path == f"/admin/schools/{SCHOOL_A}"
    invitee.close()

    trail = live.app.extensions["loper"].registry.audit_trail().entries(SCHOOL_A)
    reasons = [str(e.reason or "") for e in trail if e.action == "admin"]
    for wanted in ("invitation sent", "invitation by", "second factor turned on",
                   "recovery codes made", "password reset by e-mail", "recovery code"):
        assert any(wanted in r for r in reasons), (wanted, reasons)
    shown = repr([(e.before, e.after, e.reason) for e in trail])
    for secret_value in (invitation.rsplit("/", 1)[1], reset.rsplit("/", 1)[1], secret,
                         codes[0]):
        assert secret_value not in shown
