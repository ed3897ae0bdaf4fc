"""The release ledger: which supplier received which attributes (names, never values), when.

Rows form a hash chain: hash = sha256(prev_hash | canonical JSON of the row). The single
checkpoint row holds the head of the chain (so deleting the newest rows shows) and the
base left by purging (so the chain stays verifiable after old rows are removed). Appends
lock the checkpoint row, which serialises concurrent writers on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from broker.registry.db import Database
from broker.registry.models import LedgerCheckpointRow, LedgerEntryRow

CHECKPOINT = 1
IN_CHUNK = 500
"""Pseudonyms per IN list: well below every backend's limit on bound parameters."""


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: datetime
    school_id: str
    supplier_id: str
    pseudonym: str
    attributes: tuple[str, ...]
    protocol: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    """How many rows were checked (up to the first problem)."""
    problem: str | None = None


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return at.astimezone(UTC)


def row_hash(prev_hash: str, row: LedgerEntryRow) -> str:
    fields = {"seq": row.seq, "at": _utc(row.at).isoformat(timespec="microseconds"),
              "school_id": row.school_id, "supplier_id": row.supplier_id,
              "pseudonym": row.pseudonym, "attributes": list(row.attributes),
              "protocol": row.protocol}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


def _link_problem(row: LedgerEntryRow, prev_seq: int, prev_hash: str) -> str | None:
    if row.seq != prev_seq + 1:
        return (f"row {row.seq} follows row {prev_seq}: rows are missing or reordered")
    if row.prev_hash != prev_hash:
        return f"row {row.seq} does not link to the row before it: rows were removed or reordered"
    if row_hash(prev_hash, row) != row.hash:
        return f"row {row.seq} was altered after it was written"
    return None


def _entry(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(seq=row.seq, at=row.at, school_id=row.school_id,
                       supplier_id=row.supplier_id, pseudonym=row.pseudonym,
                       attributes=tuple(row.attributes), protocol=row.protocol)


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _lock(session: Session) -> LedgerCheckpointRow:
        query = select(LedgerCheckpointRow).where(LedgerCheckpointRow.id == CHECKPOINT)
        return session.execute(query.with_for_update()).scalar_one()

    def append(self, at: datetime, school_id: str, supplier_id: str, pseudonym: str,
               attribute_names: Sequence[str], protocol: str) -> None:
        """Record one release. Attribute names only: a value must never reach the ledger."""
        with self._db.write() as session:
            checkpoint = self._lock(session)
            row = LedgerEntryRow(seq=checkpoint.head_seq + 1, at=_utc(at), school_id=school_id,
                                 supplier_id=supplier_id, pseudonym=pseudonym,
                                 attributes=sorted(set(attribute_names)), protocol=protocol,
                                 prev_hash=checkpoint.head_hash)
            row.hash = row_hash(checkpoint.head_hash, row)
            checkpoint.head_seq, checkpoint.head_hash = row.seq, row.hash
            session.add(row)

    def verify(self) -> VerifyResult:
        with self._db.read() as session:
            if session.bind is not None and session.bind.dialect.name != "sqlite":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            checkpoint = session.get_one(LedgerCheckpointRow, CHECKPOINT)
            seq, last = checkpoint.base_seq, checkpoint.base_hash
            query = select(LedgerEntryRow).order_by(LedgerEntryRow.seq)
            checked = 0
            with session.execute(query.execution_options(yield_per=1000)) as rows:
                for row in rows.scalars():
                    problem = _link_problem(row, seq, last)
                    if problem:
                        return VerifyResult(False, checked, problem)
                    seq, last, checked = row.seq, row.hash, checked + 1
            if (seq, last) != (checkpoint.head_seq, checkpoint.head_hash):
                return VerifyResult(False, checked, f"the chain ends at row {seq} but the last "
                                    f"row written was {checkpoint.head_seq}: rows were removed")
            return VerifyResult(True, checked)

    def entries(self, school_id: str, supplier_id: str | None = None,
                since: datetime | None = None, until: datetime | None = None,
                limit: int = 100) -> list[LedgerEntry]:
        """A school's releases, newest first; `since` inclusive, `until` exclusive."""
        query = select(LedgerEntryRow).where(LedgerEntryRow.school_id == school_id)
        if supplier_id is not None:
            query = query.where(LedgerEntryRow.supplier_id == supplier_id)
        if since is not None:
            query = query.where(LedgerEntryRow.at >= _utc(since))
        if until is not None:
            query = query.where(LedgerEntryRow.at < _utc(until))
        query = query.order_by(LedgerEntryRow.at.desc(), LedgerEntryRow.seq.desc()).limit(limit)
        with self._db.read() as session:
            return [_entry(row) for row in session.scalars(query)]

    def entries_for(self, school_id: str, pseudonyms: Collection[str],
                    limit: int = 200) -> list[LedgerEntry]:
        """One person's releases at one school, newest first: the rows of these pseudonyms
        (the person's pseudonyms at the suppliers), found by ix_ledger_pseudonym_at. The
        school is compared as an expression so that no planner (SQLite has no statistics) walks
        the whole school's ledger backwards by ix_ledger_school_at instead, for its order."""
        wanted = sorted(set(pseudonyms))
        found: list[LedgerEntryRow] = []
        with self._db.read() as session:
            for start in range(0, len(wanted), IN_CHUNK):
                query = (select(LedgerEntryRow)
                         .where((LedgerEntryRow.school_id + "") == school_id,  # not by school
                                LedgerEntryRow.pseudonym.in_(wanted[start:start + IN_CHUNK]))
                         .order_by(LedgerEntryRow.at.desc(), LedgerEntryRow.seq.desc())
                         .limit(limit))
                found.extend(session.scalars(query))
        found.sort(key=lambda row: (row.at, row.seq), reverse=True)
        return [_entry(row) for row in found[:limit]]

    def purge(self, before: datetime) -> int:
        """Remove the oldest rows, up to the first one at or after `before`; returns how many.

        The hash of the last removed row becomes the chain's new base.
        """
        with self._db.write() as session:
            checkpoint = self._lock(session)
            first_kept = session.scalar(
                select(func.min(LedgerEntryRow.seq)).where(LedgerEntryRow.at >= _utc(before)))
            cut = checkpoint.head_seq if first_kept is None else first_kept - 1
            if cut <= checkpoint.base_seq:
                return 0
            last = session.get(LedgerEntryRow, cut)
            if last is None:
                raise RuntimeError(f"ledger row {cut} is missing; run `broker ledger verify`")
            result = session.execute(delete(LedgerEntryRow).where(LedgerEntryRow.seq <= cut))
            removed = cast(CursorResult[Any], result).rowcount
            checkpoint.base_seq, checkpoint.base_hash = cut, last.hash
            checkpoint.purged_at = datetime.now(UTC)
            return int(removed)
