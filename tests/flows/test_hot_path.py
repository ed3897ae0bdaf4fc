"""What a login costs the storage, counted where it happens: each command or pipeline that
Loper's connections send to the real Redis, and each statement SQLite runs for the registry,
by the HTTP step that caused it.

A whole OIDC -> OIDC login of the demo federation (Leesplein through the school picker to Het
Lyceum); the table in docs/architecture.md ("Where state lives") says why each step needs what
it needs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import redis
from flask import has_request_context, request
from sqlalchemy import event

from broker.registry import Registry
from demo.school_op import LYCEUM_PEOPLE
from demo.stack import Running, running
from tests.flows.conftest import LYCEUM, log_in_via_picker, whoami
from tests.peers.browser import Browser

VERSION_CHECK = "SELECT version FROM registry_version WHERE id = 1"
LEDGER_APPEND = ("BEGIN IMMEDIATE", "SELECT ledger_checkpoint.", "UPDATE ledger_checkpoint ",
                 "INSERT INTO ledger ", "COMMIT")
"""The statements of one release written to the ledger (SQLite)."""
PER_STEP = {
    "/oidc/authorize": 1,  # the pending login written, with the rate limit's count
    "/discovery": 1 + 2,  # the picker reads the pending login; the pick reads and rewrites it
    "/oidc/callback": 3,  # pending login taken; the school's answer remembered; session + code
    "/oidc/token": 2,  # the code taken; the access token
    "/oidc/userinfo": 2,  # the access token; whether its grant was revoked and whether its
    # SSO session was logged out, together (both keys come from the token's record)
}
"""Round trips of a first login (no SSO session yet) per path."""


class Counting(redis.Connection):
    """A real connection that counts what it sends (a pipeline is sent at once)."""

    trips: ClassVar[Counter[str]] = Counter()
    connecting = False

    def on_connect(self) -> None:
        self.connecting = True  # the handshake is no step of a login
        try:
            super().on_connect()
        finally:
            self.connecting = False

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if not self.connecting:
            Counting.trips[request.path if has_request_context() else "-"] += 1
        super().send_packed_command(command, check_health)


class Statements:
    """Every statement SQLite runs for the registry (version checks included), by path."""

    def __init__(self, registry: Registry) -> None:
        self.seen: dict[str, list[str]] = defaultdict(list)
        engine = registry._db.engine  # white-box: trace the connections of this registry
        event.listen(engine, "connect", self._connect)
        engine.dispose()  # connections opened from now on are traced

    def _connect(self, dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.set_trace_callback(self._ran)

    def _ran(self, statement: str) -> None:
        self.seen[request.path if has_request_context() else "-"].append(statement)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("trips"), settings={"state_url": redis_url}) as s:
        client = s.apps["broker"].extensions["loper"].store._single
        pool = client.connection_pool
        pool.connection_class = Counting
        pool.reset()  # every connection from now on counts
        yield s


@pytest.fixture(scope="module")
def statements(stack: Running) -> Statements:
    return Statements(stack.apps["broker"].extensions["loper"].registry)


def log_in(stack: Running, statements: Statements | None = None) -> Counter[str]:
    Counting.trips.clear()
    if statements is not None:
        statements.seen.clear()
    leesplein = stack.suppliers["leesplein"]
    with Browser() as browser:
        log_in_via_picker(browser, leesplein, LYCEUM_PEOPLE[0], LYCEUM)
        assert browser.url == f"{leesplein}/", browser.text[:500]
        assert whoami(browser, leesplein)["status"] == "ok"
    return Counter(Counting.trips)


def test_each_step_of_a_login_makes_its_round_trips(stack: Running) -> None:
    log_in(stack)  # the first one may load scripts and the like
    assert log_in(stack) == PER_STEP


def test_a_warm_login_runs_no_sql_but_the_ledger_append(stack: Running,
                                                        statements: Statements) -> None:
    """Every registry read is served by the per-process cache, which checks the registry
    version once per request; the one write is the release in the ledger, when the supplier
    collects its code."""
    log_in(stack)  # warm: the cache holds what a login reads
    log_in(stack, statements)
    requests = {"/oidc/authorize": 1, "/discovery": 2, "/oidc/callback": 1, "/oidc/token": 1,
                "/oidc/jwks": 1, "/oidc/userinfo": 1}
    checks = {path: ran.count(VERSION_CHECK) for path, ran in statements.seen.items()}
    assert checks == requests
    others = {path: [s for s in ran if s != VERSION_CHECK]
              for path, ran in statements.seen.items()}
    assert {path: ran for path, ran in others.items() if ran}.keys() == {"/oidc/token"}
    appended = others["/oidc/token"]
    assert len(appended) == len(LEDGER_APPEND), appended
    assert all(s.startswith(start) for s, start in zip(appended, LEDGER_APPEND, strict=True)), \
        appended
