"""A school that hangs or drips its answer: the pupil gets Loper's own 504 page within the
deadline, with an error id and a way back to the app, and the next pupil of a dead school
gets it at once. `broker federation import` gives up on a dripping metadata URL in time.

Real HTTP throughout: Loper served on loopback, the demo school's OpenID Provider slowed down
by tests/faults/slow.py, the supplier's side played by the bench's OIDC relying party.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from bench.transport import HttpTransport, Jar, Request, Response
from broker.cli import main
from broker.context import Broker
from tests.faults.slow import json_head, slow_socket
from tests.faults.world import SUPPLIER_URL, SlowWorld, build
from tests.peers.servers import serve_factory
from tests.registry.conftest import FEDERATION, write_federation

DEADLINE = 2
SLACK = 1.0
"""Beyond the deadline: the watchdog's wake-up, rendering the page, a busy machine."""
DISCOVERY = "/.well-known/openid-configuration"
SCHOOLS = {"lyceum": {}, "druppel": {"/token": "drip"}, "stil": {DISCOVERY: "hang"}}
ERROR_ID = re.compile(r'class="error-id">([0-9a-f]{12})<')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SlowWorld, Broker]]:
    folder = tmp_path_factory.mktemp("slow-schools")
    settings = {"outbound_timeout": DEADLINE, "outbound_failure_ttl": 60}
    with ExitStack() as stack:
        made: list[SlowWorld] = []

        def make(url: str) -> object:
            made.append(build(stack, folder, url, SCHOOLS, settings))
            return create_app(made[0].overrides)

        _, app = stack.enter_context(serve_factory(make))
        yield made[0], app.extensions["loper"]


def _timed(transport: HttpTransport, request: Request, jar: Jar) -> tuple[Response, float]:
    started = time.monotonic()
    response = transport.send(request, jar)
    return response, time.monotonic() - started


def _with(request: Request, language: str) -> Request:
    return Request(request.method, request.url, request.form,
                   {**request.headers, "Accept-Language": language})


def _loper_page(response: Response, status: int, *texts: str) -> str:
    page = response.text()
    assert response.status == status, page[:500]
    assert ERROR_ID.search(page), "no error id on the page"
    assert f'href="{SUPPLIER_URL}"' in page, "no way back to the app"
    for text in texts:
        assert text in page
    return page


def test_a_dripping_school_ends_on_the_504_page_within_the_deadline(
        world: tuple[SlowWorld, Broker]) -> None:
    slow, broker = world
    school, transport, jar = slow.schools["druppel"], HttpTransport(slow.loper), {}
    rows = broker.registry.ledger().verify().rows
    to_school = transport.send(slow.rp.start("druppel").request, jar)
    assert to_school.location.startswith(school.issuer + "/authorize"), to_school.status
    answer = school.driver.answer(Request("GET", to_school.location), 0)
    page, elapsed = _timed(transport, _with(answer, "nl"), jar)
    assert DEADLINE <= elapsed < DEADLINE + SLACK
    _loper_page(page, 504, "Je school antwoordt niet", "school_timeout", "Opnieuw beginnen")
    assert school.slowed.calls.get("/token") == 1
    assert broker.registry.ledger().verify().rows == rows  # nothing released, nothing written
    again = transport.send(answer, jar)  # the pending login was burned
    assert again.status == 403 and "school_timeout" not in again.text()


def test_the_next_pupil_of_a_dead_school_gets_the_page_at_once(
        world: tuple[SlowWorld, Broker]) -> None:
    slow, _ = world
    school, transport = slow.schools["stil"], HttpTransport(slow.loper)
    first, elapsed = _timed(transport, _with(slow.rp.start("stil").request, "en"), {})
    assert DEADLINE <= elapsed < DEADLINE + SLACK
    _loper_page(first, 504, "Your school does not answer", "Start again")
    asked = school.slowed.calls[DISCOVERY]
    second, elapsed = _timed(transport, _with(slow.rp.start("stil").request, "nl"), {})
    assert elapsed < 0.5
    _loper_page(second, 504, "Je school antwoordt niet", "over een paar minuten")
    assert school.slowed.calls[DISCOVERY] == asked  # not asked again
    assert ERROR_ID.findall(first.text()) != ERROR_ID.findall(second.text())


def test_other_schools_log_in_meanwhile(world: tuple[SlowWorld, Broker]) -> None:
    slow, _ = world
    transport, jar = HttpTransport(slow.loper), {}
    started = slow.rp.start("lyceum")
    to_school = transport.send(started.request, jar)
    answer = slow.schools["lyceum"].driver.answer(Request("GET", to_school.location), 0)
    back = transport.send(answer, jar)
    assert slow.rp.answered(started, back) is not None  # a code for the supplier


def test_federation_import_gives_up_on_a_dripping_metadata_url(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    runner = CliRunner()
    assert runner.invoke(main, ["--instance", str(instance), "init"]).exit_code == 0
    with slow_socket("drip", head=json_head(None), body=b"<md:EntityDescriptor " * 100,
                     every=0.2) as server:
        url = f"http://127.0.0.1:{server.port}/idp.xml"
        path = write_federation(tmp_path, FEDERATION.replace('"regenboog-idp.xml"', f'"{url}"'))
        started = time.monotonic()
        result = runner.invoke(main, ["--instance", str(instance), "federation", "import",
                                      str(path)], env={"BROKER_OUTBOUND_TIMEOUT": str(DEADLINE),
                                                       "LYCEUM_SECRET": "x"})
        elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert f"cannot fetch {url}: 127.0.0.1:{server.port} did not answer within 2 s" in (
        result.output)
    assert 'schools[0] (id "regenboog"), field "metadata"' in result.output
    assert DEADLINE <= elapsed < DEADLINE + SLACK
