"""The ledger's chains: which one a write transaction appends to and the number its row
gets, how a row hashes, and verifying and purging one chain.

The ledger is a set of hash chains, each anchored by its own checkpoint row. A transaction
locks one chain for all the rows it adds (a change and its audit rows stay together), so
writers wait only for others on the same chain:

- SQLite writes one transaction at a time anyway (BEGIN IMMEDIATE): it keeps one chain,
  chain 1, and numbers rows after the newest one, so a row's number is its place in chain 1.
- PostgreSQL: a transaction takes the first chain no other transaction holds
  (SELECT ... FOR UPDATE SKIP LOCKED). When every chain is held, a new one is added (in a
  short transaction of its own), up to MAX_CHAINS; past that it waits for one. So there are
  about as many chains as appends ever ran at once, and N instances on one PostgreSQL do not
  queue for one row. Row numbers come from the sequence ``ledger_seq``, which never waits.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Sequence, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from broker.jsonvalue import JsonObject
from broker.registry.models import LedgerCheckpointRow, LedgerEntryRow
from broker.registry.sql_door import rowcount

RELEASE = "release"
"""The kind of a release row; audit rows (audit.py) have their own."""
FIRST = 1
"""The chain that existed before there were several (and SQLite's only one)."""
MAX_CHAINS = 64


def genesis(chain: int) -> str:
    """The hash the first row of a chain links to."""
    if chain == FIRST:
        return "0" * 64
    return hashlib.sha256(f"loper ledger chain {chain}".encode()).hexdigest()


@dataclass
class Claimed:
    """The chain a write transaction holds: its checkpoint row's head and base as claimed,
    moved on by each row the transaction appends (advance)."""

    id: int
    head_seq: int
    head_hash: str
    head_link: int
    base_seq: int
    base_hash: str
    newest: int | None
    """SQLite: the newest seq of any chain (rows are numbered after it); None on PostgreSQL,
    where the sequence ``ledger_seq`` numbers them."""


_CP = LedgerCheckpointRow
_SELECT = select(_CP.id, _CP.head_seq, _CP.head_hash, _CP.head_link, _CP.base_seq,
                 _CP.base_hash)
# Statements built once: building one per call (its bound values, its cache key) cost more
# than running it.
_CLAIM_SQLITE = _SELECT.add_columns(select(func.max(_CP.head_seq)).scalar_subquery()) \
    .where(_CP.id == FIRST)
_MOVE_HEAD = update(_CP).where(_CP.id == bindparam("chain_id")).values(
    head_seq=bindparam("seq"), head_link=bindparam("link"), head_hash=bindparam("hash"))
_INSERT_ROW = insert(LedgerEntryRow)
_ROW_HASH = select(LedgerEntryRow.hash).where(LedgerEntryRow.seq == bindparam("seq"))
_NEXT_SEQ = select(Sequence("ledger_seq").next_value())


def claim(connection: Connection, engine: Engine) -> Claimed:
    """Lock a chain for this transaction and return its checkpoint (SQL Core, no ORM: every
    login appends a row)."""
    if connection.dialect.name == "sqlite":  # the one chain, and the newest seq of any
        row = connection.execute(_CLAIM_SQLITE).one()
        return Claimed(row[0], row[1], row[2], row[3], row[4], row[5], int(row[6] or 0))
    free = _SELECT.order_by(_CP.id).limit(1).with_for_update(skip_locked=True)
    found = connection.execute(free).one_or_none()
    added = _add_chain(engine) if found is None else None
    if added is not None:
        found = connection.execute(
            _SELECT.where(_CP.id == added).with_for_update(skip_locked=True)).one_or_none()
    if found is None:  # every chain is held and no more may be added: wait for one
        count = connection.scalar(select(func.count()).select_from(_CP)) or 1
        wait = _SELECT.where(_CP.id == random.randint(FIRST, int(count))).with_for_update()
        found = connection.execute(wait).one()
    return Claimed(*found, newest=None)


def _next_seq(connection: Connection, claimed: Claimed) -> int:
    """A number for a new row, unique in the ledger, under the claimed chain's lock."""
    if claimed.newest is not None:  # SQLite, one writer at a time: after the newest row
        claimed.newest += 1
        return claimed.newest
    return int(connection.scalar(_NEXT_SEQ) or 0)


def advance(connection: Connection, claimed: Claimed, row: LedgerEntryRow) -> None:
    """Number `row`, chain it after the claimed chain's head, and move the checkpoint on (the
    caller inserts the row itself)."""
    row.seq, row.chain = _next_seq(connection, claimed), claimed.id
    row.link, row.prev_hash = claimed.head_link + 1, claimed.head_hash
    row.hash = row_hash(claimed.head_hash, row)
    claimed.head_seq, claimed.head_link, claimed.head_hash = row.seq, row.link, row.hash
    connection.execute(_MOVE_HEAD, {"chain_id": claimed.id, "seq": row.seq, "link": row.link,
                                    "hash": row.hash})


def insert_row(connection: Connection, row: LedgerEntryRow) -> None:
    """The chained row, inserted with SQL Core (Ledger.append; a transaction that changes
    other rows too adds it to its ORM session instead, in the unit of work's order)."""
    connection.execute(_INSERT_ROW, {
        "seq": row.seq, "chain": row.chain, "link": row.link, "at": row.at,
        "school_id": row.school_id, "supplier_id": row.supplier_id, "pseudonym": row.pseudonym,
        "attributes": row.attributes, "protocol": row.protocol, "kind": row.kind,
        "detail": row.detail, "prev_hash": row.prev_hash, "hash": row.hash})


def row_at(connection: Connection, seq: int) -> str | None:
    """The hash of the row numbered `seq` (None: no such row)."""
    found = connection.scalar(_ROW_HASH, {"seq": seq})
    return str(found) if found is not None else None


def _add_chain(engine: Engine) -> int | None:
    """Add a chain, committed at once so that others see it; None at MAX_CHAINS or when
    another writer added that number first."""
    with engine.begin() as connection:
        highest = connection.scalar(select(func.max(LedgerCheckpointRow.id))) or FIRST
        if highest >= MAX_CHAINS:
            return None
        chain = int(highest) + 1
        values = {"id": chain, "head_seq": 0, "head_hash": genesis(chain), "head_link": 0,
                  "base_seq": 0, "base_hash": genesis(chain), "base_link": 0}
        if engine.dialect.name == "postgresql":
            statement = pg_insert(LedgerCheckpointRow).values(values).on_conflict_do_nothing()
            added = connection.execute(statement.returning(LedgerCheckpointRow.id)).scalar()
            return int(added) if added is not None else None
        connection.execute(insert(LedgerCheckpointRow).values(values))
        return chain


def utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return at.astimezone(UTC)


def row_hash(prev_hash: str, row: LedgerEntryRow) -> str:
    fields: JsonObject = {
        "seq": row.seq, "at": utc(row.at).isoformat(timespec="microseconds"),
        "school_id": row.school_id, "supplier_id": row.supplier_id, "pseudonym": row.pseudonym,
        "attributes": list(row.attributes), "protocol": row.protocol}
    if row.kind != RELEASE:  # releases hash as they did before audit rows joined the chain
        fields |= {"kind": row.kind, "detail": row.detail}
    if row.chain != FIRST:  # chain 1's rows hash as before there were others
        fields |= {"chain": row.chain, "link": row.link}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


def _link_problem(row: LedgerEntryRow, prev_link: int, prev_seq: int,
                  prev_hash: str) -> str | None:
    if row.link != prev_link + 1:
        return (f"row {row.seq} follows row {prev_seq}: rows are missing or reordered")
    if row.prev_hash != prev_hash:
        return f"row {row.seq} does not link to the row before it: rows were removed or reordered"
    if row_hash(prev_hash, row) != row.hash:
        return f"row {row.seq} was altered after it was written"
    return None


def verify_chain(session: Session, checkpoint: LedgerCheckpointRow) -> tuple[str | None, int]:
    """The first problem of one chain (None: intact), and how many rows were checked."""
    link, seq, last = checkpoint.base_link, checkpoint.base_seq, checkpoint.base_hash
    query = (select(LedgerEntryRow).where(LedgerEntryRow.chain == checkpoint.id)
             .order_by(LedgerEntryRow.link))
    checked = 0
    with session.execute(query.execution_options(yield_per=1000)) as rows:
        for row in rows.scalars():
            problem = _link_problem(row, link, seq, last)
            if problem:
                return problem, checked
            link, seq, last, checked = row.link, row.seq, row.hash, checked + 1
    if (link, last) != (checkpoint.head_link, checkpoint.head_hash):
        return (f"the chain ends at row {seq} but the last row written was "
                f"{checkpoint.head_seq}: rows were removed"), checked
    return None, checked


def purge_chain(session: Session, checkpoint: LedgerCheckpointRow, before: datetime) -> int:
    """Rows stay from the first one at or after `before` on: what remains is unbroken."""
    in_chain = LedgerEntryRow.chain == checkpoint.id
    first_kept = session.scalar(select(func.min(LedgerEntryRow.link))
                                .where(in_chain, LedgerEntryRow.at >= before))
    cut = checkpoint.head_link if first_kept is None else first_kept - 1
    if cut <= checkpoint.base_link:
        return 0
    last = session.scalar(select(LedgerEntryRow).where(in_chain, LedgerEntryRow.link == cut))
    if last is None:
        raise RuntimeError(f"a ledger row of chain {checkpoint.id} is missing; run "
                           "`broker ledger verify`")
    result = session.execute(delete(LedgerEntryRow).where(in_chain, LedgerEntryRow.link <= cut))
    checkpoint.base_seq, checkpoint.base_link, checkpoint.base_hash = last.seq, cut, last.hash
    checkpoint.purged_at = datetime.now(UTC)
    return rowcount(result)
