"""The SSO session's part in a login (broker/flow.py): whether it serves a login without the
school, the new session a school's answer starts, and the supplier joining it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from broker import acr, sso
from broker.context import Broker
from broker.identity import PendingLogin, Person, Released
from broker.records import School
from broker.sso import SsoSession

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
    ttl = school.sso_lifetime or broker.settings.sso_lifetime
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
