"""A logout in progress is found by its id and browser at each answer, and by the browser
alone when the pupil presses "log out everywhere" again after a redirect never came back; once
over, its result is found again by an answer that comes again (broker/logout/run.py)."""

from __future__ import annotations

from dataclasses import replace

from broker.logout import run as runs
from broker.logout.run import Initiator, LogoutRun, Outcome, SchoolStep, Step
from broker.outgoing import Outgoing
from broker.store.memory import MemoryStore


def _run(browser: str = "browser-1") -> LogoutRun:
    step = Step("rekenwonders", Outgoing("https://rekenwonders.example/slo"), b"state")
    return LogoutRun("run-1", browser, Initiator("pupil"), (), steps=(step,))


def test_the_browser_finds_its_waiting_run_once() -> None:
    store = MemoryStore()
    runs.keep(store, _run())
    assert runs.waiting(store, "browser-2") is None  # another browser finds nothing
    assert runs.waiting(store, "browser-1") == _run()
    assert runs.waiting(store, "browser-1") is None  # taken
    assert runs.take(store, "run-1", "browser-1") is None


def test_a_run_answered_is_no_longer_waiting() -> None:
    store = MemoryStore()
    runs.keep(store, _run())
    assert runs.take(store, "run-1", "browser-1") == _run()  # the app's answer came back
    assert runs.waiting(store, "browser-1") is None


def test_a_finished_run_is_kept_without_what_the_adapters_kept() -> None:
    store = MemoryStore()
    school = SchoolStep("regenboog", b"the school's NameID", "run-1.x", b"sent")
    run = replace(_run(), schools=(school,),
                  frames=("https://app.example/front",),
                  initiator=Initiator("supplier", "taalapp", "saml", b"its request", "en"),
                  outcomes=(Outcome("rekenwonders", "done"),))
    runs.keep_finished(store, run)
    over = replace(run, schools=(), steps=(), frames=(),
                   initiator=Initiator("supplier", "taalapp", "saml", b"", "en"))
    assert runs.finished(store, "run-1", "browser-1") == over
    assert runs.finished(store, "run-1", "browser-1") == over  # kept, not taken: every reload
    assert runs.finished(store, "run-1", "browser-2") is None
    assert runs.take(store, "run-1", "browser-1") is None  # nothing to answer any more


def test_an_answer_is_found_again_only_as_it_came_and_in_its_browser() -> None:
    store = MemoryStore()
    params = {"SAMLResponse": "abc", "RelayState": "run-1"}
    runs.keep_answered(store, _run(), params)
    assert runs.answered_before(store, "browser-1", dict(params)) == "run-1"
    assert runs.answered_before(store, "browser-2", params) is None
    assert runs.answered_before(store, "browser-1", {**params, "SAMLResponse": "abd"}) is None
    assert runs.answered_before(store, "browser-1", {"RelayState": "run-1"}) is None
