"""The end of the ledger: synchronous=FULL on every SQLite connection, and the head file that
makes a lost tail show in verify() (a hash chain alone cannot see one)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from broker.registry import Ledger, Registry
from broker.registry.db import Database
from broker.registry.ledger import head_file
from broker.registry.ledger_head import SLOT, Head, HeadDamaged, HeadFile
from tests.registry.helpers import sql

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
FULL, WAL = 2, "wal"
LOSE_TAIL = ("DELETE FROM ledger WHERE seq > {keep}; UPDATE ledger_checkpoint SET head_seq = "
             "{keep}, head_link = {keep}, head_hash = COALESCE((SELECT hash FROM ledger WHERE "
             "seq = {keep}), base_hash)")
"""What a power cut under a lying disk leaves: the last commits gone, checkpoint row and all."""


def _fill(ledger: Ledger, n: int = 5, start: int = 0) -> None:
    for i in range(start, start + n):
        ledger.append(T0 + timedelta(hours=i), "regenboog", "rekenwonders", f"v1-p{i}",
                      ["role"], "saml")


@pytest.fixture
def ledger(registry: Registry) -> Ledger:
    ledger = registry.ledger()
    _fill(ledger)
    return ledger


def _head(registry_url: str) -> HeadFile:
    return HeadFile(Path(registry_url.removeprefix("sqlite:///") + ".ledger-head"))


def test_every_connection_syncs_each_commit(registry_url: str) -> None:
    """Read, write and raw connections alike: a commit is on disk before it returns."""
    db = Database(registry_url)
    try:
        with db.read() as session:
            pragmas = [session.execute(text(f"PRAGMA {p}")).scalar()
                       for p in ("synchronous", "journal_mode")]
            assert pragmas == [FULL, WAL]
        with db.write() as session:
            assert session.execute(text("PRAGMA synchronous")).scalar() == FULL
        assert db.peek("PRAGMA synchronous") == FULL
    finally:
        db.close()


def test_append_returns_its_seq_and_records_the_head(registry: Registry,
                                                     registry_url: str) -> None:
    ledger = registry.ledger()
    assert _head(registry_url).read() is None
    assert [ledger.append(T0, "s", "p", "v1-x", [], "oidc") for _ in range(3)] == [1, 2, 3]
    [(seq, hash_)] = sql(registry_url, "SELECT seq, hash FROM ledger WHERE seq = 3")
    assert _head(registry_url).read() == Head(3, str(hash_)) and seq == 3
    result = ledger.verify()
    assert (result.ok, result.rows, result.committed) == (True, 3, 3)
    assert result.head_file == _head(registry_url).path


@pytest.mark.parametrize("keep", [4, 2, 0])
def test_a_lost_tail_shows(ledger: Ledger, registry_url: str, keep: int) -> None:
    sql(registry_url, LOSE_TAIL.format(keep=keep))
    result = ledger.verify()
    assert not result.ok and result.rows == keep
    assert result.problem == (
        f"the chain ends at row {keep} but row 5 was committed (recorded in "
        f"{_head(registry_url).path}): the last {5 - keep} rows were lost (if an older copy of "
        "the database was put back on purpose, remove that file to accept the loss)")


def test_a_lost_tail_written_over_shows(ledger: Ledger, registry_url: str) -> None:
    """After the loss the broker goes on: new rows take the lost rows' numbers, not hashes."""
    sql(registry_url, LOSE_TAIL.format(keep=3))
    _fill(ledger, 4, start=10)
    problem = ledger.verify().problem or ""
    assert problem.startswith("row 5 is not the row that was committed")
    _head(registry_url).path.unlink()  # the operator accepts the loss
    assert ledger.verify().ok and ledger.verify().rows == 7
    ledger.append(T0, "s", "p", "v1-x", [], "oidc")  # and the head file starts afresh
    assert ledger.verify().committed == 8


def test_an_older_head_file_is_fine(ledger: Ledger, registry_url: str) -> None:
    """A crash between the commit and the head file leaves the file behind: no alarm."""
    [(hash_,)] = sql(registry_url, "SELECT hash FROM ledger WHERE seq = 2")
    _head(registry_url).path.unlink()
    _head(registry_url).advance(Head(2, str(hash_)))
    result = ledger.verify()
    assert (result.ok, result.committed) == (True, 2)


@pytest.mark.parametrize(("hours", "left"), [(2, 3), (4, 1), (5, 0), (99, 0)])
def test_purging_up_to_or_past_the_recorded_row(ledger: Ledger, hours: int, left: int) -> None:
    ledger.purge(T0 + timedelta(hours=hours))
    result = ledger.verify()
    assert (result.ok, result.rows, result.committed) == (True, left, 5)


def test_purged_past_and_then_lost(ledger: Ledger, registry_url: str) -> None:
    ledger.purge(T0 + timedelta(hours=2))
    sql(registry_url, LOSE_TAIL.format(keep=4))
    assert "the last 1 rows were lost" in (ledger.verify().problem or "")


def test_concurrent_writers_leave_the_newest_row_recorded(registry: Registry,
                                                          registry_url: str) -> None:
    """Processes and threads append at once; the head file never moves back, never alarms."""
    other = Registry(registry_url)
    verdicts: list[bool] = []

    def write(target: Registry) -> None:
        for i in range(15):
            target.ledger().append(datetime.now(UTC), "s", "p", f"v1-{i}", ["role"], "saml")
            verdicts.append(target.ledger().verify().ok)

    threads = [threading.Thread(target=write, args=(registry if n % 2 else other,))
               for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    result = registry.ledger().verify()
    assert (result.ok, result.rows, result.committed) == (True, 60, 60)
    assert verdicts == [True] * 60


def test_purging_while_others_append_and_verify_raises_no_alarm(registry: Registry,
                                                               registry_url: str) -> None:
    other = Registry(registry_url)
    problems: list[str | None] = []
    start = datetime.now(UTC) - timedelta(days=1)

    def append(n: int) -> None:
        for i in range(20):
            other.ledger().append(start + timedelta(minutes=20 * n + i), "s", "p", "v1-x", [],
                                  "saml")

    def purge_and_verify() -> None:
        for i in range(20):
            registry.ledger().purge(start + timedelta(minutes=2 * i))
            problems.append(registry.ledger().verify().problem)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(2)]
    threads.append(threading.Thread(target=purge_and_verify))
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    assert problems == [None] * 20
    result = registry.ledger().verify()
    assert (result.ok, result.committed) == (True, 40)


def test_head_file_survives_a_torn_slot(tmp_path: Path) -> None:
    head = HeadFile(tmp_path / "head")
    head.advance(Head(7, "a" * 64))
    head.advance(Head(8, "b" * 64))
    head.advance(Head(6, "c" * 64))  # older: left as it is
    assert head.read() == Head(8, "b" * 64)
    assert head.path.read_bytes()[:SLOT].startswith(b"00000000000000000008 ")
    with head.path.open("r+b") as file:  # a power cut in the middle of writing row 9
        file.seek(SLOT)  # over the older slot, as advance() does
        file.write(b"00000000000000000009 " + b"d" * 10)
    assert head.read() == Head(8, "b" * 64)
    head.advance(Head(9, "d" * 64))
    assert head.read() == Head(9, "d" * 64)


def test_head_file_reads_need_no_lock(tmp_path: Path) -> None:
    """A reader beside a busy writer: always a valid record, never one not yet written."""
    head, written, seen = HeadFile(tmp_path / "head"), [0], []

    def write() -> None:
        for seq in range(1, 80):
            head.advance(Head(seq, f"{seq:064x}"))
            written[0] = seq

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        before = written[0]
        now = head.read()
        if now is not None:
            assert now.seq >= before and now.hash == f"{now.seq:064x}"
            seen.append(now.seq)
    writer.join()
    assert seen == sorted(seen) and head.read() == Head(79, f"{79:064x}")


@pytest.mark.parametrize("content", [
    b"", b"\0" * SLOT, b"garbage", b"00000000000000000005 " + b"a" * 64 + b" 00000000\n",
    b"\xff" * (2 * SLOT), b"-0000000000000000005 " + b"a" * 64 + b" 00000000\n",
])
def test_a_damaged_head_file_is_reported(ledger: Ledger, registry_url: str,
                                         content: bytes) -> None:
    _head(registry_url).path.write_bytes(content)
    with pytest.raises(HeadDamaged):
        _head(registry_url).read()
    result = ledger.verify()
    assert not result.ok and "is damaged: neither of its records is readable" in (
        result.problem or "")


def test_an_unusable_head_file_does_not_fail_the_append(
        registry: Registry, registry_url: str, caplog: pytest.LogCaptureFixture) -> None:
    _head(registry_url).path.mkdir()
    with caplog.at_level(logging.ERROR, "loper.ledger"):
        assert registry.ledger().append(T0, "s", "p", "v1-x", [], "oidc") == 1
    assert "ledger head not moved" in caplog.text and "cannot be read: Is a directory" in (
        caplog.text)
    assert "cannot be read" in (registry.ledger().verify().problem or "")


def test_a_head_file_that_cannot_be_written_does_not_fail_the_append(
        registry: Registry, registry_url: str, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(HeadFile, "advance", full)
    with caplog.at_level(logging.ERROR, "loper.ledger"):
        assert registry.ledger().append(T0, "s", "p", "v1-x", [], "oidc") == 1
    assert "not written (row 1)" in caplog.text
    assert registry.ledger().verify().ok


def test_appends_after_a_loss_keep_the_evidence(ledger: Ledger, registry_url: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """The broker goes on after a loss; the head file is not moved past the lost row."""
    evidence = _head(registry_url).read()
    sql(registry_url, LOSE_TAIL.format(keep=3))
    with caplog.at_level(logging.ERROR, "loper.ledger"):
        _fill(ledger, 4, start=10)
    assert "ledger rows were lost: row 5" in caplog.text
    assert evidence is not None and evidence.seq == 5 and _head(registry_url).read() == evidence


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_no_head_file_without_a_database_file(url: str) -> None:
    db = Database(url)
    try:
        assert head_file(db) is None
    finally:
        db.close()
