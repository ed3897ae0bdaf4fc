"""The single sign-on session: who is logged in in this browser, and where.

A session knows its participants (OIDC Back-Channel Logout 1.0, SAML profiles 4.4): the
supplier sessions it started, each with the pseudonym and the session id (`sid`, also the SAML
SessionIndex) that supplier was given, and the school's own session (what the upstream returned
as Callback.session: its NameID and SessionIndex, or its ID token). Single logout reads them.
Each supplier gets its own `sid`, so two suppliers cannot link their sessions by it.

A login that starts a new session in a browser whose SSO cookie names another session (the
next pupil on a shared classroom device, a fresh login the app or a school hint asked for)
links the new session to that one (`replaced`): the apps logged in through it are still logged
in in this browser, so a logout of the new session ends it too (`chain`). The link is its own
small record under the new session's id, living as long as that session: the whole chain, the
replaced session first and then what that one replaced (copied from its own link), so a
session that ended in between hides none of the older ones. It is written only from this
browser's own cookie: a logout never reaches a session that was not in this browser.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, replace

from broker import codec
from broker.identity import Person
from broker.store import StateStore


@dataclass(frozen=True)
class Participant:
    supplier_id: str
    protocol: str
    """The downstream protocol the supplier logged in with."""
    subject: str
    """The supplier's pseudonym (SAML NameID, OIDC sub)."""
    sid: str
    """The session id this supplier was given: OIDC `sid`, SAML SessionIndex."""
    name: str = ""
    """The name it was given at its latest login when not `subject` (a SAML transient
    NameID: Released.name); empty: `subject`."""

    @property
    def known_as(self) -> str:
        """How this supplier names the person: the name it was given, else the pseudonym."""
        return self.name or self.subject


@dataclass(frozen=True)
class SessionRecord:
    """What the state store keeps of one SSO session."""

    person: Person
    expires: int
    """Seconds since the epoch; a supplier joining never extends the session."""
    school_session: bytes = b""
    """The upstream's Callback.session: what logging out at the school needs."""
    participants: tuple[Participant, ...] = ()

    def participant(self, supplier_id: str) -> Participant | None:
        return next((p for p in self.participants if p.supplier_id == supplier_id), None)

    def names(self, supplier_id: str, name: str, sids: tuple[str, ...]) -> bool:
        """Does a supplier's logout name this session: the name the supplier knows the person
        by, and (when it names any) the sid it was given? (SAML core 3.7.3.2: SessionIndex
        narrows the logout.)"""
        known = self.participant(supplier_id)
        return known is not None and known.known_as == name and (
            not sids or known.sid in sids)

    def joined(self, supplier_id: str, protocol: str, subject: str,
               name: str = "") -> tuple[SessionRecord, str]:
        """This session with the supplier among its participants, known by `name` (empty: by
        `subject`), and the supplier's sid (the one it was given before, when it logs in
        again in this session)."""
        known = self.participant(supplier_id)
        if known is not None and known.subject == subject and known.protocol == protocol:
            if known.name == name:
                return self, known.sid
            joining = replace(known, name=name)
        else:
            joining = Participant(supplier_id, protocol, subject, secrets.token_urlsafe(18),
                                  name)
        others = tuple(p for p in self.participants if p.supplier_id != supplier_id)
        return replace(self, participants=(*others, joining)), joining.sid


@dataclass(frozen=True)
class SsoSession:
    id: str
    record: SessionRecord
    ttl: int
    """Seconds it lasts from now (the SSO cookie's max-age)."""
    browser_bound: bool = False
    """The cookie lasts as long as the browser (a school with shared devices)."""

    @property
    def person(self) -> Person:
        return self.record.person


EARLIER = "sso-earlier"
"""Under a session's id: the ids of the sessions it replaced in its browser, newest first,
separated by spaces (a record written before chains were kept holds one id), then `CUT` when
the chain went on beyond EARLIER_MAX."""
EARLIER_MAX = 8
"""Sessions replaced in one browser that a logout still ends (the newest ones): a bound on a
link's length, on its reads and on its fan-out."""
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a session id of a cookie may look like (new_id makes 24 of these characters)."""
CUT = "+"
"""Ends a link whose chain was longer than EARLIER_MAX: older sessions in this browser that a
logout does not reach. Never an id (`_ID`), so a reader that knows no marker passes it over."""


def new_id() -> str:
    return secrets.token_urlsafe(18)


def begin(person: Person, school_session: bytes, ttl: int,
          browser_bound: bool = False) -> SsoSession:
    """A new session, not stored yet: the login that starts it stores it once, with the
    supplier it logs in among its participants (`save`)."""
    record = SessionRecord(person, int(time.time()) + ttl, school_session)
    return SsoSession(new_id(), record, ttl, browser_bound)


def start(store: StateStore, person: Person, school_session: bytes, ttl: int,
          browser_bound: bool = False) -> SsoSession:
    """A new session, stored now (a login without a supplier to join it)."""
    session = begin(person, school_session, ttl, browser_bound)
    store.put_session(session.id, codec.encode(session.record), ttl)
    return session


def save(store: StateStore, session: SsoSession) -> None:
    """Keep a changed record until the session's own end, not a second longer."""
    left = session.record.expires - int(time.time())
    if left > 0:
        store.put_session(session.id, codec.encode(session.record), left)


def load(store: StateStore, session_id: str | None) -> SsoSession | None:
    if not session_id:
        return None
    record = codec.decode(store.get_session(session_id), SessionRecord)
    if record is None:
        return None
    return SsoSession(session_id, record, max(0, record.expires - int(time.time())))


def replaced(store: StateStore, session: SsoSession, earlier_id: str) -> None:
    """`session` was started in a browser whose SSO cookie named `earlier_id`: remember that,
    with what `earlier_id` replaced in its turn, for as long as `session` lasts (whether they
    still live is asked at the logout). A browser without a session (no cookie: `earlier_id`
    is empty) costs no write. A chain longer than EARLIER_MAX keeps its newest ids and says
    that it was cut (`CUT`), as does every chain that copies a cut one."""
    if earlier_id == session.id or not _ID.fullmatch(earlier_id) or session.ttl <= 0:
        return
    before, cut_before = _link(store, earlier_id)
    ids = tuple(dict.fromkeys([earlier_id, *(i for i in before if i != session.id)]))
    kept = ids[:EARLIER_MAX]
    if cut_before or len(ids) > EARLIER_MAX:
        kept = (*kept, CUT)
    store.put_token(EARLIER, session.id, " ".join(kept).encode(), session.ttl)


def _link(store: StateStore, session_id: str) -> tuple[tuple[str, ...], bool]:
    """The ids that `session_id`'s link names, newest first (none when it has no link), and
    whether its chain was cut."""
    link = store.get_token(EARLIER, session_id)
    if link is None:
        return (), False
    words = link.decode("ascii", "replace").split()
    return tuple(i for i in words if _ID.fullmatch(i)), CUT in words


@dataclass(frozen=True)
class Earlier:
    """The sessions a session replaced in its browser that a logout ends, and whether more
    were replaced there than it reaches."""

    sessions: tuple[SsoSession, ...]
    cut: bool
    """Older sessions in this browser may live on: a logout cannot end them."""


def chain(store: StateStore, session: SsoSession) -> Earlier:
    """The sessions that `session` replaced in its browser that still live, newest first, at
    most EARLIER_MAX, and whether the chain went on beyond them (a cut link, or ids left
    unread). One that ended or expired is passed over, not the end of the chain: the older
    ones behind it may live on (a school can keep its sessions longer). The links of the ones
    found are read too, for a link written before chains were kept (one id)."""
    sessions: list[SsoSession] = []
    seen = {session.id}
    ids, cut = _link(store, session.id)
    todo = list(ids)
    while todo and len(sessions) < EARLIER_MAX and len(seen) <= 2 * EARLIER_MAX:
        at = todo.pop(0)
        if at in seen:
            continue
        seen.add(at)
        prior = load(store, at)
        if prior is not None:
            sessions.append(prior)
            links, cut_there = _link(store, prior.id)
            todo.extend(links)
            cut = cut or cut_there
    return Earlier(tuple(sessions), cut or any(i not in seen for i in todo))


def end(store: StateStore, sessions: tuple[SsoSession, ...]) -> None:
    """Forget `sessions` and what they replaced."""
    for session in sessions:
        store.delete_session(session.id)
        store.delete_token(EARLIER, session.id)
