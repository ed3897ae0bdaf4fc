"""Sentinel and Cluster URLs: what they mean, what is refused, and a Redis that is away."""

from __future__ import annotations

import time

import pytest

from broker.errors import ConfigError
from broker.store import StoreUnavailable, open_store
from broker.store.redis_urls import RedisTarget, parse
from tests.fixtures.redis_server import free_port


def test_a_sentinel_url() -> None:
    assert parse("redis+sentinel://:s%40cret@10.0.0.1:26380,sentinel-b,[::1]:5000/loper/2") == \
        RedisTarget("redis+sentinel", (("10.0.0.1", 26380), ("sentinel-b", 26379),
                                       ("::1", 5000)), "loper", 2, None, "s@cret")
    assert parse("redis+sentinel://s1:26379/loper").db == 0


def test_a_cluster_url() -> None:
    target = parse("redis+cluster://loper:pw@n1:7000,n2")
    assert target.nodes == (("n1", 7000), ("n2", 6379))
    assert (target.username, target.password) == ("loper", "pw")
    assert target.shown == "redis+cluster://n1:7000,n2:6379"


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel://s1:26379", "/SERVICE"),
    ("redis+sentinel://s1:26379/", "/SERVICE"),
    ("redis+sentinel://s1:26379/loper/0/extra", "/SERVICE"),
    ("redis+sentinel://s1:26379/loper/zero", "not a number"),
    ("redis+sentinel://s1:port/loper", "not a number"),
    ("redis+sentinel://s1:70000/loper", "out of range"),
    ("redis+sentinel://s1,,s2/loper", "without a host"),
    ("redis+sentinel://:pw@/loper", "without a host"),
    ("redis+sentinel://s1/loper?password=x", "no options"),
    ("redis+cluster://n1:7000/0", "database 0 only"),
    ("redis+cluster://n1:7000?ssl=true", "no options"),
])
def test_malformed_urls_are_refused_with_the_reason(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        open_store(url)


def test_the_password_never_shows() -> None:
    store = open_store("redis+sentinel://:t0psecret@127.0.0.1:1/loper")
    try:
        assert "t0psecret" not in repr(store)
    finally:
        store.close()


@pytest.mark.parametrize("scheme", ["redis+sentinel", "redis+cluster"])
def test_nothing_answers_store_unavailable_soon(scheme: str) -> None:
    """Opening never connects (a broker starts while Redis is away); using it fails with
    StoreUnavailable within the retries' few seconds, naming no password."""
    path = "/loper" if scheme == "redis+sentinel" else ""
    store = open_store(f"{scheme}://:t0psecret@127.0.0.1:{free_port()},"
                       f"127.0.0.1:{free_port()}{path}")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            store.save_pending("p", b"x", 60)
        assert time.monotonic() - started < 30
        assert caught.value.reason == "unreachable"
        assert "t0psecret" not in str(caught.value)
        with pytest.raises(StoreUnavailable):
            store.check()
    finally:
        store.close()
