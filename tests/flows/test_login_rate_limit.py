"""One address cannot fill the state store with pending logins: starts are counted per
address, generously (a whole school may share one), and the excess gets a 429 page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from demo.stack import Running, running
from tests.peers.browser import Browser

LIMIT = 3


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("limited"),
                 settings={"state_url": redis_url, "login_starts_per_minute": LIMIT}) as stack:
        yield stack


def test_the_start_after_the_limit_gets_a_429_and_stores_nothing(strict: Running,
                                                                  redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
        with Browser() as browser:
            for _ in range(LIMIT):
                browser.get(f"{strict.suppliers['rekenwonders']}/login")
                assert "/discovery" in browser.url
            pending = len(list(client.scan_iter(match="loper:pending:*")))
            browser.get(f"{strict.suppliers['rekenwonders']}/login")
            assert browser.page.status_code == 429
            assert "Even te druk" in browser.text and 'class="error-id"' in browser.text
            assert len(list(client.scan_iter(match="loper:pending:*"))) == pending == LIMIT
    finally:
        client.close()
