"""The embedded state store: one SQLite file (in WAL mode) shared by every process on a machine.

Every operation is one SQL statement in autocommit mode, so it is atomic across threads and
processes (``DELETE ... RETURNING`` for the take_* operations, upserts for remember_once and
count_hit); ``put_all`` (the end of a ``batched()`` block) writes its records in one
transaction, with one commit, and ``put_all_counting`` counts its hit in the same one.
Connections come from a small per-process pool (a connection is used by one thread at a
time); a busy timeout makes writers queue instead of failing. Expired rows are ignored on read
and purged at most once a minute per process, after a write.

A path that cannot hold a SQLite file is a ConfigError at start (sqlite_setup.py); a full or
failing disk is not: the store opens anyway, raises StoreUnavailable (with the reason) until
the disk recovers, and sets itself up on first use then.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from broker import sqlite_faults
from broker.errors import ConfigError
from broker.store import sqlite_rows, sqlite_setup
from broker.store.base import Batching, Put, StoreUnavailable, check_key, check_ttl

_PUT = "INSERT OR REPLACE INTO state (ns, kind, key, value, expires) VALUES (?, ?, ?, ?, ?)"
_GET = "SELECT value FROM state WHERE ns = ? AND kind = ? AND key = ? AND expires > ?"
_TAKE = "DELETE FROM state WHERE ns = ? AND kind = ? AND key = ? RETURNING value, expires"
_DELETE = "DELETE FROM state WHERE ns = ? AND kind = ? AND key = ?"
_ONCE = (
    "INSERT INTO state (ns, kind, key, value, expires) VALUES ('once', ?, ?, x'', ?)"
    " ON CONFLICT (ns, kind, key) DO UPDATE SET expires = excluded.expires"
    " WHERE state.expires <= ?"
)
_HIT = (
    "INSERT INTO hits (bucket, n, expires) VALUES (?1, 1, ?2 + ?3)"
    " ON CONFLICT (bucket) DO UPDATE SET"
    " n = CASE WHEN hits.expires <= ?2 THEN 1 ELSE hits.n + 1 END,"
    " expires = CASE WHEN hits.expires <= ?2 THEN excluded.expires ELSE hits.expires END"
    " RETURNING n"
)
PURGE_EVERY = 60.0  # seconds between purges of expired rows, per process
MAX_IDLE = 16  # idle connections kept per process


def sqlite_path_from_url(url: str) -> str:
    """``sqlite:///abs/path.sqlite`` (or SQLAlchemy's ``sqlite:////abs/path``) -> the path."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite" or parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"invalid SQLite state store URL {url!r}: write sqlite:///absolute/path/state.sqlite"
        )
    path = unquote(parts.path)
    if not path.startswith("/") or path.endswith("/") or path.strip("/") == ":memory:":
        raise ConfigError(
            f"invalid SQLite state store URL {url!r}: it needs an absolute path to a file, as in"
            " sqlite:///srv/loper/instance/state.sqlite (an in-memory database cannot be"
            " shared between processes)"
        )
    return "/" + path.lstrip("/")


def _rows(puts: Sequence[Put], now: float) -> list[sqlite_rows.Params]:
    """The rows of records stored at `now`."""
    return [(p.role, p.kind, p.key, p.data, now + p.ttl) for p in puts]


class SqliteStore(Batching):
    """The state store in one SQLite file; safe for many threads and processes."""

    backend = "sqlite"

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = os.path.abspath(path)
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False
        self._next_purge = 0.0
        self.journal_mode = "unknown"
        self._set_up = False
        try:
            self._setup()
        except StoreUnavailable:
            pass  # a full or failing disk: retried on first use; check() says why meanwhile

    # -- the interface -------------------------------------------------------------------------

    def save_pending(self, login_id: str, data: bytes, ttl: int) -> None:
        self._write(Put("pending", "", check_key(login_id, "login_id"), data, ttl))

    def load_pending(self, login_id: str) -> bytes | None:
        return self._get("pending", "", check_key(login_id, "login_id"))

    def take_pending(self, login_id: str) -> bytes | None:
        return self._take("pending", "", check_key(login_id, "login_id"))

    def put_code(self, code: str, data: bytes, ttl: int) -> None:
        self._write(Put("code", "", check_key(code, "code"), data, ttl))

    def take_code(self, code: str) -> bytes | None:
        return self._take("code", "", check_key(code, "code"))

    def remember_once(self, kind: str, key: str, ttl: int) -> bool:
        check_key(kind, "kind")
        check_key(key)
        check_ttl(ttl)
        now = time.time()
        _, changed = self._execute(_ONCE, (kind, key, now + ttl, now), write=True)
        return changed == 1

    def get_session(self, session_id: str) -> bytes | None:
        return self._get("session", "", check_key(session_id, "session_id"))

    def put_session(self, session_id: str, data: bytes, ttl: int) -> None:
        self._write(Put("session", "", check_key(session_id, "session_id"), data, ttl))

    def delete_session(self, session_id: str) -> None:
        self._execute(_DELETE, ("session", "", check_key(session_id, "session_id")))

    def put_token(self, kind: str, key: str, data: bytes, ttl: int) -> None:
        self._write(Put("token", check_key(kind, "kind"), check_key(key), data, ttl))

    def get_token(self, kind: str, key: str) -> bytes | None:
        return self._get("token", check_key(kind, "kind"), check_key(key))

    def take_token(self, kind: str, key: str) -> bytes | None:
        return self._take("token", check_key(kind, "kind"), check_key(key))

    def delete_token(self, kind: str, key: str) -> None:
        self._execute(_DELETE, ("token", check_key(kind, "kind"), check_key(key)))

    def get_tokens(self, keys: Sequence[tuple[str, str]]) -> list[bytes | None]:
        return [self.get_token(kind, key) for kind, key in keys]

    def count_hit(self, bucket: str, window: int) -> int:
        check_key(bucket, "bucket")
        check_ttl(window, "window")
        rows, _ = self._execute(_HIT, (bucket, time.time(), window), write=True)
        return sqlite_rows.whole(rows[0][0])

    def check(self) -> dict[str, object]:
        started = time.perf_counter()
        if sqlite_faults.disk_full(self.path):  # writes may still fit in the WAL, not for long
            raise StoreUnavailable(f"SQLite state store {self.path}: {sqlite_faults.DISK_FULL}",
                                   sqlite_faults.DISK_FULL)
        purged = self._purge()
        probe = ("probe", "", str(os.getpid()))  # a write and a delete, as every login makes
        self._execute(_PUT, (*probe, b"", 0.0))
        self._execute(_DELETE, probe)
        rows, _ = self._execute("SELECT count(*) FROM state WHERE expires > ?", (time.time(),))
        return {
            "ok": True,
            "backend": self.backend,
            "journal_mode": self.journal_mode,
            "records": sqlite_rows.whole(rows[0][0]),
            "purged": purged,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    # -- the machinery -------------------------------------------------------------------------

    def _store_all(self, puts: Sequence[Put]) -> None:
        rows = _rows(puts, time.time())
        if len(rows) == 1:
            self._execute(_PUT, rows[0], write=True)
            return
        self._in_one_transaction(rows)

    def _store_all_counting(self, puts: Sequence[Put], bucket: str, window: int) -> int:
        now = time.time()
        return self._in_one_transaction(_rows(puts, now), (bucket, now, window))

    def _in_one_transaction(self, rows: Sequence[sqlite_rows.Params],
                            hit: sqlite_rows.Params | None = None) -> int:
        """Write the rows and count the `hit` (bucket, now, window) in one transaction, with
        one commit; returns the hit's count (0 without one)."""
        count = 0
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(_PUT, rows)
                if hit is not None:
                    cursor = conn.execute(_HIT, hit)
                    try:
                        count = sqlite_rows.whole(sqlite_rows.fetch_all(cursor)[0][0])
                    finally:
                        cursor.close()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        if time.time() >= self._next_purge:
            self._purge()
        return count

    def _get(self, ns: str, kind: str, key: str) -> bytes | None:
        rows, _ = self._execute(_GET, (ns, kind, key, time.time()))
        return sqlite_rows.blob(rows[0][0]) if rows else None

    def _take(self, ns: str, kind: str, key: str) -> bytes | None:
        rows, _ = self._execute(_TAKE, (ns, kind, key))
        if rows and sqlite_rows.real(rows[0][1]) > time.time():
            return sqlite_rows.blob(rows[0][0])
        return None

    def _execute(
        self, sql: str, params: sqlite_rows.Params, *, write: bool = False
    ) -> tuple[list[sqlite_rows.Row], int]:
        with self._connection() as conn:
            cursor = conn.execute(sql, params)
            try:
                rows = sqlite_rows.fetch_all(cursor)  # to the end: the statement (its lock) is done
                changed = cursor.rowcount
            finally:
                cursor.close()
        if write and time.time() >= self._next_purge:
            self._purge()
        return rows, changed

    def _setup(self) -> None:
        self.journal_mode = sqlite_setup.set_up(self.path, self._busy_timeout)
        self._set_up = True

    def _purge(self) -> int:
        """Delete expired rows; return how many."""
        now = time.time()
        self._next_purge = now + PURGE_EVERY
        with self._connection() as conn:
            deleted = conn.execute("DELETE FROM state WHERE expires <= ?", (now,)).rowcount
            deleted += conn.execute("DELETE FROM hits WHERE expires <= ?", (now,)).rowcount
        return int(deleted)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = self._acquire()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:  # I/O, locked, full, corrupt... (not our bugs)
            conn.close()  # it may be in a bad state: do not pool it
            if isinstance(exc, sqlite3.ProgrammingError | sqlite3.IntegrityError):
                raise
            raise StoreUnavailable(f"SQLite state store {self.path} failed: {exc}",
                                   sqlite_faults.reason(exc, self.path)) from exc
        except BaseException:
            conn.close()
            raise
        self._release(conn)

    def _acquire(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # forked: connections must not cross a fork
            self._lock = threading.Lock()
            self._idle = []
            self._pid = os.getpid()
        with self._lock:
            if self._closed:
                raise StoreUnavailable(f"SQLite state store {self.path} is closed")
            if self._idle:
                return self._idle.pop()
        if not self._set_up:
            self._setup()
        try:
            return sqlite_setup.connect(self.path, self._busy_timeout)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite state store {self.path}: {exc}",
                                   sqlite_faults.reason(exc, self.path)) from exc

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE and os.getpid() == self._pid:
                self._idle.append(conn)
                return
        conn.close()
