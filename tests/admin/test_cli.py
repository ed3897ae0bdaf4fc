"""`broker admin add`, `broker admin password` and `broker ledger purge`."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from broker.cli import main
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.settings import load_settings
from tests.admin.conftest import PASSWORD


@pytest.fixture
def instance(template_instance: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    shutil.copytree(template_instance, folder)
    return folder


def broker(instance: Path, *args: str, password: str | None = PASSWORD,
           prompt: str | None = None) -> Result:
    env = {"BROKER_ADMIN_PASSWORD": password} if password else {}
    return CliRunner().invoke(main, ["--instance", str(instance), *args], env=env, input=prompt)


def accounts(instance: Path) -> tuple[Registry, Admins]:
    registry = Registry(load_settings({"instance": instance}).registry_url)
    return registry, Admins(registry)


@pytest.mark.parametrize(("args", "role", "schools", "supplier"), [
    (["--school", "regenboog"], "school", {"regenboog"}, None),
    (["--school", "regenboog", "--school", "lyceum"], "school", {"regenboog", "lyceum"}, None),
    (["--operator"], "operator", set(), None),
    (["--supplier", "rekenwonders"], "supplier", set(), "rekenwonders"),
])
def test_admin_add(instance: Path, args: list[str], role: str, schools: set[str],
                   supplier: str | None) -> None:
    result = broker(instance, "admin", "add", "New@School.example", *args)
    assert result.exit_code == 0, result.output
    registry, admins = accounts(instance)
    try:
        account = admins.check_password("new@school.example", PASSWORD)
        assert account is not None
        assert (account.role, account.schools, account.supplier_id) == (role, schools, supplier)
    finally:
        registry.close()


def test_the_password_is_asked_twice_without_the_variable(instance: Path) -> None:
    result = broker(instance, "admin", "add", "a@b.example", "--operator", password=None,
                    prompt=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    mismatch = broker(instance, "admin", "add", "c@d.example", "--operator", password=None,
                      prompt=f"{PASSWORD}\nsomething else entirely\n")
    assert mismatch.exit_code != 0


@pytest.mark.parametrize(("args", "message"), [
    (["x@y.example"], "--school"),
    (["x@y.example", "--operator", "--school", "regenboog"], "--school"),
    (["x@y.example", "--school", "nowhere"], 'unknown school "nowhere"'),
    (["x@y.example", "--supplier", "nobody"], 'unknown supplier "nobody"'),
    (["not-an-address", "--operator"], "not an e-mail address"),
])
def test_admin_add_refuses_bad_input(instance: Path, args: list[str], message: str) -> None:
    result = broker(instance, "admin", "add", *args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_short_passwords_and_duplicates_are_refused(instance: Path) -> None:
    short = broker(instance, "admin", "add", "x@y.example", "--operator", password="short")
    assert short.exit_code == 2 and "too short: at least 12" in short.output
    blank = broker(instance, "admin", "add", "x@y.example", "--operator", password=" " * 12)
    assert blank.exit_code == 2 and "only spaces" in blank.output
    assert broker(instance, "admin", "add", "x@y.example", "--operator").exit_code == 0
    again = broker(instance, "admin", "add", "X@y.example", "--operator")
    assert again.exit_code == 2 and "already exists" in again.output


def test_admin_add_before_init_says_what_to_do(tmp_path: Path) -> None:
    result = broker(tmp_path / "nothing", "admin", "add", "x@y.example", "--operator")
    assert result.exit_code == 2 and "broker init" in result.output


def test_admin_password(instance: Path) -> None:
    assert broker(instance, "admin", "add", "x@y.example", "--operator").exit_code == 0
    result = broker(instance, "admin", "password", "x@y.example", "--clear-totp",
                    password="a brand new password")
    assert result.exit_code == 0, result.output
    registry, admins = accounts(instance)
    try:
        assert admins.check_password("x@y.example", "a brand new password") is not None
        assert admins.check_password("x@y.example", PASSWORD) is None
    finally:
        registry.close()


def _fill_ledger(instance: Path) -> None:
    registry = Registry(load_settings({"instance": instance}).registry_url)
    try:
        now = datetime.now(UTC)
        registry.ledger().purge(now + timedelta(seconds=1))  # the import's audit rows
        for days in (400, 200, 10, 1):
            registry.ledger().append(now - timedelta(days=days), "regenboog", "rekenwonders",
                                     f"v1-{days}", ["role"], "saml")
    finally:
        registry.close()


def test_ledger_purge_older_than(instance: Path) -> None:
    _fill_ledger(instance)
    result = broker(instance, "ledger", "purge", "--older-than", "365")
    assert result.exit_code == 0, result.output
    assert "removed 1 ledger rows" in result.output and "3 rows remain, chain ok" in result.output
    assert "ledger ok: 3 rows verified" in broker(instance, "ledger", "verify").output


def test_ledger_purge_before(instance: Path) -> None:
    _fill_ledger(instance)
    cut = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    result = broker(instance, "ledger", "purge", "--before", cut)
    assert result.exit_code == 0, result.output
    assert "removed 3 ledger rows" in result.output
    assert broker(instance, "ledger", "verify").exit_code == 0


@pytest.mark.parametrize("args", [[], ["--before", "2026-01-01", "--older-than", "5"],
                                  ["--before", "01-01-2026"], ["--older-than", "0"]])
def test_ledger_purge_needs_one_clear_limit(instance: Path, args: list[str]) -> None:
    result = broker(instance, "ledger", "purge", *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
