"""The `broker` command with a registry it cannot reach or open, or a setting it cannot run
with: one line on standard error naming what to fix and the check to run, exit status 2, never
a traceback. Each kind of failure is shown once by the real installed command in a process of
its own, as an operator runs it (tests/core/broker_command.py); the same failure of other
commands or values in this process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from broker.instance import initialise
from broker.settings import load_settings
from tests.core.broker_command import Ran, Runner, own_process, this_process
from tests.fixtures.postgres_server import free_port

PASSWORD = "s3cret-registry-pw"
COMMANDS = {
    "init": ["init"],
    "federation import": ["federation", "import", "{federation}"],
    "ledger verify": ["ledger", "verify"],
    "admin add": ["admin", "add", "ict@school.example", "--operator"],
    "metadata refresh": ["metadata", "refresh"],
}
OWN_PROCESS = {"init", "ledger verify"}
"""The commands that show an unreachable registry in a process of their own: the one that
creates the registry, and one that opens it."""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance made by `broker init` (keys, embedded registry), copied by each test."""
    folder = tmp_path_factory.mktemp("made") / "instance"
    for _ in initialise(load_settings({"instance": folder}, environ={})):
        pass
    return folder


def run(made: Path, tmp_path: Path, registry_url: str, command: list[str],
        runner: Runner = this_process) -> Ran:
    """`broker COMMAND` on a copy of `made`, told to use `registry_url` instead."""
    instance = shutil.copytree(made, tmp_path / "instance")
    federation = tmp_path / "federation.toml"
    federation.write_text("", encoding="utf-8")
    args = [part.format(federation=federation) for part in command]
    return runner(instance, *args, BROKER_REGISTRY_URL=registry_url,
                  BROKER_ADMIN_PASSWORD="a-long-enough-password-1")


def one_line_error(result: Ran) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the registry ")
    assert lines[0].endswith("registry_url / BROKER_REGISTRY_URL")
    return lines[0]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unreachable_postgresql_is_named_with_the_check_to_run(
        made: Path, tmp_path: Path, name: str) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://loper:{PASSWORD}@127.0.0.1:{port}/loper"
    runner = own_process if name in OWN_PROCESS else this_process
    line = one_line_error(run(made, tmp_path, url, COMMANDS[name], runner))
    assert f"postgresql+psycopg://***@127.0.0.1:{port}/loper cannot be reached" in line
    assert "Connection refused" in line and f"pg_isready -h 127.0.0.1 -p {port}" in line
    assert PASSWORD not in line


def test_a_sqlite_registry_in_a_missing_folder_names_the_folder(made: Path,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "no-such-folder"
    line = one_line_error(run(made, tmp_path, f"sqlite:///{folder}/registry.sqlite",
                              COMMANDS["init"]))
    assert "cannot be opened (cannot open the database file)" in line
    assert f"the folder {folder} does not exist: create it (`broker init`" in line
    assert not folder.exists()


def test_other_commands_never_create_the_registry(made: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-such-folder"
    line = one_line_error(run(made, tmp_path, f"sqlite:///{folder}/registry.sqlite",
                              COMMANDS["federation import"]))
    assert line == (f"error: the registry sqlite:///{folder}/registry.sqlite does not exist: "
                    "`broker init` creates it, or fix registry_url / BROKER_REGISTRY_URL")
    assert not folder.exists()


@pytest.mark.parametrize(("setting", "value", "expected", "runner"), [
    ("BROKER_REGISTRY_URL", "mysql://x@y/z",
     "error: setting registry_url: 'mysql://***@y/z' names mysql, which Loper does not run on; "
     "expected sqlite:///PATH or postgresql+psycopg://USER@HOST[:PORT]/DATABASE", own_process),
    ("BROKER_REGISTRY_URL", "bogus",
     "error: setting registry_url: 'bogus' is not a database URL; expected sqlite:///PATH or "
     "postgresql+psycopg://USER@HOST[:PORT]/DATABASE", this_process),
    ("BROKER_LOG_LEVEL", "LOUD",
     "error: setting log_level: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'",
     this_process),
], ids=["mysql, own process", "bogus", "LOUD"])
def test_a_setting_loper_cannot_run_with_is_one_line_before_anything_runs(
        made: Path, tmp_path: Path, setting: str, value: str, expected: str,
        runner: Runner) -> None:
    instance = shutil.copytree(made, tmp_path / "instance")
    result = runner(instance, "ledger", "verify", **{setting: value})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [expected]
