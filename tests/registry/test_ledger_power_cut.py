"""A real process killed with SIGKILL in the middle of appending: every row it acknowledged is
still there and the chain verifies; a tail lost afterwards makes `broker ledger verify` fail.

SIGKILL loses what the process had not yet handed to the kernel, never the page cache, so this
shows the commit protocol (WAL, the head file written after the commit) and the acknowledgement
order; what a power cut adds is covered by synchronous=FULL (test_ledger_tail.py checks it on
every connection) and the head file, which shows a lost tail whatever its cause.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from broker.cli import main
from broker.registry import Registry
from tests.registry.helpers import sql
from tests.registry.test_ledger_tail import LOSE_TAIL

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 2
ACKS = 40
"""Acknowledged rows per writer before the kill."""


def _broker(instance: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--instance", str(instance), *args])


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("BROKER_")]:
        monkeypatch.delenv(name)
    folder = tmp_path / "instance"
    result = _broker(folder, "init")
    assert result.exit_code == 0, result.output
    return folder


def _acknowledged(writer: subprocess.Popen[str], at_least: int) -> Iterator[int]:
    assert writer.stdout is not None
    for _ in range(at_least):
        line = writer.stdout.readline()
        assert line, f"the writer stopped early: {writer.wait()}"
        yield int(line)


def _kill_mid_load(url: str, round_: int) -> list[int]:
    """Start the writers, let each acknowledge ACKS rows, kill them all at once."""
    writers = [subprocess.Popen([sys.executable, "-m", "tests.registry.ledger_writer", url,
                                 f"{round_}-{n}"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
               for n in range(WRITERS)]
    acked: list[int] = []
    try:
        for writer in writers:
            acked.extend(_acknowledged(writer, ACKS))
    finally:
        for writer in writers:
            writer.send_signal(signal.SIGKILL)
        for writer in writers:
            rest, _ = writer.communicate(timeout=30)  # flushed before the kill: acknowledged
            acked.extend(int(line) for line in rest.split())
            assert writer.returncode == -signal.SIGKILL
    return acked


def test_no_acknowledged_row_is_lost_to_a_kill(instance: Path) -> None:
    url = f"sqlite:///{instance / 'registry.sqlite'}"
    acked: list[int] = []
    for round_ in range(2):  # and the broker goes on after the kill
        acked += _kill_mid_load(url, round_)
        stored = {int(str(seq)) for (seq,) in sql(url, "SELECT seq FROM ledger")}
        assert set(acked) <= stored
        registry = Registry(url)  # reopened, as a restarted broker would
        try:
            result = registry.ledger().verify()
        finally:
            registry.close()
        assert result.ok, result.problem
        assert result.committed is not None and result.committed >= max(acked)
        assert result.rows == len(stored) >= WRITERS * ACKS * (round_ + 1)
    verified = _broker(instance, "ledger", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"end of the chain: row {result.committed}, recorded as committed in " in verified.output


def test_a_lost_tail_fails_verify(instance: Path) -> None:
    url = f"sqlite:///{instance / 'registry.sqlite'}"
    acked = _kill_mid_load(url, 0)
    newest = max(acked)
    sql(url, LOSE_TAIL.format(keep=newest - 3))
    result = _broker(instance, "ledger", "verify")
    assert result.exit_code == 1
    assert f"ledger BROKEN: the chain ends at row {newest - 3} but row " in result.output
    assert "was committed (recorded in " in result.output and "registry.sqlite.ledger-head" in (
        result.output)
    assert "rows were lost (if an older copy of the database was put back on purpose, remove " \
        "that file to accept the loss)" in result.output
