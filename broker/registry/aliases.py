"""Aliases: a pupil's new anchor resolving to their existing one, so suppliers keep their
history. Every change, and every link Loper refused, is an AliasEvent: logged here (`record`)
and kept in the school's audit trail by the registry (add_aliases, record_alias_event).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broker.registry.models import AliasRow

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
    """Who: "login" (Loper itself, as the pupil arrived), an admin's e-mail, or "cli"."""
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


class LinkRefused(ValueError):
    """Link number `index` (of those made together) would make a cycle; nothing was linked."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def linked_to(session: Session, anchor: str) -> str | None:
    """The anchor `anchor` is an alias of, if it is one."""
    target: str | None = session.scalar(
        select(AliasRow.target_anchor).where(AliasRow.anchor == anchor))
    return target


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
