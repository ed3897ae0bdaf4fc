"""A logout in progress is found by its id and browser at each answer, and by the browser
alone when the pupil presses "log out everywhere" again after a redirect never came back
(broker/logout/run.py)."""

from __future__ import annotations

from broker.logout import run as runs
from broker.logout.run import Initiator, LogoutRun, Step
from broker.outgoing import Outgoing
from broker.store.memory import MemoryStore


def _run(browser: str = "browser-1") -> LogoutRun:
    step = Step("rekenwonders", Outgoing("https://rekenwonders.example/slo"), b"state")
    return LogoutRun("run-1", browser, Initiator("pupil"), "regenboog", b"", steps=(step,))


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
