"""The pending login in the state store (broker/flow.py): the state of a login between the
supplier's request and the school's answer, found only by the browser that started it."""

from __future__ import annotations

import hashlib

from broker import codec
from broker.context import Broker
from broker.errors import LoginExpired, NoLoginStarted, UpstreamRejected
from broker.identity import PendingLogin


def pending_key(login_id: str, browser: str) -> str:
    """A pending login is stored under its id AND its browser: only that browser finds it."""
    return f"{login_id}.{hashlib.sha256(browser.encode()).hexdigest()[:32]}"


def save(broker: Broker, login: PendingLogin) -> None:
    broker.store.save_pending(pending_key(login.id, login.browser), codec.encode(login),
                              broker.settings.pending_ttl)


def load(broker: Broker, login_id: str, browser: str) -> PendingLogin:
    """This browser's pending login; another browser's is simply not found."""
    if not login_id:
        raise NoLoginStarted("The school picker was opened without a login.")
    login = codec.decode(broker.store.load_pending(pending_key(login_id, browser)), PendingLogin)
    if login is None:
        raise LoginExpired("the login has expired or was started in another browser")
    return login


def take(broker: Broker, login_id: str, browser: str) -> PendingLogin:
    """Take this browser's pending login, atomically: its request is burned, whatever the
    answer turns out to be; a stray answer from another browser burns nobody's login."""
    data = broker.store.take_pending(pending_key(login_id, browser)) if login_id else None
    login = codec.decode(data, PendingLogin)
    if login is None:
        raise UpstreamRejected(
            "This answer from your school does not belong to a login started in this "
            "browser (it may have expired, been used already, or be unsolicited).")
    return login
