"""School sessions that refused logins left behind in a browser, for its next logout.

Loper may refuse a school's answer after the pupil really logged in at the school: a hub
answered for another school behind it or for none (also after the fresh login the flow then
asks for), a teacher's login is too weak for the app, the school or the app is suspended. Loper
then keeps no session of its own, but the pupil's session at the school (or the hub) stays, and
on a shared device the next pupil who picks that school would be logged in as them. So the flow
remembers it for the browser that the login was bound to (`remember`, broker/flow_sessions.py
`left_if_refused`): the school picked, its login service (the hub, for a school behind one) and
what logging out there needs (Callback.session); no pseudonym, nothing the school said about
the pupil. The next logout in that browser, with or without a Loper session, takes them
(`take`) and asks those schools too, as school steps like any other
(broker/logout/journey.py), each once; taken, they are forgotten.

One record per browser, under its id hashed: another browser finds nothing. It holds at most
`MAX` sessions, one per login service (a newer login there in this browser replaced the session
the browser had there), newest first, so a flood of refused logins from one browser cannot grow
it. Each lasts as long as the SSO session the answer would have started (the school's
`sso_lifetime`, else Loper's: 8 hours by default), which is as long as Loper reckons a school
session lives; a session whose time is up is passed over, and the record lasts as long as its
newest.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from broker import codec
from broker.logout.run import SchoolStep, browser_key
from broker.store import StateStore

log = logging.getLogger("loper.logout")

KIND = "logout-refused"
MAX = 4
"""School sessions kept per browser: the login services of the last few refused logins."""


@dataclass(frozen=True)
class Left:
    """A session at a school that Loper did not take."""

    school_id: str
    """The school the pupil picked (the page names it; a hub's schools log out at the hub)."""
    service_id: str
    """Its login service: the hub, or the school itself."""
    session: bytes
    """What the upstream returned at that login (Callback.session)."""
    until: int
    """Seconds since the epoch after which it is passed over."""


@dataclass(frozen=True)
class _Kept:
    left: tuple[Left, ...]


def _live(data: bytes | None, now: int) -> tuple[Left, ...]:
    kept = codec.decode(data, _Kept)
    return () if kept is None else tuple(left for left in kept.left if left.until > now)


def remember(store: StateStore, browser: str, left: Left) -> None:
    """`left` for the next logout in `browser`, first; it replaces the one at its login
    service, and the oldest beyond `MAX` are forgotten."""
    now = int(time.time())
    if not browser or left.until <= now:
        return
    before = _live(store.get_token(KIND, browser_key(browser)), now)
    kept = (left, *(b for b in before if b.service_id != left.service_id))[:MAX]
    store.put_token(KIND, browser_key(browser), codec.encode(_Kept(kept)),
                    max(k.until for k in kept) - now)


def take(store: StateStore, browser: str) -> tuple[SchoolStep, ...]:
    """The school sessions that refused logins left in `browser` and that still live, newest
    first, as school steps of a logout; taken (atomically: a second logout finds none)."""
    if not browser:
        return ()
    left = _live(store.take_token(KIND, browser_key(browser)), int(time.time()))
    if left:
        log.info("logout takes school sessions that refused logins left",
                 extra={"schools": len(left)})
    return tuple(SchoolStep(each.school_id, each.session) for each in left)
