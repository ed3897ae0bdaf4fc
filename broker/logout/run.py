"""A logout in progress: what was ended, what is still to go, and who gets the answer.

Kept in the state store between the browser's redirects under its id and its browser (only
that browser finds it), taken atomically at each answer: an answer that comes twice, or from
another browser, finds nothing. The browser's latest run is also found by the browser alone
(`waiting`), for a pupil whose redirect never came back (an app's own error page) and who
presses "log out everywhere" again.

A run names the sessions at schools still to end (`schools`, each with a relay state of its
own once sent), then the apps' (`steps`, each made when sent: broker/logout/apps.py). A run
stored before a logout asked more than one school is still read, as a run with that one school
step (`_OneSchoolRun`), as is a step made at the start (`Step.outgoing`): a logout in flight
during an upgrade finishes.

A run counts Loper's redirects that the browser follows in a row (`redirects`): a browser
stops at about 20 in one navigation, so after `REDIRECTS_IN_A_ROW` the next one goes from a page
of Loper's own (broker/logout/journey.py `GoingOn`).

Once a run is over, what it ended is kept a while longer for its browser (`keep_finished`),
with every answer it took and the request that started it (`keep_answered`): the same
message coming again in that browser (a reload of the last page, a phone restoring the tab, the
back button) finds its run's result (`answered_before`, `finished`), and nothing is done again.

A school step that failed (the school answered with an error, its request could not be built,
the pupil came back without its answer) keeps its school session in the run (`retry`), at most
`MAX_TRIES` times: once the run is over, those steps are kept for its browser alone, for `TTL`
seconds, without the rest of the run (`keep_retry`), so that the pupil can try that school
again from the page (retries.py, broker/logout/journey.py `Logouts.try_school_again`). A
school with no logout ("none") is never kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from broker import codec
from broker.outgoing import Outgoing
from broker.sso import Participant
from broker.store import StateStore

KIND = "logout-run"
WAITING = "logout-run-waiting"
TTL = 600
"""Seconds a redirect step may take (a supplier showing its own "logged out" page)."""
ANSWERED = "logout-answered"
FINISHED = "logout-finished"
KEPT_AFTER = 24 * 3600
"""Seconds a finished run's result and its answers are kept for its browser: a tab restored
the next morning still shows how the logout went, instead of refusing its own answer."""

MAX_TRIES = 3
"""Times a school step that failed may be tried again from the logout's page."""

REDIRECTS_IN_A_ROW = 6
"""Loper's redirects in a row after which the next goes from a page: each comes back through the
party's own, so about 12 of the browser's, leaving room for the parties' further redirects below
the browser's limit of about 20 (Chromium: ERR_TOO_MANY_REDIRECTS)."""

Result = Literal["done", "frame", "none", "failed"]
"""done: ended (confirmed); frame: asked in an iframe (the browser did it, unconfirmed); none:
no logout registered; failed: could not be reached, or refused."""

By = Literal["pupil", "supplier", "school"]
Side = Literal["supplier", "school"]


@dataclass(frozen=True)
class Outcome:
    party: str
    """A supplier's id, or a school's (side "school")."""
    result: Result
    side: Side = "supplier"


@dataclass(frozen=True)
class Step:
    """A supplier session the browser ends: a redirect there (made when sent), an answer back."""

    party: str
    outgoing: Outgoing | None = None
    """Stored before requests were made when sent: the one made at the start, sent as is."""
    state: bytes = b""
    """What its downstream kept to read the answer to the request sent."""
    participant: Participant | None = None
    """Whose session it ends, to make its request from (None: stored before)."""


@dataclass(frozen=True)
class SchoolStep:
    """A session at a school that the browser ends: a redirect there, an answer back."""

    school_id: str
    session: bytes
    """What the school's upstream returned at that login (Callback.session)."""
    relay: str = ""
    """The relay state it was sent with (schools.py `school_relay`); empty: not sent yet."""
    state: bytes = b""
    """What the upstream kept until the school's answer."""
    tries: int = 0
    """Times it was tried again after failing (a step stored before retries reads as none)."""


@dataclass(frozen=True)
class Initiator:
    """Who started the logout, and what its adapter kept to answer it at the end."""

    by: By
    party: str = ""
    """The supplier's or school's id (by the pupil: none)."""
    protocol: str = ""
    request: bytes = b""
    lang: str = "nl"


@dataclass(frozen=True)
class LogoutRun:
    id: str
    browser: str
    initiator: Initiator
    schools: tuple[SchoolStep, ...]
    """Sessions at schools still to end, in order; the first one is in flight once sent."""
    steps: tuple[Step, ...] = ()
    """Redirects to apps still to go (after the schools), in order; the first one is in flight
    once sent."""
    outcomes: tuple[Outcome, ...] = ()
    frames: tuple[str, ...] = ()
    had_session: bool = True
    redirects: int = 0
    """Loper's redirects in a row since the browser last showed a page (a run stored before
    they were counted reads as none)."""
    sessions_left: bool = False
    """More pupils were logged in in this browser, one after another, than a logout ends
    (broker/sso.py EARLIER_MAX): the oldest may still be logged in here (a run stored before
    this was told reads as none left)."""
    retry: tuple[SchoolStep, ...] = ()
    """School steps that failed and may be tried again (`MAX_TRIES`), with their sessions."""
    tried_again: bool = False
    """A school tried again after the logout was over: whoever started it had its answer."""

    @property
    def at_school(self) -> SchoolStep | None:
        """The school step in flight, if any."""
        return self.schools[0] if self.schools and self.schools[0].relay else None

    def school_sent(self, relay: str, state: bytes) -> LogoutRun:
        """The first school step in flight, sent with `relay`; `state` kept for its answer."""
        sent = replace(self.schools[0], relay=relay, state=state)
        return replace(self, schools=(sent, *self.schools[1:]))

    def school_answered(self, result: Result) -> LogoutRun:
        """The first school step over, with `result`: the next school is first now. A step
        that failed is kept for another try, unless tried enough."""
        step = self.schools[0]
        done = Outcome(step.school_id, result, "school")
        again = (replace(step, relay="", state=b""),) if (
            result == "failed" and step.tries < MAX_TRIES) else ()
        return replace(self, schools=self.schools[1:], outcomes=(*self.outcomes, done),
                       retry=(*self.retry, *again))

    def step_sent(self, state: bytes) -> LogoutRun:
        """The first app step in flight, its request made now; `state` kept for its answer."""
        return replace(self, steps=(replace(self.steps[0], state=state), *self.steps[1:]))

    def step_answered(self, result: Result) -> LogoutRun:
        """The app step in flight over, with `result`: the next one is first now."""
        done = Outcome(self.steps[0].party, result)
        return replace(self, steps=self.steps[1:], outcomes=(*self.outcomes, done))

    @property
    def page_due(self) -> bool:
        """Would one more redirect in a row be too many: the next must go from a page?"""
        return self.redirects >= REDIRECTS_IN_A_ROW

    def redirected(self) -> LogoutRun:
        """Loper sent one more redirect in a row."""
        return replace(self, redirects=self.redirects + 1)

    def page_shown(self) -> LogoutRun:
        """The browser showed a page (an auto-submitting form, Loper's "logging out" page):
        Loper's redirects count from none again."""
        return replace(self, redirects=0)

    @property
    def complete(self) -> bool:
        """Every session ended, or was asked to in an iframe: none failed, and none is left
        because it has no logout (SAML core 3.7.3.2: else PartialLogout)."""
        return all(o.result in ("done", "frame") for o in self.outcomes)


@dataclass(frozen=True)
class _OneSchoolRun:
    """A run as stored before a logout asked more than one school: the session's school in
    flat fields, its outcome under the party "". Read as a LogoutRun with that school."""

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

    def now(self) -> LogoutRun:
        """In flight at the school: that step, answered by its relay state (the run's id);
        else no school is left (asked and over, or never asked: by the school itself)."""
        answered = any(o.party == "" for o in self.outcomes)
        schools = (SchoolStep(self.school_id, self.school_session, self.id, self.school_state),
                   ) if self.school_sent and not answered else ()
        outcomes = tuple(Outcome(self.school_id, o.result, "school") if o.party == "" else o
                         for o in self.outcomes)
        return LogoutRun(self.id, self.browser, self.initiator, schools, self.steps, outcomes,
                         self.frames, self.had_session)


def _read(data: bytes | None) -> LogoutRun | None:
    """A stored run, in today's form or the one-school form of before."""
    run = codec.decode(data, LogoutRun)
    if run is not None:
        return run
    before = codec.decode(data, _OneSchoolRun)
    return None if before is None else before.now()


def run_of(relay: str) -> str:
    """The run's id in a relay state (an app's is the id alone; a school's, schools.py)."""
    return relay.partition(".")[0]


def browser_key(browser: str) -> str:
    return hashlib.sha256(browser.encode()).hexdigest()[:32]


def key(run_id: str, browser: str) -> str:
    """The store key of the run `run_id` of `browser` (its own browser's only)."""
    return f"{run_id}.{browser_key(browser)}"


def found_key(run_id: str, browser: str) -> str | None:
    """`key` for a run id that came with a request; None: no run Loper made has it."""
    return key(run_id, browser) if run_id and len(run_id) <= 64 else None


def keep(store: StateStore, run: LogoutRun) -> None:
    with store.batched():  # one round trip
        store.put_token(KIND, key(run.id, run.browser), codec.encode(run), TTL)
        store.put_token(WAITING, browser_key(run.browser), run.id.encode(), TTL)


def waiting(store: StateStore, browser: str, only: str | None = None) -> LogoutRun | None:
    """This browser's run whose redirect is still out (if it is the run `only`), taken; None
    when there is none (its last run finished, or was never started here)."""
    found = store.get_token(WAITING, browser_key(browser))
    run_id = None if found is None else found.decode("ascii", "replace")
    return None if run_id is None or only not in (None, run_id) else take(store, run_id, browser)


def take(store: StateStore, run_id: str, browser: str) -> LogoutRun | None:
    found = found_key(run_id, browser)
    return None if found is None else _read(store.take_token(KIND, found))


def _answer_key(browser: str, params: Mapping[str, str]) -> str:
    """The message exactly as it came (every parameter), in this browser."""
    sent = json.dumps(sorted(params.items()), ensure_ascii=False)
    return hashlib.sha256(f"{browser}\n{sent}".encode()).hexdigest()


def keep_answered(store: StateStore, run: LogoutRun, params: Mapping[str, str]) -> None:
    """`params` answered a step of `run`, or asked for `run` (checked by its adapter)."""
    store.put_token(ANSWERED, _answer_key(run.browser, params), run.id.encode(), KEPT_AFTER)


def answered_before(store: StateStore, browser: str, params: Mapping[str, str]) -> str | None:
    """The id of the run that this very message answered, or asked for, in this browser
    before, if any."""
    run_id = store.get_token(ANSWERED, _answer_key(browser, params))
    return None if run_id is None else run_id.decode("ascii", "replace")


def keep_finished(store: StateStore, run: LogoutRun) -> None:
    """What `run` ended, without what its adapters kept (the schools' sessions, the
    initiator's request) and without its frames: enough to say again how it went."""
    over = replace(run, schools=(), steps=(), frames=(), retry=(),
                   initiator=replace(run.initiator, request=b""))
    store.put_token(FINISHED, key(run.id, run.browser), codec.encode(over), KEPT_AFTER)


def finished(store: StateStore, run_id: str, browser: str) -> LogoutRun | None:
    """This browser's run `run_id` that is over (kept, not taken: every reload finds it)."""
    found = found_key(run_id, browser)
    return None if found is None else _read(store.get_token(FINISHED, found))

