"""The release ledger: which supplier received which attributes (names, never values), when.

Rows form hash chains: hash = sha256(prev_hash | canonical JSON of the row). Each chain's
checkpoint row holds its head (so deleting the newest rows shows) and the base left by
purging (so the chain stays verifiable after old rows are removed). A write transaction
locks one chain (ledger_chains.py): SQLite has one; on PostgreSQL a transaction takes a
chain no other one holds, so instances on several machines do not queue for one row.
verify() checks every chain.
The admins' audit trail (audit.py) lives in the same chain, as rows of kind "audit" written
in the transaction of the change they record: one verify covers releases and admin actions.

What is guaranteed, once append() has returned:
- The row is durable. SQLite (the embedded default) runs with synchronous=FULL (db.py): the
  commit syncs the WAL, so a power cut or an OS crash keeps the row, on a disk that keeps
  its flushes. (With synchronous=NORMAL a killed process loses nothing either, but a power
  cut may lose the last commits: what a SIGKILL test cannot show, so a test checks the
  pragma on every connection instead.)
  PostgreSQL keeps committed rows with its defaults (fsync=on, synchronous_commit=on).
- Its loss shows. On SQLite the row's (seq, hash) is also recorded, synced, in a head file
  beside the database (ledger_head.py; `registry.sqlite.ledger-head` in the instance folder);
  verify() demands that row, so a tail lost with its checkpoint row (a disk that lied about
  a flush, an older copy of the database put back) fails verification, also after new rows
  took the lost rows' numbers: an append that finds the recorded row gone leaves the file
  as the evidence. The file is written after the commit, outside the checkpoint-row lock
  (under it an append only reads it, lock-free, in microseconds), and only moves forward, so
  concurrent writers neither wait longer in the database nor make it name an uncommitted
  row; a row purged since is accepted. The file belongs to its database: to put an older copy
  back on purpose, remove the file too, which accepts the loss. A head file that cannot be
  written is logged as an error and fails no release; the rows it misses are not guarded.
- On PostgreSQL (several machines, each with its own instance folder) no head file is kept:
  one machine's file cannot know the others' rows, and PostgreSQL keeps committed rows itself.
  Appends serialise per chain only (ledger_chains.py).
A crash after the commit and before the head file is written leaves the file behind the
database; that never makes verify() fail.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from broker.registry import ledger_chains
from broker.registry.db import Database
from broker.registry.ledger_chains import (
    RELEASE,
    Claimed,
    purge_chain,
    row_hash,
    utc,
    verify_chain,
)
from broker.registry.ledger_head import Head, HeadDamaged, HeadFile
from broker.registry.models import LedgerCheckpointRow, LedgerEntryRow

HEAD_SUFFIX = ".ledger-head"
__all__ = ["RELEASE", "Chain", "Ledger", "LedgerEntry", "VerifyResult", "row_hash"]
log = logging.getLogger("loper.ledger")
IN_CHUNK = 500
"""Pseudonyms per IN list: well below every backend's limit on bound parameters."""


class Chain:
    """The rows one transaction adds to the ledger (Ledger.writing), all to one chain, which
    the first row locks."""

    def __init__(self, session: Session, ledger: Ledger) -> None:
        self.session = session
        self._ledger = ledger
        self._claimed: Claimed | None = None
        self.head: Head | None = None
        self.intact = True

    def add(self, row: LedgerEntryRow) -> None:
        connection = self.session.connection()
        if self._claimed is None:
            self._claimed = ledger_chains.claim(connection, self._ledger._db.engine)
            self.intact = self._ledger._head_intact(connection, self._claimed)
        ledger_chains.advance(connection, self._claimed, row)
        self.session.add(row)
        self.head = Head(row.seq, row.hash)


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
    head_file: Path | None = None
    """Where the newest committed row is recorded outside the database (SQLite only)."""
    committed: int | None = None
    """The row that file named (None: none recorded yet)."""
    chains: int = 1
    """How many chains the ledger has (each verified)."""


def _tail_problem(committed: Head | None, end: int, base: int, found: str | None,
                  where: Path | None) -> str | None:
    """Is the row recorded in the head file still there (`found`: its hash in the chain)?"""
    if committed is None or committed.seq < base:  # nothing recorded, or purged since
        return None
    if committed.seq > end:
        return (f"the chain ends at row {end} but row {committed.seq} was committed "
                f"(recorded in {where}): the last {committed.seq - end} rows were lost (if an "
                "older copy of the database was put back on purpose, remove that file to accept "
                "the loss)")
    if found != committed.hash:
        return (f"row {committed.seq} is not the row that was committed (recorded in {where}): "
                "the ledger was rewritten or replaced by another copy")
    return None


def head_file(db: Database) -> HeadFile | None:
    """Beside an SQLite database file; None for PostgreSQL and in-memory databases."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database or "")
    return HeadFile(path.with_name(path.name + HEAD_SUFFIX))


def _entry(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(seq=row.seq, at=row.at, school_id=row.school_id,
                       supplier_id=row.supplier_id, pseudonym=row.pseudonym,
                       attributes=tuple(row.attributes), protocol=row.protocol)


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._head = head_file(db)

    def append(self, at: datetime, school_id: str, supplier_id: str, pseudonym: str,
               attribute_names: Sequence[str], protocol: str) -> int:
        """Record one release; returns its seq once it is durable. Attribute names only: a
        value must never reach the ledger. Every login appends one: SQL Core in one
        transaction (claim, number, insert, move the checkpoint), none of the ORM's work."""
        row = LedgerEntryRow(at=utc(at), school_id=school_id, supplier_id=supplier_id,
                             pseudonym=pseudonym, attributes=sorted(set(attribute_names)),
                             protocol=protocol, kind=RELEASE, detail=None)
        with self._db.transaction() as connection:
            claimed = ledger_chains.claim(connection, self._db.engine)
            intact = self._head_intact(connection, claimed)
            ledger_chains.advance(connection, claimed, row)
            ledger_chains.insert_row(connection, row)
        if intact and self._head is not None:
            self._record_head(self._head, Head(row.seq, row.hash))
        return row.seq

    @contextmanager
    def writing(self) -> Iterator[Chain]:
        """One write transaction whose rows join the chain: a change and its audit row commit
        together or not at all. The head file moves after the commit."""
        with self._db.write() as session:
            chain = Chain(session, self)
            yield chain
        if chain.head is not None and chain.intact and self._head is not None:
            self._record_head(self._head, chain.head)

    def _head_intact(self, connection: Connection, checkpoint: Claimed) -> bool:
        """Does the database still hold the row the head file names? Asked under the lock,
        when every row the file can name is committed. If not, rows were lost: the file stays
        as it is, the evidence, until the operator accepts the loss (verify() says how)."""
        if self._head is None:
            return True
        try:
            recorded = self._head.read()
        except HeadDamaged as exc:
            log.error("ledger head not moved: %s", exc)
            return False
        if recorded is None or recorded.seq < checkpoint.base_seq:
            return True
        if recorded.seq in (checkpoint.base_seq, checkpoint.head_seq):
            found: str | None = (checkpoint.base_hash if recorded.seq == checkpoint.base_seq
                                 else checkpoint.head_hash)
        else:
            found = ledger_chains.row_at(connection, recorded.seq)
        if found == recorded.hash:
            return True
        log.error("ledger rows were lost: row %d, recorded in %s, is not in the database; "
                  "run `broker ledger verify`", recorded.seq, self._head.path)
        return False

    @staticmethod
    def _record_head(file: HeadFile, head: Head) -> None:
        """The row is committed and stays so; a head file that cannot be written only means
        a later loss of the tail would not show: said loudly, but no reason to fail."""
        try:
            file.advance(head)
        except OSError:
            log.exception("ledger head file %s not written (row %d)", file.path, head.seq)

    def verify(self) -> VerifyResult:
        where = self._head.path if self._head is not None else None
        try:  # before the snapshot below, so that every row it names is in the snapshot
            committed = self._head.read() if self._head is not None else None
        except HeadDamaged as exc:
            return VerifyResult(False, 0, str(exc), where)
        with self._db.read() as session:
            if session.bind is not None and session.bind.dialect.name != "sqlite":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            chains = session.scalars(select(LedgerCheckpointRow)
                                     .order_by(LedgerCheckpointRow.id)).all()
            checked = 0
            for checkpoint in chains:
                problem, rows = verify_chain(session, checkpoint)
                checked += rows
                if problem:
                    return VerifyResult(False, checked, problem, where, chains=len(chains))
            stray = session.scalar(select(func.min(LedgerEntryRow.seq)).where(
                LedgerEntryRow.chain.not_in([c.id for c in chains])))
            if stray is not None:
                return VerifyResult(False, checked, f"row {stray} belongs to no chain", where,
                                    chains=len(chains))
            problem = None
            if committed is not None:  # SQLite: its one chain
                first = chains[0]
                kept = session.get(LedgerEntryRow, committed.seq)
                found = (first.base_hash if committed.seq == first.base_seq
                         else kept.hash if kept is not None else None)
                problem = _tail_problem(committed, first.head_seq, first.base_seq, found, where)
            return VerifyResult(problem is None, checked, problem, where,
                                committed.seq if committed else None, len(chains))

    def entries(self, school_id: str, supplier_id: str | None = None,
                since: datetime | None = None, until: datetime | None = None,
                limit: int = 100) -> list[LedgerEntry]:
        """A school's releases, newest first; `since` inclusive, `until` exclusive."""
        query = select(LedgerEntryRow).where(LedgerEntryRow.school_id == school_id,
                                             LedgerEntryRow.kind == RELEASE)
        if supplier_id is not None:
            query = query.where(LedgerEntryRow.supplier_id == supplier_id)
        if since is not None:
            query = query.where(LedgerEntryRow.at >= utc(since))
        if until is not None:
            query = query.where(LedgerEntryRow.at < utc(until))
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
        """Remove the oldest rows of each chain, up to its first one at or after `before`;
        returns how many. The hash of a chain's last removed row becomes its new base."""
        removed = 0
        with self._db.write() as session:
            locked = select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.id)
            for checkpoint in session.scalars(locked.with_for_update()).all():  # in id order
                removed += purge_chain(session, checkpoint, utc(before))
        return removed
