"""Never go down: Redis or PostgreSQL going away while gunicorn replaces a worker.

The worker gunicorn starts during the outage must start (a worker that fails to boot makes
the gunicorn master exit, taking the healthy workers with it); meanwhile every page that
needs the storage is Loper's 503 page, and Loper serves again by itself, within 5 seconds of
the storage's return, with no restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Loper, assert_loper_503, make_instance, running_loper
from tests.fixtures.postgres_server import running_postgres_server
from tests.fixtures.redis_server import running_redis_server

RECOVERY = 5.0
"""Seconds from the storage's return until Loper serves again (the issue's bound)."""
BOOT_WARNING = "is unavailable ("
"""What a worker logs when it starts without its storage."""


def outage(loper: Loper, stop: Callable[[], None], restore: Callable[[], None],
           down: str) -> None:
    """Stop the storage, kill a worker, check the 503s, restore it, wait for service."""
    assert loper.serves()
    stop()
    new_worker = loper.kill_worker()
    loper.wait(f"worker {new_worker} to start", lambda: loper.log_count(BOOT_WARNING) >= 1)
    for _ in range(4):  # the workers take turns: both answer
        assert_loper_503(loper.login_start())
    health = loper.get("/healthz")
    assert health.status_code == 503
    assert health.json()[down]["ok"] is False
    assert health.json()[down]["reason"] == "unreachable"
    ready = loper.get("/readyz")
    assert ready.status_code == 503 and ready.json()[down] == "unreachable"
    assert loper.master_alive(), loper.server.log_tail()
    assert new_worker in loper.server.worker_pids()

    restore()
    deadline = time.monotonic() + RECOVERY
    while not loper.serves():
        assert time.monotonic() < deadline, "Loper did not serve again within 5 seconds"
        time.sleep(0.05)
    assert loper.get("/readyz").json()["ready"] is True
    assert loper.get("/saml/idp/metadata").status_code == 200
    assert loper.master_alive()


def test_redis_down_while_a_worker_is_replaced(tmp_path: Path) -> None:
    with running_redis_server() as redis:
        env = make_instance(tmp_path / "instance", state_url=redis.url)
        with running_loper(env, tmp_path / "gunicorn.log") as loper:
            outage(loper, redis.stop, redis.start, down="store")


def test_postgresql_down_while_a_worker_is_replaced(tmp_path: Path) -> None:
    with running_postgres_server() as postgres:
        env = make_instance(tmp_path / "instance", registry_url=postgres.url)
        with running_loper(env, tmp_path / "gunicorn.log") as loper:
            outage(loper, postgres.stop, postgres.start, down="registry")
