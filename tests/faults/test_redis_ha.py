"""Redis as a national deployment runs it: Sentinel failing over mid-login, and a Cluster.

Loper runs under gunicorn (soak/stack.py) with its state behind a ``redis+sentinel://`` or
``redis+cluster://`` URL; every login is a complete OIDC login by a real school and app.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

from broker.store.redis_urls import FOLLOW_EVERY
from soak.logins import Begun, Outcome
from soak.stack import Stack, loper_stack
from tests.faults.conftest import demoted_now
from tests.fixtures.redis_ha import redis_cluster, sentinel_setup

LOST = ("login_expired", "answer_without_login", "service_unavailable", "invalid_grant",
        "invalid_token")
"""How a login lost in a failover ends: Loper's page (its state is gone: "this login has
expired", or the school's answer belongs to a login that is no longer open; or Redis cannot be
reached for a moment), or the app's code or token refused (the app starts again)."""


def _begin_all(loper: Stack, count: int) -> list[Begun]:
    steps = loper.steps()
    begun = [loper.begin(steps) for _ in range(count)]
    assert all(isinstance(b, Begun) for b in begun), begun
    return [b for b in begun if isinstance(b, Begun)]


def _finish_all(loper: Stack, begun: list[Begun]) -> list[Outcome]:
    steps = loper.steps()
    return [loper.finish(steps, b) for b in begun]


def test_a_sentinel_failover_costs_at_most_the_logins_in_flight(tmp_path: Path) -> None:
    with sentinel_setup(tmp_path / "redis") as redis, \
            loper_stack(tmp_path, redis.url) as loper:
        assert loper.log_in(loper.steps()).kind == "ok"
        at_school = _begin_all(loper, 4)  # pupils at the school's page when it fails over
        redis.replicated()

        during: list[Outcome] = []
        stop = threading.Event()

        def pupils() -> None:  # complete logins all through the failover
            steps = loper.steps()
            while not stop.is_set():
                during.append(loper.log_in(steps))

        threads = [threading.Thread(target=pupils) for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            redis.failover()
            time.sleep(2 * FOLLOW_EVERY)  # every worker has asked the Sentinel again
            begun_after = _begin_all(loper, 4)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)

        # What was replicated before the failover is served by the new master.
        assert [o.kind for o in _finish_all(loper, at_school)] == ["ok"] * 4
        # Logins caught by the failover end on Loper's page, with a way to start again.
        kinds = Counter(o.kind for o in during)
        assert kinds["broken"] == 0, [o.detail for o in during if o.kind == "broken"]
        assert kinds["ok"] >= 1, during
        pages = [o.detail for o in during if o.kind == "page"]
        assert all(page.split()[1] in LOST for page in pages), pages
        # Nothing went to the old master once Loper had asked the Sentinel: the logins
        # begun then are still there after the old master became a replica (and dropped
        # what it took in the meantime).
        demoted_now(redis)
        after = _finish_all(loper, begun_after)
        assert [o.kind for o in after] == ["ok"] * 4, after
        assert all(loper.log_in(loper.steps()).kind == "ok" for _ in range(4))


def test_a_login_through_a_redis_cluster(tmp_path: Path) -> None:
    with redis_cluster(tmp_path / "redis") as cluster, \
            loper_stack(tmp_path, cluster.url) as loper:
        outcomes = [loper.log_in(loper.steps()) for _ in range(6)]
        assert [o.kind for o in outcomes] == ["ok"] * 6, outcomes
        keys = cluster.keys_by_node()
        assert sum(1 for found in keys.values() if found) >= 2, keys  # spread over the nodes
