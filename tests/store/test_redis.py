"""RedisStore specifics: the key layout, TTLs set in Redis, the prefix, the health report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from broker.store import open_store
from broker.store.redis_store import RedisStore


@pytest.fixture
def raw(redis_store_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_store_url)
    yield client
    client.close()


def test_key_layout_and_ttls(redis_store_url: str, raw: redis.Redis) -> None:
    store = open_store(redis_store_url)
    try:
        store.save_pending("p1", b"pending", 600)
        store.put_code("c1", b"code", 60)
        store.put_session("s1", b"session", 3600)
        store.put_token("refresh", "t1", b"token", 86400)
        store.put_token("a:b%", "t1", b"odd kind", 60)
        store.remember_once("jti", "j1", 300)
        store.count_hit("login:1.2.3.4", 60)
        store.count_hit("login:1.2.3.4", 60)
        expected = {
            b"loper:pending:p1": (b"pending", 600),
            b"loper:code:c1": (b"code", 60),
            b"loper:session:s1": (b"session", 3600),
            b"loper:token:refresh:t1": (b"token", 86400),
            b"loper:token:a%3Ab%25:t1": (b"odd kind", 60),
            b"loper:once:jti:j1": (b"1", 300),
            b"loper:hits:login:1.2.3.4": (b"2", 60),
        }
        assert set(raw.keys("*")) == set(expected)
        for key, (value, ttl) in expected.items():
            assert raw.get(key) == value
            assert ttl - 2 <= raw.ttl(key) <= ttl, key
    finally:
        store.close()


def test_prefix(redis_store_url: str, raw: redis.Redis) -> None:
    one, other = RedisStore(redis_store_url), RedisStore(redis_store_url, prefix="other:")
    try:
        one.put_code("c", b"one", 60)
        other.put_code("c", b"other", 60)
        assert set(raw.keys("*")) == {b"loper:code:c", b"other:code:c"}
        assert other.take_code("c") == b"other"
        assert one.take_code("c") == b"one"
    finally:
        one.close()
        other.close()


def test_a_counter_without_ttl_gets_one(redis_store_url: str, raw: redis.Redis) -> None:
    raw.set("loper:hits:stuck", 5)  # as if left behind without an expiry
    store = open_store(redis_store_url)
    try:
        assert store.count_hit("stuck", 30) == 6
        assert 0 < raw.ttl("loper:hits:stuck") <= 30
    finally:
        store.close()


def test_health_report(redis_store_url: str) -> None:
    store = open_store(redis_store_url)
    try:
        health = store.check()
        assert health["ok"] is True and health["backend"] == "redis"
        assert str(health["version"]).split(".")[0].isdigit()
        assert "127.0.0.1" not in str(health)
        assert isinstance(store, RedisStore)
        assert store.target == redis_store_url.removeprefix("redis://")
    finally:
        store.close()


def test_the_password_stays_out_of_reports() -> None:
    store = RedisStore("redis://loper:s3cret@127.0.0.1:1/3")  # never connects
    try:
        assert "s3cret" not in repr(store) and store.target == "127.0.0.1:1/3"
    finally:
        store.close()
