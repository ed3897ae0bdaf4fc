"""SqliteStore specifics: the file, WAL mode, purging expired rows, the connection pool."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from broker.store import open_store, sqlite_store
from broker.store.sqlite_store import MAX_IDLE, SqliteStore


class ShiftedClock:
    """Stands in for the ``time`` module in sqlite_store: wall time plus ``offset`` seconds."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset

    def perf_counter(self) -> float:
        return time.perf_counter()


def raw_count(path: Path, table: str = "state") -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_creates_the_instance_folder_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "deeper" / "state.sqlite"
    store = open_store(f"sqlite://{path}")
    try:
        assert isinstance(store, SqliteStore) and store.path == str(path)
        health = store.check()
        assert health == {**health, "ok": True, "backend": "sqlite", "journal_mode": "wal"}
        assert str(tmp_path) not in str(health)
        assert path.is_file()
    finally:
        store.close()


def test_two_stores_on_one_file_share_state(tmp_path: Path) -> None:
    first, second = SqliteStore(str(tmp_path / "s.sqlite")), SqliteStore(str(tmp_path / "s.sqlite"))
    try:
        first.put_code("c", b"x", 60)
        assert second.take_code("c") == b"x"
        assert first.take_code("c") is None
        assert first.remember_once("k", "v", 60) is True
        assert second.remember_once("k", "v", 60) is False
        assert first.count_hit("b", 60) == 1
        assert second.count_hit("b", 60) == 2
    finally:
        first.close()
        second.close()


def test_expired_rows_are_ignored_then_purged(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStore(str(path))
    try:
        store.save_pending("p", b"x", 10)
        store.put_token("refresh", "t", b"x", 10)
        store.remember_once("jti", "j", 10)
        store.count_hit("b", 10)
        store.put_session("kept", b"x", 1000)
        assert raw_count(path) == 4 and raw_count(path, "hits") == 1
        monkeypatch.setattr(sqlite_store, "time", ShiftedClock(11))
        assert store.load_pending("p") is None  # ignored on read, still there
        assert store.get_token("refresh", "t") is None
        assert raw_count(path) == 4
        store._next_purge = 0.0  # a purge is due: the next write does it
        assert store.remember_once("jti", "j", 10) is True
        assert raw_count(path) == 2  # the session and the new "jti" row
        assert raw_count(path, "hits") == 0
        assert store.get_session("kept") == b"x"
        store.count_hit("b", 5)
        monkeypatch.setattr(sqlite_store, "time", ShiftedClock(30))
        health = store.check()  # the health check purges too
        assert health["purged"] == 2 and health["records"] == 1
        assert store._next_purge > time.time() + 30 + sqlite_store.PURGE_EVERY - 5
    finally:
        store.close()


def test_the_pool_keeps_few_idle_connections(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "state.sqlite"))
    barrier = threading.Barrier(MAX_IDLE + 8)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            store.put_token("t", str(n), b"x", 60)
            assert store.take_token("t", str(n)) == b"x"
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(MAX_IDLE + 8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        assert 1 <= len(store._idle) <= MAX_IDLE
    finally:
        store.close()
    assert store._idle == []
