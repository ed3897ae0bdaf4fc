"""ECK iDs seen at schools that link pupils by them (`link_by_eck_id`), as keyed hashes only.

`arrive` decides, in one transaction, what a login with an ECK iD means for the pupil's anchor:
the ECK iD is new here (remembered; linked to the anchor it has at another linking school),
known with this anchor (nothing changes), or known with another pupil's anchor at this school
(refused, nothing changes). Answers that stand are served from a per-process cache
(eck_cache.py): a pupil seen before in this process costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker.registry import aliases
from broker.registry.db import Database
from broker.registry.eck_cache import ArrivalCache, Key
from broker.registry.models import EckIdRow, SchoolRow


class Outcome(Enum):
    KNOWN = "known"
    """Seen before with this anchor, or nowhere else: the anchor stays as it is."""
    LINKED = "linked by ECK iD"
    CLAIMED_TWICE = "refused: another pupil of this school has this ECK iD"
    NOT_OPTED_IN = "not linked: one of the two schools does not link by ECK iD"


@dataclass(frozen=True, slots=True)
class Arrival:
    outcome: Outcome
    anchor: str
    """The anchor to use (after aliases); for CLAIMED_TWICE the pupil's own, unlinked."""
    other_school: str | None = None

    def again(self, links: bool) -> Arrival | None:
        """What the same arrival (at a school that links if `links`) answers next time while
        nothing else changes; None for a refusal, which is asked again every time. At a linking
        school any other arrival found or left this school's row for this pupil, so the next
        one is KNOWN with the same anchor (a link is made once)."""
        if self.outcome is Outcome.CLAIMED_TWICE:
            return None
        return Arrival(Outcome.KNOWN, self.anchor) if links else self


class EckIds:
    def __init__(self, db: Database, cache: ArrivalCache) -> None:
        self._db = db
        self._cache = cache

    def arrive(self, eck_hash: str, school_id: str, links: bool, anchor: str,
               at: datetime) -> Arrival:
        """A pupil of `school_id` (which links by ECK iD if `links`) arrives with the ECK iD of
        this hash and this anchor (before aliases). Only a first arrival writes."""
        return self._cache.get(Key(eck_hash, school_id, anchor, links),
                               lambda: self._look_or_write(eck_hash, school_id, links, anchor, at))

    def _look_or_write(self, eck_hash: str, school_id: str, links: bool, anchor: str,
                       at: datetime) -> Arrival:
        with self._db.read() as session:
            known = self._arrive(session, eck_hash, school_id, links, anchor, None)
        if known is not None:
            return known
        for attempt in (1, 2):  # a concurrent first arrival of the same ECK iD: look again
            try:
                with self._db.write() as session:
                    found = self._arrive(session, eck_hash, school_id, links, anchor, at)
                    assert found is not None
                    return found
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def anchor_at(self, eck_hash: str, school_id: str) -> str | None:
        """The anchor (before aliases) this ECK iD arrived with at this school, if it did."""
        with self._db.read() as session:
            row = session.get(EckIdRow, (eck_hash, school_id))
            return row.anchor if row is not None else None

    @staticmethod
    def _arrive(session: Session, eck_hash: str, school_id: str, links: bool, anchor: str,
                at: datetime | None) -> Arrival | None:
        """The arrival; None when it must be written and `at` is None (a read-only look)."""
        seen = {row.school_id: row for row in session.scalars(
            select(EckIdRow).where(EckIdRow.eck_hash == eck_hash).order_by(EckIdRow.seen_at))}
        here = seen.pop(school_id, None)
        mine = aliases.resolve(session, anchor)
        if not links:  # nothing is kept; a link it would have made is recorded
            return Arrival(Outcome.NOT_OPTED_IN if seen else Outcome.KNOWN, mine,
                           next(iter(seen), None))
        if here is not None:  # linked (or not) when this ECK iD first arrived here; the same
            # pupil under a new id (after an admin linked it) is known too
            same = aliases.resolve(session, here.anchor) == mine
            return Arrival(Outcome.KNOWN if same else Outcome.CLAIMED_TWICE, mine)
        if at is None:
            return None
        session.add(EckIdRow(eck_hash=eck_hash, school_id=school_id, anchor=anchor, seen_at=at))
        linking = set(session.scalars(select(SchoolRow.id).where(
            SchoolRow.id.in_(seen), SchoolRow.link_by_eck_id.is_(True)))) if seen else set()
        other = next((row for row in seen.values() if row.school_id in linking), None)
        if other is None:
            return Arrival(Outcome.NOT_OPTED_IN if seen else Outcome.KNOWN, mine,
                           next(iter(seen), None))
        target = aliases.resolve(session, other.anchor)
        if target == mine or mine != anchor:  # linked already, or by an admin: theirs stands
            return Arrival(Outcome.KNOWN, mine, other.school_id)
        aliases.link(session, anchor, target)
        return Arrival(Outcome.LINKED, target, other.school_id)
