"""The `broker` command with a registry it cannot reach or open: one line on standard error
naming the registry and the check to run, exit status 2, never a traceback. The real
installed command, in a process of its own, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.instance import initialise
from broker.settings import load_settings
from tests.fixtures.postgres_server import free_port

BROKER = str(Path(sys.executable).with_name("broker"))
PASSWORD = "s3cret-registry-pw"
COMMANDS = {
    "init": ["init"],
    "federation import": ["federation", "import", "{federation}"],
    "ledger verify": ["ledger", "verify"],
    "admin add": ["admin", "add", "ict@school.example", "--operator"],
    "metadata refresh": ["metadata", "refresh"],
}


def run(tmp_path: Path, registry_url: str, command: list[str]) -> subprocess.CompletedProcess[str]:
    """`broker COMMAND` on an instance made by `broker init` (keys, embedded registry), told
    to use `registry_url` instead."""
    for _ in initialise(load_settings({"instance": tmp_path / "instance"}, environ={})):
        pass
    federation = tmp_path / "federation.toml"
    federation.write_text("", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("BROKER_")}
    env.update(BROKER_INSTANCE=str(tmp_path / "instance"), BROKER_REGISTRY_URL=registry_url,
               BROKER_ADMIN_PASSWORD="a-long-enough-password-1")
    args = [part.format(federation=federation) for part in command]
    return subprocess.run([BROKER, *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the registry ")
    assert lines[0].endswith("registry_url / BROKER_REGISTRY_URL")
    return lines[0]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unreachable_postgresql_is_named_with_the_check_to_run(
        tmp_path: Path, name: str) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://loper:{PASSWORD}@127.0.0.1:{port}/loper"
    line = one_line_error(run(tmp_path, url, COMMANDS[name]))
    assert f"postgresql+psycopg://***@127.0.0.1:{port}/loper cannot be reached" in line
    assert "Connection refused" in line and f"pg_isready -h 127.0.0.1 -p {port}" in line
    assert PASSWORD not in line


def test_a_sqlite_registry_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "no-such-folder"
    line = one_line_error(run(tmp_path, f"sqlite:///{folder}/registry.sqlite", COMMANDS["init"]))
    assert "cannot be opened (cannot open the database file)" in line
    assert f"the folder {folder} does not exist: create it (`broker init`" in line
    assert not folder.exists()


def test_other_commands_never_create_the_registry(tmp_path: Path) -> None:
    folder = tmp_path / "no-such-folder"
    line = one_line_error(run(tmp_path, f"sqlite:///{folder}/registry.sqlite",
                              COMMANDS["federation import"]))
    assert line == (f"error: the registry sqlite:///{folder}/registry.sqlite does not exist: "
                    "`broker init` creates it, or fix registry_url / BROKER_REGISTRY_URL")
    assert not folder.exists()


@pytest.mark.parametrize(("setting", "value", "expected"), [
    ("BROKER_REGISTRY_URL", "mysql://x@y/z",
     "error: setting registry_url: 'mysql://***@y/z' names mysql, which Loper does not run on; "
     "expected sqlite:///PATH or postgresql+psycopg://USER@HOST[:PORT]/DATABASE"),
    ("BROKER_REGISTRY_URL", "bogus",
     "error: setting registry_url: 'bogus' is not a database URL; expected sqlite:///PATH or "
     "postgresql+psycopg://USER@HOST[:PORT]/DATABASE"),
    ("BROKER_LOG_LEVEL", "LOUD",
     "error: setting log_level: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
])
def test_a_setting_loper_cannot_run_with_is_one_line_before_anything_runs(
        tmp_path: Path, setting: str, value: str, expected: str) -> None:
    for _ in initialise(load_settings({"instance": tmp_path / "instance"}, environ={})):
        pass
    env = {key: val for key, val in os.environ.items() if not key.startswith("BROKER_")}
    env.update(BROKER_INSTANCE=str(tmp_path / "instance"), **{setting: value})
    result = subprocess.run([BROKER, "ledger", "verify"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [expected]
