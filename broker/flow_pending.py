"""The pending login in the state store (broker/flow.py): the state of a login between the
supplier's request and the school's answer, found only by the browser that started it."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace

from broker import codec
from broker.context import Broker
from broker.errors import (
    FreshLoginMayHelp,
    LoginExpired,
    NoLoginStarted,
    TooManyRequests,
    UpstreamRejected,
)
from broker.identity import PendingLogin
from broker.store import Put

OWN_PAGES = ""
"""The supplier id of a login for Loper's own pages (no supplier has an empty id)."""


def pending_key(login_id: str, browser: str) -> str:
    """A pending login is stored under its id AND its browser: only that browser finds it."""
    return f"{login_id}.{hashlib.sha256(browser.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class StartLimit:
    """How many logins one address may start in a minute: every started login may store a
    pending login, and one address must not fill the store. A start that stores one counts
    itself in the same round trip (`start`), any other first (`admit`)."""

    address: str
    most: int

    @property
    def bucket(self) -> str:
        return f"login-start:{self.address}"

    def admit(self, broker: Broker) -> None:
        """Count a start before it does anything; TooManyRequests over the limit."""
        if self.over(broker.store.count_hit(self.bucket, WINDOW)):
            raise self.refused()

    def over(self, started: int) -> bool:
        return started > self.most

    @staticmethod
    def refused() -> TooManyRequests:
        return TooManyRequests("Too many logins were started from your network in the last "
                               "minute. Please wait a minute and try again.")


WINDOW = 60
"""The seconds in which a StartLimit counts starts."""


def save(broker: Broker, login: PendingLogin) -> None:
    broker.store.save_pending(pending_key(login.id, login.browser), codec.encode(login),
                              broker.settings.pending_ttl)


def start(broker: Broker, login: PendingLogin, limit: StartLimit) -> None:
    """Save a newly started login and count its start, in one round trip; over the limit
    the login is taken back (a refused start leaves nothing in the store) and refused."""
    key = pending_key(login.id, login.browser)
    put = Put("pending", "", key, codec.encode(login), broker.settings.pending_ttl)
    started = broker.store.put_all_counting([put], limit.bucket, WINDOW)
    if limit.over(started):
        broker.store.take_pending(key)  # a refused start leaves nothing in the store
        raise limit.refused()


def load(broker: Broker, login_id: str, browser: str) -> PendingLogin:
    """This browser's pending login; another browser's is simply not found."""
    if not login_id:
        raise NoLoginStarted("The school picker was opened without a login.")
    login = codec.decode(broker.store.load_pending(pending_key(login_id, browser)), PendingLogin)
    if login is None:
        raise LoginExpired("the login has expired or was started in another browser")
    return login


def sent(broker: Broker, login: PendingLogin, school_id: str, upstream: bytes) -> None:
    """Keep `login` while the pupil is at school `school_id`: the upstream's state, and when."""
    save(broker, replace(login, school_id=school_id, upstream=upstream,
                         sent_at=time.time()))


def fresh_already(login: PendingLogin, refused: FreshLoginMayHelp) -> bool:
    """Whether the answer `refused` came from a login at the school after the pupil was sent
    there (the school says when): a fresh login already, so asking for one cannot help. An
    answer from an earlier session (the previous pupil's, on a shared device), or one that does
    not say when, is asked again; so is one the school dates in whole seconds within the second
    the pupil was sent (a login takes a person longer than that)."""
    at = refused.logged_in_at
    return at is not None and login.sent_at > 0 and at >= login.sent_at


def take(broker: Broker, login_id: str, browser: str) -> PendingLogin:
    """Take this browser's pending login, atomically: its request is burned, whatever the
    answer turns out to be; a stray answer from another browser burns nobody's login."""
    data = broker.store.take_pending(pending_key(login_id, browser)) if login_id else None
    login = codec.decode(data, PendingLogin)
    if login is None:  # most often the pupil pressed Back after logging in, or took too
        raise UpstreamRejected(  # long: the page says so, not that the school was not trusted
            "This answer from your school does not belong to a login started in this "
            "browser (it may have expired, been used already, or be unsolicited).",
            code="answer_without_login")
    return login
