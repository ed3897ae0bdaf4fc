"""The school steps of a logout that is over which may be tried again from its page.

A school step that failed keeps its school session in the run (run.py `LogoutRun.retry`). Once
the run is over, those steps alone are kept for its browser, for `run.TTL` seconds, not the day
its result is kept (they name pupils at their schools), and taken atomically by the page's
button (broker/logout/journey.py `Logouts.try_school_again`): a POST sent twice finds nothing
the second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker import codec
from broker.logout.run import TTL, LogoutRun, SchoolStep, found_key, key
from broker.store import StateStore

KIND = "logout-retry"


@dataclass(frozen=True)
class _Kept:
    steps: tuple[SchoolStep, ...]


def keep(store: StateStore, run: LogoutRun) -> None:
    """The school steps of `run`, over, that may be tried again, for its browser alone."""
    if run.retry:
        store.put_token(KIND, key(run.id, run.browser), codec.encode(_Kept(run.retry)), TTL)


def schools(store: StateStore, run_id: str, browser: str) -> tuple[str, ...]:
    """The schools of this browser's run `run_id` that may be tried again (kept, not taken)."""
    found = found_key(run_id, browser)
    kept = None if found is None else codec.decode(store.get_token(KIND, found), _Kept)
    return () if kept is None else tuple(dict.fromkeys(s.school_id for s in kept.steps))


def take(store: StateStore, run_id: str, browser: str) -> tuple[SchoolStep, ...]:
    """Every school step of this browser's run `run_id` that may be tried again, taken."""
    found = found_key(run_id, browser)
    kept = None if found is None else codec.decode(store.take_token(KIND, found), _Kept)
    return () if kept is None else kept.steps
