"""What happens when the backend is down or misconfigured: StoreUnavailable (quickly) or a
ConfigError that says what to fix."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.store import StateStore, StoreUnavailable, open_store
from broker.store.sqlite_store import SqliteStore
from tests.fixtures.redis_server import free_port, running_redis_server

OPERATIONS: dict[str, Callable[[StateStore], object]] = {
    "save_pending": lambda s: s.save_pending("p", b"x", 60),
    "load_pending": lambda s: s.load_pending("p"),
    "take_pending": lambda s: s.take_pending("p"),
    "put_code": lambda s: s.put_code("c", b"x", 60),
    "take_code": lambda s: s.take_code("c"),
    "remember_once": lambda s: s.remember_once("k", "x", 60),
    "get_session": lambda s: s.get_session("s"),
    "put_session": lambda s: s.put_session("s", b"x", 60),
    "delete_session": lambda s: s.delete_session("s"),
    "put_token": lambda s: s.put_token("k", "t", b"x", 60),
    "get_token": lambda s: s.get_token("k", "t"),
    "take_token": lambda s: s.take_token("k", "t"),
    "delete_token": lambda s: s.delete_token("k", "t"),
    "count_hit": lambda s: s.count_hit("b", 60),
    "check": lambda s: s.check(),
}


def assert_all_unavailable(store: StateStore, within: float) -> None:
    for name, operation in OPERATIONS.items():
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            operation(store)
        assert time.monotonic() - started < within, f"{name} took too long to fail"


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_unreachable_redis_is_unavailable_quickly(scheme: str) -> None:
    started = time.monotonic()
    store = open_store(f"{scheme}://127.0.0.1:{free_port()}/0")  # opening does not connect
    try:
        assert time.monotonic() - started < 0.5
        with pytest.raises(StoreUnavailable, match="127.0.0.1"):
            store.check()
        assert_all_unavailable(store, within=1.0)
    finally:
        store.close()


def test_missing_redis_socket_is_unavailable(tmp_path: Path) -> None:
    store = open_store(f"unix://{tmp_path}/no-redis.sock?db=0")
    try:
        assert_all_unavailable(store, within=1.0)
    finally:
        store.close()


def test_redis_going_down_and_coming_back() -> None:
    with running_redis_server() as server:
        store = open_store(server.url)
        try:
            store.put_code("c", b"x", 60)
            assert store.check()["ok"] is True
            server.stop()
            assert_all_unavailable(store, within=1.0)
            server.start()  # same port, empty (no persistence)
            assert store.take_code("c") is None  # the pooled connection was stale: reconnected
            store.put_code("c", b"y", 60)
            assert store.take_code("c") == b"y"
        finally:
            store.close()


def test_locked_sqlite_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStore(str(path), busy_timeout=0.05)
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable, match="locked"):
            store.put_code("c", b"x", 60)
        locker.execute("ROLLBACK")
        store.put_code("c", b"x", 60)  # works again once the lock is gone
        assert store.take_code("c") == b"x"
    finally:
        locker.close()
        store.close()


def test_closed_sqlite_store_is_unavailable(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "state.sqlite"))
    store.close()
    assert_all_unavailable(store, within=1.0)


def test_sqlite_under_a_regular_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("I am a file")
    with pytest.raises(ConfigError, match="not-a-folder"):
        open_store(f"sqlite://{tmp_path}/not-a-folder/state.sqlite")
    with pytest.raises(ConfigError, match="not-a-folder"):
        open_store(f"sqlite://{tmp_path}/not-a-folder/deeper/state.sqlite")


def test_sqlite_in_proc_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="/proc/"):
        open_store("sqlite:///proc/loper-state/state.sqlite")


def test_sqlite_file_that_is_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not a SQLite database, just some text " * 100)
    with pytest.raises(ConfigError, match="state.sqlite"):
        open_store(f"sqlite://{path}")


def test_sqlite_path_is_a_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="state-folder"):
        open_store(f"sqlite://{tmp_path}/state-folder/")
    (tmp_path / "state-folder").mkdir()
    with pytest.raises(ConfigError, match="state-folder"):
        open_store(f"sqlite://{tmp_path}/state-folder")


@pytest.mark.parametrize("url", [
    "", "state.sqlite", "/srv/state.sqlite", "memory://", "postgresql://loper:s3cret@db/loper",
    "mysql://loper@db/loper", "http://127.0.0.1:6379/0", "redis+memcached://host/0",
])
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "sqlite:///" in message and "redis://" in message  # says what is accepted
    assert "s3cret" not in message


@pytest.mark.parametrize("url", [
    "sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite://host/state.sqlite",
    "sqlite:///tmp/state.sqlite?mode=ro", "redis://127.0.0.1:notaport/0",
    "redis://127.0.0.1:6379/0?no_such_option=1", "redis://127.0.0.1/0?decode_responses=True",
])
def test_malformed_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_sqlalchemy_style_absolute_sqlite_url_is_accepted(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/state.sqlite")  # four slashes in all
    try:
        assert isinstance(store, SqliteStore) and store.path == f"{tmp_path}/state.sqlite"
        assert store.check()["ok"] is True
    finally:
        store.close()
