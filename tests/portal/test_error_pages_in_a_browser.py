"""The error pages a pupil meets when something around the login goes wrong, caused for real
against a demo federation of their own, in the browser walks of test_pages_in_a_browser.py (nl
on a phone, en on a desktop; every page checked at 375 px and 1280 px).

This federation's Loper stands behind one trusted proxy (trusted_proxies 1), so each visit
comes from an address of its own (X-Forwarded-For): its login starts count alone, and it is
not an address allowed to read /metrics. Het Lyceum's login server is moved, for one visit at
a time, to a port where nothing listens and to one that never answers. Taalapp requires
teachers to log in with a second factor, which the demo school's password login is not.
The state store is a Redis server of its own, stopped for a moment in each visit. OBS De
Regenboog links pupils by ECK iD, and another pupil of it already arrived with Sanne's. Het
Lyceum, for one login, sends a first name with a control character (its OpTweaks): the value
is dropped on input and the pupil gets in, so no page of Loper's shows response_failed for it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from broker.acr import REFEDS_MFA
from broker.context import Broker
from broker.pseudonym import eck_hash
from broker.records import School
from demo.people import DEFAULT_PEOPLE
from demo.school_op import OpTweaks
from demo.stack import HOST, Running, running
from tests.faults.outage import down
from tests.fixtures.redis_server import RedisServer, running_redis_server
from tests.portal.test_pages_in_a_browser import WALKS, Visit, log_in_at_school, visit
from tests.wall_clock import next_second

__all__ = ["visit"]  # the walk's fixture, on this module's stack

STARTS_PER_MINUTE = 8
SETTINGS = {"trusted_proxies": 1, "login_starts_per_minute": STARTS_PER_MINUTE,
            "outbound_timeout": 1}


@pytest.fixture(scope="module")
def state_store() -> Iterator[RedisServer]:
    with running_redis_server() as server:
        yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, state_store: RedisServer
          ) -> Iterator[Running]:
    settings = {**SETTINGS, "state_url": state_store.url}
    with running(tmp_path_factory.mktemp("errors"), settings=settings) as stack:
        broker: Broker = stack.apps["broker"].extensions["loper"]
        federation = broker.registry.export_federation()
        strict = tuple(replace(s, employee_acr=REFEDS_MFA) if s.id == "taalapp" else s
                       for s in federation.suppliers)
        broker.registry.import_federation(replace(federation, suppliers=strict),
                                          key_version=broker.pseudonym_keys.current)
        regenboog = broker.registry.school("regenboog")
        assert regenboog is not None
        broker.registry.change_school(replace(regenboog, link_by_eck_id=True))
        sanne = DEFAULT_PEOPLE[0]
        broker.registry.eck_ids().arrive(eck_hash(broker.pseudonym_keys, sanne.eck_id),
                                         "regenboog", True, "another-pupil", datetime.now(UTC))
        yield stack


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that takes connections into its backlog and never answers on them."""
    with socket.socket() as listening:
        listening.bind((HOST, 0))
        listening.listen(16)
        yield listening.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def from_own_address(visit: Visit) -> None:
    """The visit's own client address, as the trusted proxy reports it."""
    number = list(WALKS).index(visit.lang) + 1
    visit.page.set_extra_http_headers({"X-Forwarded-For": f"198.51.100.{number}"})


def lyceum_at(visit: Visit, port: int) -> School:
    """Het Lyceum's login server moved to `port` in the registry; the school as it was."""
    registry = visit.broker.registry
    lyceum = registry.school("lyceum")
    assert lyceum is not None
    issuer = f"http://{HOST}:{port}"
    registry.change_school(replace(lyceum, config=replace(lyceum.config, issuer=issuer)))
    return lyceum


def choose(visit: Visit, school: str, status: int | None = None) -> None:
    """A new login at Rekenwonders, `school` picked; Loper answers the pick with `status`."""
    visit.goto(f"{visit.stack.suppliers['rekenwonders']}/login")
    with visit.page.expect_response(lambda r: "/discovery?" in r.url and "school=" in r.url
                                    ) as answer:
        visit.page.get_by_role("link", name=school).click()
    assert status is None or answer.value.status == status


def at_school_as(visit: Visit, person: str, status: int) -> None:
    """Logged in at the school as `person`; Loper answers the school with `status`."""
    visit.page.get_by_label(person).check()
    with visit.page.expect_response(lambda r: r.url.startswith(visit.stack.broker)) as answer:
        log_in_at_school(visit)
    assert answer.value.status == status


def test_the_error_pages_of_a_refused_request(visit: Visit, state_store: RedisServer) -> None:
    from_own_address(visit)
    broker, leesplein = visit.stack.broker, visit.stack.suppliers["leesplein"]
    with down(state_store):  # the state store is down: nothing can be started or kept
        visit.goto(f"{visit.stack.suppliers['rekenwonders']}/login", 503)
        visit.error_page("service_unavailable")
    visit.goto(f"{broker}/oidc/authorize?client_id=leesplein&response_type=code&scope=openid"
               "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", 403)  # not its registered one
    visit.error_page("supplier_request_rejected")
    assert visit.page.locator(f'main a[href^="{leesplein}"]').count() >= 1, "back to the app"
    visit.goto(f"{broker}/oidc/logged-out?state=forged", 403)  # a logout Loper never began
    visit.error_page("logout_rejected")
    visit.goto(f"{broker}/metrics", 403)  # from an address metrics_allow does not name
    visit.error_page("not_allowed_from_here")


def test_the_error_pages_at_the_end_of_a_login(visit: Visit, silent_port: int) -> None:
    """Each login start is counted, and the last one is one more than a minute allows."""
    from_own_address(visit)
    rekenwonders = visit.stack.suppliers["rekenwonders"]
    visit.goto(f"{rekenwonders}/login")  # login start 1: a school nobody registered
    expect(visit.page.locator("h1")).to_be_visible()
    assert "/discovery?login=" in visit.page.url
    visit.goto(f"{visit.page.url}&school=atlantis", 404)
    visit.error_page("unknown_school")

    lyceum = lyceum_at(visit, closed_port())
    try:
        choose(visit, "Het Lyceum", 502)  # start 2: nothing listens at its login server
        visit.error_page("school_unavailable")
        lyceum_at(visit, silent_port)
        choose(visit, "Het Lyceum", 504)  # start 3: its login server never answers
        visit.error_page("school_timeout")
    finally:
        visit.broker.registry.change_school(lyceum)

    for person, code in (("Zoë Peters", "no_school_behind_hub"),  # starts 4 and 5: the hub
                         ("Milan de Boer", "other_school_behind_hub")):  # answers for another
        visit.page.context.clear_cookies()  # a new login at the hub too
        choose(visit, "CBS De Linde")
        next_second()  # a moment to type the password: a fresh login, refused at once
        at_school_as(visit, person, 403)
        visit.error_page(code)

    visit.goto(f"{visit.stack.suppliers['taalapp']}/login?school=regenboog")  # start 6
    at_school_as(visit, "Bram Visser", 403)  # a teacher, with a password only
    visit.error_page("login_too_weak")

    visit.page.context.clear_cookies()  # start 7: Sanne, whose ECK iD another pupil has
    choose(visit, "OBS De Regenboog")
    at_school_as(visit, DEFAULT_PEOPLE[0].display_name, 409)
    visit.error_page("eck_id_claimed_twice")

    visit.page.context.clear_cookies()  # start 8: a name that no XML answer can carry
    visit.stack.apps["lyceum"].config["TWEAKS"] = OpTweaks(claims={"given_name": "Sa\x01nne"})
    try:
        choose(visit, "Het Lyceum")
        log_in_at_school(visit)  # the name is dropped on input; the pupil still gets in
        expect(visit.page).to_have_url(re.compile("^" + re.escape(rekenwonders)))
    finally:
        visit.stack.apps["lyceum"].config["TWEAKS"] = OpTweaks()
    visit.page.context.clear_cookies()

    # start 9 is one more than a minute allows (a slow machine may have begun a new minute)
    for _ in range(STARTS_PER_MINUTE + 1):
        answer = visit.page.goto(f"{rekenwonders}/login")
        assert answer is not None
        if answer.status == 429:
            break
    assert answer.status == 429
    visit.error_page("too_many_logins")
