"""The apps the browser visits in a logout (broker/logout/apps.py): each step's request is made
when the step is sent, fresh, and its answer is read against that request alone. A step stored
before requests were made when sent (its request made at the start, no participant) is read
from the store and sent as it is.

A fake downstream with `Logout` stands for the SAML IdP: each request it makes is numbered, and
an answer names the request it answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from broker import codec
from broker.downstream import LogoutSent
from broker.errors import LogoutRejected, LogoutUnreachable
from broker.logout import run as runs
from broker.logout.apps import AppLogouts
from broker.logout.run import Initiator, LogoutRun, Outcome, SchoolStep, Step
from broker.outgoing import Outgoing
from broker.records import Supplier
from broker.registry import Registry
from broker.sso import Participant
from tests.core.flow_world import World

PROTOCOL = "oidc"  # Taalapp's in the flow world (tests/core/flow_world.py); the fake stands in
BROWSER = "browser-1"
PUPIL = Participant("taalapp", PROTOCOL, "pseudonym-1", "sid-1")


class FakeSlo:
    """Makes numbered requests; `refuse` or `gone` makes the next ones fail or be none."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []
        self.refuse = self.gone = False

    def logout(self, supplier: Supplier, subject: str, sid: str, relay_state: str,
               name: str = "") -> LogoutSent | None:
        if self.refuse:
            raise LogoutUnreachable("no signing key")
        if self.gone:
            return None
        number = f"request-{len(self.made) + 1}"
        self.made.append((number, relay_state))
        return LogoutSent(outgoing=Outgoing(f"https://taalapp.example/slo?{number}"),
                          state=number.encode())

    def logout_answered(self, supplier: Supplier, params: Mapping[str, str],
                        state: bytes) -> bool:
        if params.get("in_response_to", "").encode() != state:
            raise LogoutRejected("This LogoutResponse answers no LogoutRequest Loper sent.")
        return True

    def answer_logout(self, supplier: Supplier, request: bytes,
                      complete: bool) -> Outgoing | None:
        return None


@dataclass(frozen=True)
class StepBefore:
    """Step as the code before stored it: its request made when the logout began."""

    party: str
    outgoing: Outgoing
    state: bytes


def stored_before(run: LogoutRun, steps: tuple[StepBefore, ...]) -> bytes:
    """`run` as the code before stored it, with `steps` in that code's form."""
    kept = {f.name: getattr(run, f.name) for f in fields(run)}
    return codec.encode({**kept, "steps": steps})


@pytest.fixture
def slo(registry: Registry, tmp_path: Path) -> tuple[AppLogouts, FakeSlo]:
    world = World(registry, tmp_path)
    fake = FakeSlo()
    world.broker.downstreams[PROTOCOL] = fake  # type: ignore[assignment]
    return AppLogouts(world.broker), fake


def a_run(*steps: Step, schools: tuple[SchoolStep, ...] = ()) -> LogoutRun:
    return LogoutRun("run-1", BROWSER, Initiator("pupil"), schools, steps=steps)


def test_a_steps_request_is_made_when_it_is_sent(slo: tuple[AppLogouts, FakeSlo]) -> None:
    apps, fake = slo
    run, outgoing = apps.ask(a_run(Step("taalapp", participant=PUPIL)))
    assert fake.made == [("request-1", "run-1")]  # made now, with the run's id as relay state
    assert outgoing == Outgoing("https://taalapp.example/slo?request-1")
    assert run.steps[0].state == b"request-1" and run.steps[0].outgoing is None
    over = apps.answered(run, {"in_response_to": "request-1"})
    assert over.steps == () and over.outcomes == (Outcome("taalapp", "done"),)


def test_a_request_made_just_now_is_sent_as_it_is(slo: tuple[AppLogouts, FakeSlo]) -> None:
    apps, fake = slo
    made = LogoutSent(outgoing=Outgoing("https://taalapp.example/slo?at-start"), state=b"s")
    run, outgoing = apps.ask(a_run(Step("taalapp", participant=PUPIL)), made)
    assert fake.made == [] and outgoing == made.outgoing and run.steps[0].state == b"s"


def test_only_the_answer_to_the_request_sent_is_taken(slo: tuple[AppLogouts, FakeSlo]) -> None:
    apps, fake = slo
    fake.logout(apps.broker.registry.supplier("taalapp"), "", "", "run-1")  # not sent
    run, _ = apps.ask(a_run(Step("taalapp", participant=PUPIL)))
    with pytest.raises(LogoutRejected, match="answers no LogoutRequest"):
        apps.answered(run, {"in_response_to": "request-1"})
    assert apps.answered(run, {"in_response_to": "request-2"}).outcomes[-1].result == "done"


def test_no_app_answer_is_taken_while_a_school_is_to_go(
        slo: tuple[AppLogouts, FakeSlo]) -> None:
    apps, _ = slo
    waiting = a_run(Step("taalapp", participant=PUPIL),
                    schools=(SchoolStep("lyceum", b"token", "run-1.x"),))
    with pytest.raises(LogoutRejected, match="asked no learning app"):
        apps.answered(waiting, {"in_response_to": ""})


@pytest.mark.parametrize(("gone", "refuse", "result"), [(True, False, "none"),
                                                         (False, True, "failed")])
def test_an_app_that_cannot_be_asked_when_sent_is_over_at_once(
        slo: tuple[AppLogouts, FakeSlo], gone: bool, refuse: bool, result: str) -> None:
    apps, fake = slo
    fake.gone, fake.refuse = gone, refuse
    run, outgoing = apps.ask(a_run(Step("taalapp", participant=PUPIL),
                                   Step("taalapp", participant=PUPIL)))
    assert outgoing is None and len(run.steps) == 1
    assert run.outcomes == (Outcome("taalapp", result),)  # type: ignore[arg-type]


def test_a_step_stored_before_is_read_and_sent_as_it_is(
        slo: tuple[AppLogouts, FakeSlo]) -> None:
    apps, fake = slo
    store = apps.broker.store
    before = StepBefore("taalapp", Outgoing("https://taalapp.example/slo?old"), b"request-0")
    at_school = a_run(schools=(SchoolStep("lyceum", b"token", "run-1.x", b"school"),))
    store.put_token(runs.KIND, runs.key("run-1", BROWSER), stored_before(at_school, (before,)),
                    runs.TTL)

    read = runs.take(store, "run-1", BROWSER)

    assert read is not None and read.at_school is not None
    assert read.steps == (Step("taalapp", before.outgoing, b"request-0"),)
    run, outgoing = apps.ask(read.school_answered("done"))
    assert outgoing == before.outgoing and fake.made == []  # as the code before made it
    over = apps.answered(run, {"in_response_to": "request-0"})
    assert over.outcomes[-1] == Outcome("taalapp", "done") and over.steps == ()
