"""The error pages a pupil meets when something around the login goes wrong, caused for real
against a demo federation of their own, in the browser walk of test_pages_in_a_browser.py (nl
and en, 375 px and 1280 px; the same checks on every page).

This federation's Loper stands behind one trusted proxy (trusted_proxies 1), so each visit
comes from an address of its own (X-Forwarded-For): its login starts count alone, and it is
not an address allowed to read /metrics. Het Lyceum's login server is moved, for one visit at
a time, to a port where nothing listens and to one that never answers.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from broker.records import School
from demo.stack import HOST, Running, running
from tests.portal.test_pages_in_a_browser import LOCALES, WIDTHS, Visit, visit

__all__ = ["visit"]  # the walk's fixture, on this module's stack

STARTS_PER_MINUTE = 3
SETTINGS = {"trusted_proxies": 1, "login_starts_per_minute": STARTS_PER_MINUTE,
            "outbound_timeout": 1}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("errors"), settings=SETTINGS) as stack:
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
    number = WIDTHS.index(visit.width) * len(LOCALES) + list(LOCALES).index(visit.lang) + 1
    visit.page.set_extra_http_headers({"X-Forwarded-For": f"198.51.100.{number}"})


def lyceum_at(visit: Visit, port: int) -> School:
    """Het Lyceum's login server moved to `port` in the registry; the school as it was."""
    registry = visit.broker.registry
    lyceum = registry.school("lyceum")
    assert lyceum is not None
    issuer = f"http://{HOST}:{port}"
    registry.change_school(replace(lyceum, config=replace(lyceum.config, issuer=issuer)))
    return lyceum


def choose_lyceum(visit: Visit, status: int) -> None:
    visit.goto(f"{visit.stack.suppliers['rekenwonders']}/login")
    with visit.page.expect_response(lambda r: "/discovery?" in r.url and "school=" in r.url
                                    ) as answer:
        visit.page.get_by_role("link", name="Het Lyceum").click()
    assert answer.value.status == status


def test_the_error_pages_around_a_login(visit: Visit, silent_port: int) -> None:
    from_own_address(visit)
    broker, leesplein = visit.stack.broker, visit.stack.suppliers["leesplein"]
    visit.goto(f"{broker}/oidc/authorize?client_id=leesplein&response_type=code&scope=openid"
               "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", 403)  # not its registered one
    visit.error_page("supplier_request_rejected")
    assert visit.page.locator(f'main a[href^="{leesplein}"]').count() >= 1, "back to the app"
    visit.goto(f"{broker}/oidc/logged-out?state=forged", 403)  # a logout Loper never began
    visit.error_page("logout_rejected")
    visit.goto(f"{broker}/metrics", 403)  # from an address metrics_allow does not name
    visit.error_page("not_allowed_from_here")

    rekenwonders = visit.stack.suppliers["rekenwonders"]
    visit.goto(f"{rekenwonders}/login")  # login start 1: a school nobody registered
    expect(visit.page.locator("h1")).to_be_visible()
    assert "/discovery?login=" in visit.page.url
    visit.goto(f"{visit.page.url}&school=atlantis", 404)
    visit.error_page("unknown_school")

    lyceum = lyceum_at(visit, closed_port())
    try:
        choose_lyceum(visit, 502)  # start 2: nothing listens at the school's login server
        visit.error_page("school_unavailable")
        lyceum_at(visit, silent_port)
        choose_lyceum(visit, 504)  # start 3: the school's login server never answers
        visit.error_page("school_timeout")
    finally:
        visit.broker.registry.change_school(lyceum)

    visit.goto(f"{rekenwonders}/login", 429)  # start 4, one more than a minute allows
    visit.error_page("too_many_logins")
