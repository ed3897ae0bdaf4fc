"""A logout run stored before a logout asked more than one school (broker/logout/run.py): the
session's school in flat fields. In flight during an upgrade, it is read as a run with that one
school step, answered by its relay state (the run's id alone), and it finishes; one that is
over still shows how it went."""

from __future__ import annotations

from dataclasses import dataclass

from broker import codec
from broker.logout import run as runs
from broker.logout.run import Initiator, LogoutRun, Outcome, SchoolStep, Step
from broker.logout.schools import school_relay
from broker.outgoing import Outgoing
from broker.store.memory import MemoryStore

BROWSER = "browser-1"
APP_STEP = Step("rekenwonders", Outgoing("https://rekenwonders.example/slo"), b"app state")


@dataclass(frozen=True)
class StoredBefore:
    """LogoutRun as the code before stored it."""

    id: str
    browser: str
    initiator: Initiator
    school_id: str
    school_session: bytes
    steps: tuple[Step, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    frames: tuple[str, ...] = ()
    school_sent: bool = False
    school_state: bytes = b""
    had_session: bool = True


def _stored(store: MemoryStore, kind: str, run: StoredBefore) -> None:
    key = runs.key(run.id, run.browser)  # where the code before kept it
    store.put_token(kind, key, codec.encode(run), runs.TTL)


def test_a_run_waiting_for_its_school_is_read_with_that_school_in_flight() -> None:
    store = MemoryStore()
    before = StoredBefore("run-1", BROWSER, Initiator("pupil"), "regenboog", b"name id",
                          steps=(APP_STEP,), outcomes=(Outcome("taalapp", "done"),),
                          school_sent=True, school_state=b"request id")
    _stored(store, runs.KIND, before)
    run = runs.take(store, "run-1", BROWSER)
    assert run == LogoutRun("run-1", BROWSER, Initiator("pupil"),
                            (SchoolStep("regenboog", b"name id", "run-1", b"request id"),),
                            steps=(APP_STEP,), outcomes=(Outcome("taalapp", "done"),))
    assert run.at_school is not None and run.at_school.relay == "run-1"  # as sent before
    over = run.school_answered("done")
    assert over.schools == () and over.outcomes[-1] == Outcome("regenboog", "done", "school")


def test_a_run_past_its_school_or_started_by_it_has_no_school_left() -> None:
    store = MemoryStore()
    past = StoredBefore("run-2", BROWSER, Initiator("pupil"), "regenboog", b"name id",
                        steps=(APP_STEP,), outcomes=(Outcome("", "failed"),), school_sent=True)
    by_school = StoredBefore("run-3", BROWSER, Initiator("school", "regenboog"), "regenboog",
                             b"name id", steps=(APP_STEP,))
    for before in (past, by_school):
        _stored(store, runs.KIND, before)
    read_past, read_by_school = (runs.take(store, r, BROWSER) for r in ("run-2", "run-3"))
    assert read_past is not None and read_past.schools == ()
    assert read_past.outcomes == (Outcome("regenboog", "failed", "school"),)
    assert not read_past.complete
    assert read_by_school is not None and read_by_school.schools == ()
    assert read_by_school.steps == (APP_STEP,)


def test_a_run_over_before_the_upgrade_still_shows_how_it_went() -> None:
    store = MemoryStore()
    before = StoredBefore("run-4", BROWSER, Initiator("pupil"), "regenboog", b"",
                          outcomes=(Outcome("taalapp", "done"), Outcome("", "done")),
                          school_sent=True)
    _stored(store, runs.FINISHED, before)
    over = runs.finished(store, "run-4", BROWSER)
    assert over is not None and over.complete
    assert over.outcomes == (Outcome("taalapp", "done"), Outcome("regenboog", "done", "school"))


def test_garbage_is_no_run_in_either_form() -> None:
    store = MemoryStore()
    store.put_token(runs.KIND, runs.key("run-5", BROWSER), b"\x81\xa2id\xa5run-5", runs.TTL)
    assert runs.take(store, "run-5", BROWSER) is None


def test_each_school_step_has_a_relay_state_of_its_own_that_names_the_run() -> None:
    first, second = school_relay("run-6"), school_relay("run-6")
    assert first != second and len(first) <= 80  # SAML bindings 3.4.3: RelayState <= 80 bytes
    assert runs.run_of(first) == runs.run_of(second) == runs.run_of("run-6") == "run-6"
