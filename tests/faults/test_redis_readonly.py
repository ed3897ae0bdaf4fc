"""Redis refusing writes mid-login, as a master does in the moment a failover demotes it: the
pupil sees Loper's 503 page with an error id, never a 500; nothing of the step is written;
once Redis takes writes again, the same step succeeds.

A real Redis made a replica of an address where nothing listens: it keeps its data, answers
reads and refuses every write with READONLY (what a demoted master answers). The whole demo
federation runs on it, with real OIDC school and app.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from broker.store import StoreUnavailable, open_store
from broker.store.redis_urls import FOLLOW_EVERY
from demo.school_op import LYCEUM_PEOPLE
from demo.stack import Running, running
from tests.faults.conftest import demoted_now
from tests.fixtures.redis_ha import sentinel_setup
from tests.fixtures.redis_server import free_port, running_redis_server
from tests.flows.conftest import LYCEUM, at_school_login, whoami
from tests.peers.browser import Browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, redis.Redis]]:
    with running_redis_server() as server:
        url = f"redis://127.0.0.1:{server.port}/0"
        with running(tmp_path_factory.mktemp("readonly"), settings={"state_url": url}) as stack, \
                redis.Redis.from_url(url) as client:
            yield stack, client


def read_only(client: redis.Redis) -> None:
    client.execute_command("REPLICAOF", "127.0.0.1", str(free_port()))
    assert client.info("replication")["role"] == "slave"


def writable(client: redis.Redis) -> None:
    client.execute_command("REPLICAOF", "NO", "ONE")


def keys(client: redis.Redis) -> Counter[str]:
    """How many records of each role the store holds (loper:<role>:...)."""
    return Counter(key.decode().split(":")[1] for key in client.scan_iter(match="loper:*"))


def assert_503_page(browser: Browser) -> None:
    assert browser.page.status_code == 503, browser.text[:500]
    assert 'class="error-id"' in browser.text
    assert 'data-error-code="service_unavailable"' in browser.text
    assert "Traceback" not in browser.text and "Internal Server Error" not in browser.text


def test_a_read_only_redis_at_the_start_of_a_login(served: tuple[Running, redis.Redis]) -> None:
    stack, client = served
    leesplein = stack.suppliers["leesplein"]
    client.flushdb()
    read_only(client)
    try:
        with Browser() as browser:
            browser.get(f"{leesplein}/login")
            assert browser.url.startswith(stack.broker + "/oidc/authorize")
            assert_503_page(browser)
    finally:
        writable(client)
    assert keys(client) == Counter()  # no pending login, not even the rate limit's count


def test_a_read_only_redis_when_the_school_answers(served: tuple[Running, redis.Redis]) -> None:
    """The school's answer arrives while Redis refuses writes: 503; the pending login is kept,
    no session, code or replay record is written, the ledger is untouched; the same answer
    completes the login once Redis takes writes again."""
    stack, client = served
    leesplein = stack.suppliers["leesplein"]
    broker = stack.apps["broker"].extensions["loper"]
    client.flushdb()
    released = len(broker.registry.ledger().entries("lyceum"))
    with Browser() as browser:
        browser.get(f"{leesplein}/login")
        browser.click(LYCEUM)
        assert at_school_login(browser)
        before = keys(client)
        read_only(client)
        try:
            browser.login(LYCEUM_PEOPLE[0].id)
            answer = browser.url
            assert answer.startswith(stack.broker), answer
            assert_503_page(browser)
            assert keys(client) == before  # the pending login, nothing else
        finally:
            writable(client)
        assert len(broker.registry.ledger().entries("lyceum")) == released
        browser.get(answer)  # the pupil reloads the page
        assert browser.url == f"{leesplein}/", browser.text[:500]
        assert whoami(browser, leesplein)["status"] == "ok"
    assert keys(client)["session"] == 1 and keys(client)["pending"] == 0


def test_commands_in_flight_through_a_sentinel_failover(tmp_path: Path) -> None:
    """Threads sharing one store keep working through a failover: every operation succeeds
    or raises StoreUnavailable (Loper's 503), nothing else (a connection in use is never
    closed under another thread's feet)."""
    with sentinel_setup(tmp_path / "redis") as ha:
        store = open_store(ha.url)
        outcomes: Counter[str] = Counter()
        stop = threading.Event()

        def work(name: str) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    store.save_pending(f"{name}-{n}", b"login" * 20, 60)
                    store.load_pending(f"{name}-{n}")
                    store.count_hit(name, 60)
                    outcomes["ok"] += 1
                except StoreUnavailable:
                    outcomes["unavailable"] += 1
                except Exception as exc:  # noqa: BLE001 - what the test is looking for
                    outcomes[f"{type(exc).__name__}: {exc}"] += 1

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(12)]
        for thread in threads:
            thread.start()
        try:
            ha.failover()
            time.sleep(2 * FOLLOW_EVERY)  # the store has asked the Sentinel again
            demoted_now(ha)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
            store.close()
        assert set(outcomes) <= {"ok", "unavailable"}, outcomes
        assert outcomes["ok"] > 0
