"""The state store contract: every test runs against SqliteStore, RedisStore (one server, a
Sentinel-watched master, a three-master Cluster) and MemoryStore. On the Cluster the keys of
one test land on different nodes, and an operation on keys of two slots would fail there
(CROSSSLOT).

Concurrency (threads and processes racing) is in test_concurrency.py, with the same fixtures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.store import MemoryStore, Put, StateStore, StoreUnavailable, open_store

BLOB = bytes(range(256)) * 16  # every byte value, 4 KB


@pytest.fixture(params=["sqlite", "redis", "sentinel", "cluster", "memory"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """As in conftest.py, plus Sentinel and Cluster, and the in-memory store (which no other
    process can race on, and which has no URL outside these tests: memory://NAME is a
    MemoryStore of that name)."""
    if request.param == "memory":
        return f"memory://{tmp_path.name}"
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/instance/state.sqlite"
    url: str = request.getfixturevalue(f"{request.param}_store_url")
    return url


def opened(url: str) -> StateStore:
    if url.startswith("memory://"):
        return MemoryStore(url.removeprefix("memory://"))
    return open_store(url)


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    the_store = opened(store_url)
    yield the_store
    the_store.close()


ODD_KEYS = ["", "a:b", "a:b:c", "%3A", "naïve-ключ-🔑", "x" * 300, " spaces and\nnewline "]


def test_it_is_a_state_store(store: StateStore) -> None:
    assert isinstance(store, StateStore)
    health = store.check()
    assert health["ok"] is True
    assert health["backend"] in ("sqlite", "redis", "memory")


def test_pending_login_lifecycle(store: StateStore) -> None:
    assert store.load_pending("login-1") is None
    assert store.take_pending("login-1") is None
    store.save_pending("login-1", b"state", 60)
    assert store.load_pending("login-1") == b"state"
    assert store.load_pending("login-1") == b"state"  # loading does not consume
    store.save_pending("login-1", b"newer", 60)  # overwrite allowed
    assert store.load_pending("login-1") == b"newer"
    assert store.take_pending("login-1") == b"newer"
    assert store.take_pending("login-1") is None
    assert store.load_pending("login-1") is None


def test_code_is_taken_exactly_once(store: StateStore) -> None:
    assert store.take_code("code-1") is None
    store.put_code("code-1", b"first", 60)
    store.put_code("code-1", b"second", 60)  # overwrite allowed
    store.put_code("code-2", b"other", 60)
    assert store.take_code("code-1") == b"second"
    assert store.take_code("code-1") is None
    assert store.take_code("code-2") == b"other"
    assert store.take_code("code-2") is None


def test_session_lifecycle(store: StateStore) -> None:
    assert store.get_session("sess") is None
    store.delete_session("sess")  # deleting nothing is fine
    store.put_session("sess", b"alice", 60)
    assert store.get_session("sess") == b"alice"
    assert store.get_session("sess") == b"alice"
    store.put_session("sess", b"alice, refreshed", 120)
    assert store.get_session("sess") == b"alice, refreshed"
    store.delete_session("sess")
    assert store.get_session("sess") is None


def test_token_lifecycle(store: StateStore) -> None:
    assert store.get_token("refresh", "t1") is None
    assert store.take_token("refresh", "t1") is None
    store.delete_token("refresh", "t1")
    store.put_token("refresh", "t1", b"one", 60)
    store.put_token("refresh", "t2", b"two", 60)
    assert store.get_token("refresh", "t1") == b"one"
    assert store.get_token("refresh", "t1") == b"one"
    store.put_token("refresh", "t1", b"uno", 60)
    assert store.take_token("refresh", "t1") == b"uno"
    assert store.take_token("refresh", "t1") is None
    assert store.get_token("refresh", "t1") is None
    store.delete_token("refresh", "t2")
    assert store.get_token("refresh", "t2") is None


def test_token_kinds_are_separate_namespaces(store: StateStore) -> None:
    store.put_token("a:b", "c", b"kind a:b, key c", 60)
    store.put_token("a", "b:c", b"kind a, key b:c", 60)
    store.put_token("refresh", "k", b"refresh", 60)
    store.put_token("access", "k", b"access", 60)
    assert store.get_token("a:b", "c") == b"kind a:b, key c"
    assert store.get_token("a", "b:c") == b"kind a, key b:c"
    assert store.take_token("refresh", "k") == b"refresh"
    assert store.get_token("access", "k") == b"access"
    store.delete_token("access", "k")
    assert store.get_token("a:b", "c") == b"kind a:b, key c"


def test_roles_do_not_share_keys(store: StateStore) -> None:
    store.save_pending("x", b"pending", 60)
    store.put_code("x", b"code", 60)
    store.put_session("x", b"session", 60)
    store.put_token("x", "x", b"token", 60)
    assert store.remember_once("x", "x", 60) is True
    assert store.count_hit("x", 60) == 1
    assert store.take_code("x") == b"code"
    assert store.load_pending("x") == b"pending"
    assert store.get_session("x") == b"session"
    assert store.take_pending("x") == b"pending"
    assert store.get_session("x") == b"session"
    store.delete_session("x")
    assert store.get_token("x", "x") == b"token"


def test_put_all_stores_each_record_as_its_put_would(store: StateStore) -> None:
    store.put_all([Put("pending", "", "x", b"pending", 60), Put("code", "", "x", b"code", 60),
                   Put("session", "", "x", b"session", 60),
                   Put("token", "a:b", "x", b"token", 60)])
    store.put_all([])
    assert store.take_pending("x") == b"pending"
    assert store.take_code("x") == b"code"
    assert store.get_session("x") == b"session"
    assert store.get_token("a:b", "x") == b"token"
    assert store.get_token("a", "b:x") is None


def test_put_all_checks_every_record_before_storing_any(store: StateStore) -> None:
    for bad in (Put("pending", "", "y", b"x", 0), Put("hits", "", "y", b"x", 60),
                Put("code", "", "y", "text", 60)):  # type: ignore[arg-type]
        with pytest.raises((ValueError, TypeError)):
            store.put_all([Put("code", "", "ok", b"x", 60), bad])
    assert store.take_code("ok") is None


def test_put_all_counting_stores_and_counts_at_once(store: StateStore) -> None:
    assert store.put_all_counting([Put("pending", "", "p", b"pending", 60)], "starts", 60) == 1
    assert store.put_all_counting([Put("code", "", "c", b"code", 60),
                                   Put("token", "a:b", "t", b"token", 60)], "starts", 60) == 2
    assert store.put_all_counting([], "starts", 60) == 3
    assert store.count_hit("starts", 60) == 4  # count_hit's counter
    assert store.put_all_counting([], "others", 60) == 1
    assert store.load_pending("p") == b"pending"
    assert store.take_code("c") == b"code"
    assert store.get_token("a:b", "t") == b"token"
    with store.batched():  # not queued: it answers now
        assert store.put_all_counting([Put("session", "", "s", b"s", 60)], "starts", 60) == 5
        assert store.get_session("s") == b"s"


def test_put_all_counting_checks_everything_before_storing_or_counting(
        store: StateStore) -> None:
    for bad in (Put("pending", "", "y", b"x", 0), Put("hits", "", "y", b"x", 60),
                Put("code", "", "y", "text", 60)):  # type: ignore[arg-type]
        with pytest.raises((ValueError, TypeError)):
            store.put_all_counting([Put("code", "", "ok", b"x", 60), bad], "b", 60)
    with pytest.raises(ValueError):
        store.put_all_counting([Put("code", "", "ok", b"x", 60)], "b", 0)
    with pytest.raises(TypeError):
        store.put_all_counting([Put("code", "", "ok", b"x", 60)], None, 60)  # type: ignore[arg-type]
    assert store.take_code("ok") is None
    assert store.count_hit("b", 60) == 1


def test_get_tokens_reads_each_record_as_get_token_would(store: StateStore) -> None:
    store.put_token("a:b", "x", b"one", 60)
    store.put_token("a", "b:x", b"two", 60)
    store.put_code("x", b"code", 60)  # another role: no token
    assert store.get_tokens([("a:b", "x"), ("a", "b:x"), ("c", "x"), ("a:b", "x")]) == [
        b"one", b"two", None, b"one"]
    assert store.get_tokens([("a", "b:x")]) == [b"two"]
    assert store.get_tokens([]) == []
    assert store.take_token("a:b", "x") == b"one"  # reading did not consume
    with pytest.raises(TypeError):
        store.get_tokens([("a", 1)])  # type: ignore[list-item]


def test_a_batch_stores_its_writes_at_its_end(store: StateStore) -> None:
    with store.batched():
        store.save_pending("p", b"pending", 60)
        with store.batched():  # nested: stored with the outer batch
            store.put_code("c", b"code", 60)
        store.put_session("s", b"session", 60)
        store.put_token("k", "t", b"token", 60)
        assert store.get_session("s") is None  # queued, not stored yet
        assert store.remember_once("once", "r", 60) is True  # not queued: it answers now
    assert store.load_pending("p") == b"pending"
    assert store.take_code("c") == b"code"
    assert store.get_session("s") == b"session"
    assert store.get_token("k", "t") == b"token"
    assert store.remember_once("once", "r", 60) is False


def test_a_batch_that_fails_stores_nothing(store: StateStore) -> None:
    with pytest.raises(RuntimeError), store.batched():
        store.put_session("s", b"session", 60)
        store.put_code("c", b"code", 60)
        raise RuntimeError("the answer could not be built")
    assert store.get_session("s") is None and store.take_code("c") is None
    with pytest.raises(ValueError), store.batched():
        store.put_code("c", b"code", 60)
        store.put_session("s", b"session", 0)  # refused at once, with its batch
    assert store.take_code("c") is None


def test_a_batch_belongs_to_its_thread(store: StateStore) -> None:
    with store.batched():
        other = threading.Thread(target=store.put_code, args=("theirs", b"x", 60))
        other.start()
        other.join()
        assert store.take_code("theirs") == b"x"  # stored at once, not in this batch
        store.put_code("mine", b"y", 60)
    assert store.take_code("mine") == b"y"


@pytest.mark.parametrize("key", ODD_KEYS)
def test_any_string_is_a_key(store: StateStore, key: str) -> None:
    store.save_pending(key, b"p", 60)
    store.put_code(key, b"c", 60)
    store.put_session(key, b"s", 60)
    store.put_token(key, key, b"t", 60)
    assert store.load_pending(key) == b"p"
    assert store.take_code(key) == b"c"
    assert store.get_session(key) == b"s"
    assert store.take_token(key, key) == b"t"
    assert store.remember_once(key, key, 60) is True
    assert store.remember_once(key, key, 60) is False
    assert store.count_hit(key, 60) == 1


@pytest.mark.parametrize("value", [b"", b"\x00", BLOB, bytearray(b"mutable"), memoryview(b"mv")])
def test_values_come_back_as_the_same_bytes(store: StateStore, value: Any) -> None:
    store.save_pending("p", value, 60)
    store.put_code("c", value, 60)
    store.put_session("s", value, 60)
    store.put_token("k", "t", value, 60)
    for got in (store.load_pending("p"), store.take_code("c"), store.get_session("s"),
                store.take_token("k", "t")):
        assert type(got) is bytes
        assert got == bytes(value)


def test_values_must_be_bytes(store: StateStore) -> None:
    with pytest.raises(TypeError):
        store.put_code("c", "text", 60)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.put_token("k", "t", None, 60)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.save_pending(123, b"x", 60)  # type: ignore[arg-type]


def test_remember_once(store: StateStore) -> None:
    assert store.remember_once("assertion", "id-1", 60) is True
    assert store.remember_once("assertion", "id-1", 60) is False
    assert store.remember_once("assertion", "id-1", 60) is False
    assert store.remember_once("assertion", "id-2", 60) is True
    assert store.remember_once("jti", "id-1", 60) is True
    assert store.remember_once("a:b", "c", 60) is True
    assert store.remember_once("a", "b:c", 60) is True
    assert store.remember_once("a", "b:c", 60) is False


def test_count_hit(store: StateStore) -> None:
    assert [store.count_hit("login:10.0.0.1", 60) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert store.count_hit("login:10.0.0.2", 60) == 1
    assert store.count_hit("login:10.0.0.1", 60) == 6
    assert store.count_hit("login:10.0.0.1", 3600) == 7  # the window runs from the first hit


TTL_CALLS: dict[str, Callable[[StateStore, Any], object]] = {
    "save_pending": lambda s, ttl: s.save_pending("p", b"x", ttl),
    "put_code": lambda s, ttl: s.put_code("c", b"x", ttl),
    "remember_once": lambda s, ttl: s.remember_once("k", "x", ttl),
    "put_session": lambda s, ttl: s.put_session("s", b"x", ttl),
    "put_token": lambda s, ttl: s.put_token("k", "t", b"x", ttl),
    "count_hit": lambda s, ttl: s.count_hit("b", ttl),
    "put_all_counting": lambda s, ttl: s.put_all_counting([Put("code", "", "c", b"x", ttl)],
                                                          "b", 60),
    "put_all_counting window": lambda s, ttl: s.put_all_counting([], "b", ttl),
}


@pytest.mark.parametrize("call", TTL_CALLS.values(), ids=TTL_CALLS.keys())
def test_ttl_must_be_a_positive_int(store: StateStore,
                                    call: Callable[[StateStore, Any], object]) -> None:
    for bad in (0, -1, 1.5, 60.0, True, "60", None):
        with pytest.raises(ValueError):
            call(store, bad)
    call(store, 1)  # the smallest good one


def test_nothing_outlives_its_ttl(store: StateStore) -> None:
    """One sleep checks the expiry of every role (and that a rewrite restarts a TTL)."""
    store.save_pending("short", b"x", 1)
    store.save_pending("long", b"y", 60)
    store.save_pending("to-take", b"z", 1)
    store.put_code("short", b"x", 1)
    store.put_code("long", b"y", 60)
    store.put_session("short", b"x", 1)
    store.put_session("renewed", b"old", 1)
    store.put_session("renewed", b"new", 60)  # an overwrite restarts the TTL
    store.put_token("refresh", "short", b"x", 1)
    store.put_token("refresh", "to-take", b"x", 1)
    store.put_token("refresh", "long", b"y", 60)
    assert store.remember_once("jti", "short", 1) is True
    assert store.remember_once("jti", "long", 60) is True
    assert [store.count_hit("short", 1) for _ in range(3)] == [1, 2, 3]
    assert store.count_hit("long", 60) == 1
    assert store.put_all_counting([Put("code", "", "counted", b"x", 1)], "counted", 1) == 1
    time.sleep(1.1)
    assert store.load_pending("short") is None
    assert store.take_pending("to-take") is None
    assert store.take_pending("short") is None
    assert store.load_pending("long") == b"y"
    assert store.take_code("short") is None
    assert store.take_code("long") == b"y"
    assert store.get_session("short") is None
    assert store.get_session("renewed") == b"new"
    assert store.get_token("refresh", "short") is None
    assert store.take_token("refresh", "to-take") is None
    assert store.get_token("refresh", "long") == b"y"
    assert store.remember_once("jti", "short", 60) is True  # forgotten: a new first time
    assert store.remember_once("jti", "short", 60) is False
    assert store.remember_once("jti", "long", 60) is False
    assert store.count_hit("short", 1) == 1  # a new window
    assert store.count_hit("long", 60) == 2
    assert store.take_code("counted") is None
    assert store.put_all_counting([], "counted", 1) == 1  # a new window
    # Expired records can be written again as new ones.
    store.put_code("short", b"again", 60)
    assert store.take_code("short") == b"again"


def test_close_is_idempotent_and_final(store_url: str) -> None:
    first = opened(store_url)
    first.put_code("c", b"x", 60)
    first.close()
    first.close()
    reopened = opened(store_url)
    try:
        assert reopened.take_code("c") == b"x"  # the data outlives the client
    finally:
        reopened.close()
    if not store_url.startswith("redis"):
        with pytest.raises(StoreUnavailable):
            first.take_code("c")
