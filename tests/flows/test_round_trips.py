"""Redis round trips per step of a login, counted on the wire: each command or pipeline that
Loper's connections send to the real Redis, by the HTTP step that sent it.

A whole OIDC -> OIDC login of the demo federation (Leesplein through the school picker to Het
Lyceum); the table in docs/architecture.md ("Where state lives") says why each step needs what
it needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import redis
from flask import has_request_context, request

from demo.school_op import LYCEUM_PEOPLE
from demo.stack import Running, running
from tests.flows.conftest import LYCEUM, log_in_via_picker, whoami
from tests.peers.browser import Browser

PER_STEP = {
    "/oidc/authorize": 2,  # the rate limit's count; the pending login written
    "/discovery": 1 + 2,  # the picker reads the pending login; the pick reads and rewrites it
    "/oidc/callback": 3,  # pending login taken; the school's answer remembered; session + code
    "/oidc/token": 2,  # the code taken; the access token
    "/oidc/userinfo": 2,  # the access token; whether its grant was revoked
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


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("trips"), settings={"state_url": redis_url}) as s:
        client = s.apps["broker"].extensions["loper"].store._single
        pool = client.connection_pool
        pool.connection_class = Counting
        pool.reset()  # every connection from now on counts
        yield s


def log_in(stack: Running) -> Counter[str]:
    Counting.trips.clear()
    leesplein = stack.suppliers["leesplein"]
    with Browser() as browser:
        log_in_via_picker(browser, leesplein, LYCEUM_PEOPLE[0], LYCEUM)
        assert browser.url == f"{leesplein}/", browser.text[:500]
        assert whoami(browser, leesplein)["status"] == "ok"
    return Counter(Counting.trips)


def test_each_step_of_a_login_makes_its_round_trips(stack: Running) -> None:
    log_in(stack)  # the first one may load scripts and the like
    assert log_in(stack) == PER_STEP
