"""A per-process cache of the registry's frozen records, kept right across processes.

What is cached: the answers of Registry.school, school_by_entity_id, supplier,
supplier_by_entity_id, supplier_by_client_id, policy, schools() and suppliers(), "not found"
(None) included (at most MAX_NEGATIVE of those: their keys come from requests); and which
anchors have an alias (a set of their hashes: a login's anchor not in it is resolved without
a query). Records are frozen, so one object can be handed to every caller and thread.

How it stays right: the registry_version table holds one number, raised inside every write
transaction that changes a school, supplier or release policy. Nobody has to remember to:
every session of Database.write() is watched (`RecordCache._watch`) for rows of those tables
added, deleted or changed, and for bulk statements on them (aliases too); the ledger and
admin accounts do not count, nor does a write that changes nothing. SQL run behind the registry's
back (psql) is not seen until such a write or `invalidate()`. Before serving a read the cache
compares that number with the one its records belong to, and drops them all when it moved.
The check is one SELECT of one value on a driver-level connection (about 8 us on SQLite).

When it checks:
- check_interval = 0 (the default): before every read. A write by any process (another
  gunicorn worker, another machine, `broker import`) is seen by the next read anywhere:
  a suspension refuses the very next login.
- check_interval = t > 0: at most once per t seconds per process; a write by another
  process is seen within t seconds. A write through this same Registry object (the broker
  has one per process) is always seen at once: its commit empties this cache.
- `consistent()`: the block checks once on entry and then serves every read from the cache
  (per thread), so a request can pay one check for all its reads. A write in this process
  inside the block still empties the cache at once.
- `invalidate()` (Registry.refresh): drop everything now.

Thread-safe: one lock around the dictionary and the version; database reads run outside it,
and a record read before the cache was emptied is never stored after it (the generation).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import TypeVar, cast

from sqlalchemy import Connection, event, insert, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from broker.registry.db import Database
from broker.registry.models import (
    AliasRow,
    RegistryVersionRow,
    ReleasePolicyRow,
    SchoolRow,
    SupplierRow,
)

T = TypeVar("T")

CACHED = (SchoolRow, SupplierRow, ReleasePolicyRow, AliasRow)
"""The rows behind cached records: a write that changes one raises the registry version."""

VERSION_SQL = "SELECT version FROM registry_version WHERE id = 1"
MAX_NEGATIVE = 4096
"""At most this many cached "not found" answers (their keys come from requests) ..."""
MAX_NEGATIVE_KEY = 1024
"""... each for a key no longer than this (no school or supplier has a longer one)."""

_CHANGED = "loper_registry_changed"
_MISSING = object()


def raise_version(connection: Connection) -> None:
    """Raise the registry version, inside the caller's write transaction."""
    row = RegistryVersionRow
    result = connection.execute(update(row).where(row.id == 1).values(version=row.version + 1))
    if result.rowcount == 0:  # the row was deleted behind our back: put it back
        connection.execute(insert(row).values(id=1, version=1))


class _Pinned(threading.local):
    depth = 0
    """How many consistent() blocks this thread is in."""


class RecordCache:
    def __init__(self, db: Database, check_interval: float = 0.0) -> None:
        if check_interval < 0:
            raise ValueError("check_interval cannot be negative")
        self._db = db
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._entries: dict[Hashable, object] = {}
        self._negative = 0
        self._version: int | None = None
        """The registry version the entries belong to; None: unknown, check before serving."""
        self._checked = 0.0
        self._generation = 0
        """Raised whenever the entries are dropped: a load that began before is not stored."""
        self._pinned = _Pinned()
        self._watch()

    # Reads

    def get(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        """The cached answer for `key`, or `load()`'s (stored unless the cache was emptied
        meanwhile)."""
        generation = self._current()
        with self._lock:
            value = self._entries.get(key, _MISSING)
        if value is not _MISSING:
            return cast(T, value)
        value = load()
        with self._lock:
            if self._generation == generation and self._storable(key, value):
                self._entries[key] = value
                self._negative += value is None
        return value

    def generation(self) -> int:
        """The generation of what may be served now (after a version check if one is due, as
        before a read): an answer cached elsewhere (eck_cache.py) stands while the generation
        it was read in does."""
        return self._current()

    def _storable(self, key: tuple[str, ...], value: object) -> bool:
        if value is not None:
            return True
        return (self._negative < MAX_NEGATIVE
                and sum(len(part) for part in key) <= MAX_NEGATIVE_KEY)

    def _current(self, force: bool = False) -> int:
        """The generation of entries that may be served now, after a version check if due."""
        now = monotonic()
        with self._lock:
            if self._version is not None and not force and (
                    self._pinned.depth
                    or (self.check_interval and now - self._checked < self.check_interval)):
                return self._generation
        found = self._db.peek(VERSION_SQL)  # outside the lock: other threads go on
        version = -1 if found is None else found  # -1: the row is gone (until a write)
        with self._lock:
            if version != self._version:
                self._drop()
                self._version = version
            self._checked = now
            return self._generation

    @contextmanager
    def consistent(self) -> Iterator[None]:
        """Check the version once, then serve every read in the block (this thread's) from
        the cache; writes in this process still empty it at once. Nests."""
        depth = self._pinned.depth
        if not depth:
            self._current(force=True)
        self._pinned.depth = depth + 1
        try:
            yield
        finally:
            self._pinned.depth = depth

    def invalidate(self) -> None:
        """Drop every entry; the next read checks the version first."""
        with self._lock:
            self._drop()
            self._version = None

    def _drop(self) -> None:
        self._entries.clear()
        self._negative = 0
        self._generation += 1

    # Writes: every write session of the database is watched

    def _watch(self) -> None:
        sessions = self._db.write_sessions  # a sessionmaker: its own Session class, own events
        event.listen(sessions, "do_orm_execute", _executed)
        event.listen(sessions, "after_flush", _flushed)
        event.listen(sessions, "before_commit", _committing)
        event.listen(sessions, "after_commit", self._committed)
        event.listen(sessions, "after_rollback", _rolled_back)

    def _committed(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            self.invalidate()


def _executed(state: ORMExecuteState) -> None:
    """A bulk UPDATE/DELETE/INSERT statement on a cached table (session.execute)."""
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete or state.is_insert) and mapper is not None \
            and issubclass(mapper.class_, CACHED):
        state.session.info[_CHANGED] = True


def _flushed(session: Session, _context: UOWTransaction) -> None:
    """Rows of cached tables added, deleted or really changed (new, dirty, deleted still hold
    what this flush wrote)."""
    gone_or_new: tuple[object, ...] = (*session.new, *session.deleted)
    dirty: tuple[object, ...] = tuple(session.dirty)
    if any(isinstance(row, CACHED) for row in gone_or_new) or any(
            isinstance(row, CACHED) and session.is_modified(row) for row in dirty):
        session.info[_CHANGED] = True


def _committing(session: Session) -> None:
    session.flush()
    if session.info.get(_CHANGED):
        raise_version(session.connection())


def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
