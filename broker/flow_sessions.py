"""The SSO session's part in a login (broker/flow.py): whether it serves a login without the
school, the new session a school's answer starts, the supplier joining it, and the session at
the school that an answer Loper refuses leaves behind (for the browser's next logout)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from broker import acr, hubs, sso
from broker.context import Broker
from broker.identity import PendingLogin, Person, Released
from broker.logout import refused
from broker.logs import login_log
from broker.records import School
from broker.registry import RegistryUnavailable
from broker.sso import SsoSession
from broker.store import StoreUnavailable

SSO_SESSION = "sso_session"
"""The upstream of a login served from Loper's own session, without asking the school."""


def serves(person: Person, login: PendingLogin, hinted: School | None) -> bool:
    """May the session's person be released to this login without asking the school?"""
    if login.force_authn or (hinted is not None and hinted.id != person.school_id):
        return False
    if not acr.answered(login.acr, person.authn.class_ref):
        return False  # the school must log the pupil in as the supplier asks
    if login.max_age is not None:
        age = (datetime.now(UTC) - person.authn.instant).total_seconds()
        return age <= login.max_age
    return True


def sign_in(broker: Broker, person: Person, at_school: bytes, school: School, *,
            stored: bool) -> SsoSession:
    """The new SSO session; `stored` now, or by the release that the supplier joins it with
    (so that a first login writes it once)."""
    ttl = lifetime(broker, school)
    if stored:
        return sso.start(broker.store, person, at_school, ttl,
                         browser_bound=school.shared_devices)
    return sso.begin(person, at_school, ttl, browser_bound=school.shared_devices)


def join(broker: Broker, session: SsoSession, released: Released, protocol: str,
         fresh: bool) -> Released:
    """The supplier becomes a participant of the session (for single logout), with the
    session id it is given; a `fresh` session is stored with it, once."""
    record, sid = session.record.joined(released.supplier_id, protocol, released.subject,
                                        released.name)
    if fresh or record is not session.record:
        sso.save(broker.store, replace(session, record=record))
    return replace(released, session=sid)


def lifetime(broker: Broker, school: School) -> int:
    """Seconds a session of `school` lasts."""
    return school.sso_lifetime or broker.settings.sso_lifetime


@contextmanager
def left_if_refused(broker: Broker, login: PendingLogin, school: School,
                    at_school: bytes) -> Iterator[None]:
    """Whatever refuses the school's answer in this block (an error, the fresh login asked
    for too) leaves the pupil's session at the school (or its hub) behind: it is remembered
    for the next logout in this browser (broker/logout/refused.py), as long as a session of
    `school` would last. `at_school`: the answer's Callback.session."""
    try:
        yield
    except Exception:  # only now the login service: nothing on the way of a login that works
        log = login_log("loper.flow", login.id)
        try:
            service = hubs.hub_of(school, broker.registry.school).id
            left = refused.Left(school.id, service, at_school,
                                int(time.time()) + lifetime(broker, school))
            refused.remember(broker.store, login.browser, left)
        except (StoreUnavailable, RegistryUnavailable):  # the refusal is shown all the same
            log.warning("school session left behind not kept", extra={"school": school.id})
        else:
            log.info("school session left behind for the next logout",
                     extra={"school": school.id})
        raise
