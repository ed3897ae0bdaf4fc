"""The second factor: the QR code, recovery codes that work once, and TOTP secrets sealed at
rest with the instance's key (and sealed by `broker init` where an older version left them
plain)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import text

from app import create_app
from broker.cli import main
from broker.errors import ConfigError
from broker.instance import initialise
from broker.keys import SEAL_FILE
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.sealed import Sealer
from broker.settings import load_settings
from tests.admin.conftest import ADMIN_A, Portal, as_admin, enrol_totp, make_app, next_code


def stored_secret(accounts: Admins, email: str) -> str | None:
    with accounts.db.read() as session:
        value = session.execute(text("select totp_secret from admins where email = :e"),
                                {"e": email}).scalar_one()
        return str(value) if value is not None else None


def second_step(app: Flask, code: str) -> tuple[Portal, int]:
    """Log in with the password, then `code`; a refusal shows its error id."""
    portal = Portal(app.test_client())
    assert portal.login(ADMIN_A).location.endswith("/admin/login/code")
    response = portal.post("/admin/login/code", {"code": code})
    if response.status_code == 400:
        assert re.search(r'class="error-id">[0-9a-f]{12}<', response.get_data(as_text=True))
    return portal, response.status_code


def test_the_qr_code_is_inline_and_fetches_nothing(school_a: Portal) -> None:
    page = school_a.post("/admin/account/totp", {"action": "start"}).get_data(as_text=True)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]
    assert "<img" not in page and "otpauth://totp/Loper:" in page


def test_a_recovery_code_works_once(app: Flask, accounts: Admins) -> None:
    _, codes = enrol_totp(as_admin(app, ADMIN_A))
    portal, status = second_step(app, codes[3])
    assert status == 302 and portal.get("/admin/account").status_code == 200
    assert "9 recovery codes left" in portal.get("/admin/account?lang=en").get_data(as_text=True)
    portal, status = second_step(app, codes[3])
    assert status == 400 and portal.get("/admin/account").status_code == 302
    trail = app.extensions["loper"].registry.audit_trail().entries("regenboog")
    used = [e for e in trail if str(e.reason) == "signed in with a recovery code"]
    assert len(used) == 1 and codes[3] not in repr(trail)


def test_wrong_codes_sign_nobody_in(app: Flask) -> None:
    enrol_totp(as_admin(app, ADMIN_A))
    for code in ("000000", "abcd-efgh-ijkl-mnop", "", "1" * 64):
        portal, status = second_step(app, code)
        assert status == 400 and portal.get("/admin/account").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(app: Flask) -> None:
    portal = as_admin(app, ADMIN_A)
    secret, old = enrol_totp(portal)
    page = portal.post("/admin/account/totp", {"action": "new_codes",
                                               "code": next_code(secret)})
    new = re.findall(r"<li>([a-z2-7-]{19})</li>", page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert second_step(app, old[0])[1] == 400
    assert second_step(app, new[0])[1] == 302


def test_turning_the_second_factor_off_drops_the_recovery_codes(app: Flask,
                                                               accounts: Admins) -> None:
    portal = as_admin(app, ADMIN_A)
    secret, _ = enrol_totp(portal)
    portal.post("/admin/account/totp", {"action": "disable", "code": next_code(secret)})
    account = accounts.by_email(ADMIN_A)
    assert account is not None and not account.totp_enabled
    admin = accounts.by_email(ADMIN_A)
    assert admin is not None
    assert app.extensions["loper_recovery_codes"].left(admin.id) == 0


def test_the_secret_is_sealed_with_a_private_key_file(app: Flask, accounts: Admins) -> None:
    secret, _ = enrol_totp(as_admin(app, ADMIN_A))
    stored = stored_secret(accounts, ADMIN_A)
    assert stored is not None and stored.startswith("sealed:") and secret not in stored
    key = Path(app.instance_path) / "keys" / SEAL_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_broker_init_seals_secrets_an_older_version_left_plain(template_instance: Path,
                                                               tmp_path: Path) -> None:
    app = make_app(template_instance, tmp_path)
    accounts: Admins = app.extensions["loper_admins"]
    admin = accounts.by_email(ADMIN_A)
    assert admin is not None
    plain = pyotp.random_base32()
    with accounts.db.write() as session:
        session.execute(text("update admins set totp_secret = :s where id = :i"),
                        {"s": plain, "i": admin.id})
    app.extensions["loper"].registry.close()
    app.extensions["loper"].store.close()

    settings = load_settings({"instance": tmp_path / "instance"}, environ={})
    said = list(initialise(settings))
    assert "sealed 1 TOTP secret(s) stored in plain text by an older version" in said
    registry = Registry(settings.registry_url)
    try:
        key = (settings.keys_dir / SEAL_FILE).read_bytes()
        again = Admins(registry, Sealer(key))
        stored = stored_secret(again, ADMIN_A)
        assert stored is not None and plain not in stored
        assert again.totp_secret(admin.id) == plain
        assert not any("sealed" in line for line in initialise(settings)), "once"
    finally:
        registry.close()


def _close(app: Flask) -> None:
    app.extensions["loper"].registry.close()
    app.extensions["loper"].store.close()


def test_init_refuses_a_new_sealing_key_while_secrets_are_sealed_with_the_lost_one(
        app: Flask, tmp_path: Path) -> None:
    enrol_totp(as_admin(app, ADMIN_A))
    _close(app)
    instance = tmp_path / "instance"
    key = instance / "keys" / SEAL_FILE
    key.unlink()
    before = sorted((instance / "keys").iterdir())
    result = CliRunner().invoke(main, ["--instance", str(instance), "init"])
    assert result.exit_code == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: the TOTP sealing key {key} is missing, but the registry ")
    assert f"holds the second factor of 1 admin(s) sealed with it ({ADMIN_A})" in line
    assert "restore the key from backup" in line
    assert "`broker admin password EMAIL --clear-totp`" in line
    assert sorted((instance / "keys").iterdir()) == before, "no new key"
    with pytest.raises(ConfigError, match="TOTP sealing key .* is missing"):
        create_app({"instance": instance})  # nor does the start make one
    assert not key.exists()

    # Without a backup: the documented reset; then there is nothing a new key would not open.
    reset = CliRunner().invoke(main, ["--instance", str(instance), "admin", "password",
                                      ADMIN_A, "--clear-totp"],
                               env={"BROKER_ADMIN_PASSWORD": "a new long password"})
    assert reset.exit_code == 0, reset.output
    again = CliRunner().invoke(main, ["--instance", str(instance), "init"])
    assert again.exit_code == 0 and "created TOTP sealing key" in again.stdout


def test_a_secret_the_key_does_not_open_is_a_page_for_the_admin_and_one_log_line(
        template_instance: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(template_instance, tmp_path)
    secret, codes = enrol_totp(as_admin(app, ADMIN_A))
    _close(app)
    key = tmp_path / "instance" / "keys" / SEAL_FILE
    key.write_bytes(Fernet.generate_key())  # lost and replaced by another key
    app = create_app({"instance": tmp_path / "instance"})
    app.config["TESTING"] = True
    try:
        portal = Portal(app.test_client())
        assert portal.login(ADMIN_A).location.endswith("/admin/login/code")
        caplog.clear()
        response = portal.post("/admin/login/code", {"code": pyotp.TOTP(secret).now()},
                               headers={"Accept-Language": "en"})
        page = response.get_data(as_text=True)
        assert response.status_code == 403, page[:500]
        assert 'data-error-code="second_factor_unreadable"' in page and "Traceback" not in page
        assert "Your second step cannot be checked" in page
        assert ("Sign in again with one of your recovery codes, or ask the federation operator "
                "to reset your second step") in page
        found = re.search(r'class="error-id">([0-9a-f]{12})<', page)
        assert found is not None
        logged = [r for r in caplog.records if getattr(r, "error_id", None) == found.group(1)]
        assert len(logged) == 1
        detail = str(getattr(logged[0], "detail", ""))
        assert "does not open with this instance's key" in detail
        assert f"broker admin password {ADMIN_A} --clear-totp" in detail
        assert portal.get("/admin/account").status_code == 302, "not signed in"
        assert second_step(app, codes[0])[1] == 302, "a recovery code still works"
    finally:
        _close(app)


def test_without_sealed_secrets_the_start_makes_a_missing_sealing_key(
        template_instance: Path, tmp_path: Path) -> None:
    """An instance from before sealing existed: the key is made on first use, as before."""
    app = make_app(template_instance, tmp_path)  # admins, none with a second factor
    _close(app)
    key = tmp_path / "instance" / "keys" / SEAL_FILE
    key.unlink()
    again = create_app({"instance": tmp_path / "instance"})
    _close(again)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
