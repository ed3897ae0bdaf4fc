"""`broker admin add`, `broker admin password` and `broker ledger purge`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def test_the_password_is_asked_twice_without_the_variable(
        instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("broker.cli._at_terminal", lambda: True)
    result = broker(instance, "admin", "add", "a@b.example", "--operator", password=None,
                    prompt=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    mismatch = broker(instance, "admin", "add", "c@d.example", "--operator", password=None,
                      prompt=f"{PASSWORD}\nsomething else entirely\n")
    assert mismatch.exit_code == 2
    assert mismatch.stderr == ("error: the two passwords differ; nothing was changed (run the "
                               "command again)\n")
    assert "something else" not in mismatch.output and PASSWORD not in mismatch.output
    assert not known(instance, "c@d.example")


NO_PASSWORD = ("error: no password: set BROKER_ADMIN_PASSWORD, or run the command at a "
               "terminal to be asked for it; nothing was changed\n")


@pytest.mark.parametrize("command", [["add", "x@y.example", "--operator"],
                                     ["password", "a@b.example"]])
def test_without_a_terminal_or_the_variable_it_says_how_to_give_the_password(
        instance: Path, command: list[str]) -> None:
    assert broker(instance, "admin", "add", "a@b.example", "--operator").exit_code == 0
    result = broker(instance, "admin", *command, password=None, prompt=f"{PASSWORD}\n" * 2)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", NO_PASSWORD)
    assert not known(instance, "x@y.example")
    registry, admins = accounts(instance)
    try:
        assert admins.check_password("a@b.example", PASSWORD) is not None
    finally:
        registry.close()


def test_admin_add_with_stdin_from_dev_null(instance: Path) -> None:
    """The installed command, as an operator runs it in a script: `... </dev/null`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    env["BROKER_INSTANCE"] = str(instance)
    done = subprocess.run([str(Path(sys.executable).with_name("broker")), "admin", "add",
                           "x@y.nl", "--operator"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", NO_PASSWORD)
    assert not known(instance, "x@y.nl")


def known(instance: Path, email: str) -> bool:
    registry, admins = accounts(instance)
    try:
        return admins.by_email(email) is not None
    finally:
        registry.close()


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


@pytest.mark.parametrize("days", [1, 365 * 73])
def test_ledger_purge_refuses_a_date_after_today(instance: Path, days: int) -> None:
    _fill_ledger(instance)
    day = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
    today = datetime.now(UTC).date().isoformat()
    result = broker(instance, "ledger", "purge", "--before", day)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: --before {day} is after today ({today}, UTC): that would remove every "
        "release and audit row up to now; nothing was removed (give a past date, or "
        "--older-than DAYS)\n")
    assert "ledger ok: 4 rows verified" in broker(instance, "ledger", "verify").output


@pytest.mark.parametrize("args", [[], ["--before", "2026-01-01", "--older-than", "5"],
                                  ["--before", "01-01-2026"], ["--older-than", "0"]])
def test_ledger_purge_needs_one_clear_limit(instance: Path, args: list[str]) -> None:
    result = broker(instance, "ledger", "purge", *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
