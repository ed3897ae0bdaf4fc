"""Aliases: a pupil's new anchor resolving to their existing one, so suppliers keep their
history. Every change, and every link Loper refused, is an AliasEvent: logged here (`record`)
and kept in the school's audit trail by the registry (add_aliases, record_alias_event).

An admin's link never re-points an identity that is linked already (AlreadyLinked) unless the
caller asks for that (`broker alias add --replace`): the pupil would get other pseudonyms at
every supplier.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broker.registry import audit, sql_door
from broker.registry.audit import AUDIT
from broker.registry.models import AliasRow, LedgerEntryRow

if TYPE_CHECKING:  # the ledger's transaction, handed in by the registry
    from broker.registry.ledger import Chain

audit_log = logging.getLogger("loper.audit")


@dataclass(frozen=True)
class AliasEvent:
    """An alias made or refused. Never carries an ECK iD, an anchor or a pseudonym."""

    at: datetime
    school_id: str
    """The school whose pupil's identity was (or would have been) linked."""
    action: str
    """"linked by ECK iD", "not linked: ...", "linked by import", "refused: ..."."""
    actor: str
    """Who: "login" (Loper itself, as the pupil arrived), an admin's e-mail, or the command
    line (audit.COMMAND_LINE)."""
    other_school: str | None = None
    """The school of the identity it was linked to (or would have been)."""
    subjects: tuple[str, str] | None = None
    """(new upstream id, existing upstream id) where an admin named them (bulk links)."""
    line: int | None = None
    """The line of the CSV file an imported link came from."""


def record(event: AliasEvent) -> None:
    """The log line of an alias event: it names schools and the file line, never an upstream
    id, anchor or pseudonym (the audit trail is written by the registry)."""
    extra = {"school": event.school_id, "actor": event.actor,
             "other_school": event.other_school or "-"}
    if event.line is not None:
        extra["line"] = str(event.line)
    audit_log.info("alias %s", event.action, extra=extra)


@dataclass(frozen=True)
class Link:
    """A link an admin asks for: `anchor` (the pupil's new identity, at `school_id`) to resolve
    to `target` (their existing one, at `other_school`). Recorded in both schools' trails."""

    anchor: str
    target: str
    school_id: str | None = None
    other_school: str | None = None

    @property
    def trails(self) -> list[str]:
        return sorted({s for s in (self.school_id, self.other_school) if s is not None})


@dataclass(frozen=True)
class Linked:
    """What an identity is linked to now: the anchor, and from the audit row that made the
    link (when there is one) the school of that identity, when and by whom."""

    target: str
    other_school: str | None = None
    at: datetime | None = None
    actor: str | None = None


class LinkRefused(ValueError):
    """Link number `index` (of those made together) would make a cycle; nothing was linked."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


class AlreadyLinked(LinkRefused):
    """Link number `index` would re-point an identity that is linked to another one already
    (`linked_to`, its anchor); nothing was linked."""

    def __init__(self, index: int, linked_to: str) -> None:
        super().__init__(index, "is already linked to another identity")
        self.linked_to = linked_to


def linked_to(session: Session, anchor: str) -> str | None:
    """The anchor `anchor` is an alias of, if it is one."""
    target: str | None = session.scalar(
        select(AliasRow.target_anchor).where(AliasRow.anchor == anchor))
    return target


def described(session: Session, school_id: str | None, anchor: str) -> Linked | None:
    """What `anchor` (an identity at `school_id`) is linked to now, with the newest audit row
    in that school's trail that made the link, if any (a link by ECK iD, or one whose target
    was linked on later, has none)."""
    target = linked_to(session, anchor)
    if target is None:
        return None
    if school_id is None:
        return Linked(target)
    rows = session.scalars(
        select(LedgerEntryRow)
        .where(LedgerEntryRow.school_id == school_id, LedgerEntryRow.kind == AUDIT,
               sql_door.json_text(LedgerEntryRow.detail, "action") == "alias")
        .order_by(LedgerEntryRow.seq.desc()).execution_options(yield_per=1000))
    for row in rows:
        after = (row.detail or {}).get("after")
        if isinstance(after, dict) and after.get("anchor") == anchor:
            if after.get("linked_to") != target:
                break
            other = after.get("other_school")
            return Linked(target, other if isinstance(other, str) else None, row.at,
                          str((row.detail or {}).get("actor")))
    return Linked(target)


def hashes(session: Session) -> frozenset[int]:
    """hash() of every anchor that is an alias: this process's, small (an int per alias)."""
    anchors = session.scalars(select(AliasRow.anchor).execution_options(yield_per=5000))
    return frozenset(hash(anchor) for anchor in anchors)


def resolve(session: Session, anchor: str) -> str:
    return linked_to(session, anchor) or anchor


def link(session: Session, anchor: str, target_anchor: str) -> str:
    """Make `anchor` resolve to `target_anchor` (itself resolved first: one hop, always), and
    return the anchor it now resolves to; ValueError for a cycle."""
    target = resolve(session, target_anchor)
    if target == anchor:
        raise ValueError("links the pupil to an identity that is already linked to them (a "
                         "cycle)" if target_anchor != anchor else "links a pupil to themselves")
    row = session.get(AliasRow, anchor)
    if row is None:
        session.add(AliasRow(anchor=anchor, target_anchor=target))
    else:
        row.target_anchor = target
    session.execute(update(AliasRow).where(AliasRow.target_anchor == anchor)
                    .values(target_anchor=target))
    return target


def link_all(chain: Chain, links: Sequence[Link], *, by: str,
             replace: bool) -> list[str | None]:
    """Registry.add_aliases, in its transaction `chain`: each link with its audit rows in its
    two schools' trails. Returns what each anchor was linked to before."""
    before_each: list[str | None] = []
    for index, asked in enumerate(links):
        was = linked_to(chain.session, asked.anchor)
        before_each.append(was)
        if was is not None and was == resolve(chain.session, asked.target):
            continue  # the same link again (a file imported twice)
        if was is not None and not replace:
            raise AlreadyLinked(index, was)
        try:
            now = link(chain.session, asked.anchor, asked.target)
        except ValueError as exc:
            raise LinkRefused(index, str(exc)) from exc
        before = {"anchor": asked.anchor, "linked_to": was} if was else None
        after: dict[str, str] = {"anchor": asked.anchor, "linked_to": now}
        if asked.other_school is not None:
            after["other_school"] = asked.other_school
        for school_id in asked.trails:
            chain.add(audit.audit_row(school_id, None, by, "alias", before, after))
    return before_each


def event_row(event: AliasEvent) -> LedgerEntryRow:
    """The audit row of a link Loper made or refused by itself."""
    return audit.audit_row(event.school_id, None, event.actor, "alias", None,
                           {"outcome": event.action, "other_school": event.other_school})
