"""Setting up the embedded state store's SQLite file: its folder, the file, the schema and WAL
mode, and each connection's pragmas. A path that cannot be used is a ConfigError; a full or
failing disk is StoreUnavailable (try again later)."""

from __future__ import annotations

import os
import sqlite3
from typing import NoReturn

from broker import sqlite_faults
from broker.errors import ConfigError
from broker.private_files import create_private
from broker.store import sqlite_rows
from broker.store.base import StoreUnavailable

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    ns TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    value BLOB NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (ns, kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS state_expires ON state (expires);
CREATE TABLE IF NOT EXISTS hits (
    bucket TEXT PRIMARY KEY, n INTEGER NOT NULL, expires REAL NOT NULL
) WITHOUT ROWID;
"""


def connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode, usable from any thread (one at a time)."""
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def set_up(path: str, busy_timeout: float) -> str:
    """Create the folder, the file and the schema; switch to WAL; return the journal mode."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        _failed(path, exc, f"cannot create the folder {folder!r} for the SQLite state store: "
                f"{exc}")
    create_private(path)  # sessions and tokens: for Loper's user alone
    try:
        conn = connect(path, busy_timeout)
    except sqlite3.Error as exc:
        _failed(path, exc, f"cannot open the SQLite state store {path!r}: {exc}"
                " (the folder must exist and be writable by the broker)")
    try:
        mode = str(sqlite_rows.first(conn, "PRAGMA journal_mode = WAL"))
        version = sqlite_rows.whole(sqlite_rows.first(conn, "PRAGMA user_version"))
        if version != SCHEMA_VERSION:  # nothing is written when the schema is there
            if version:  # short-lived state of another schema: start afresh
                conn.executescript("DROP TABLE IF EXISTS state; DROP TABLE IF EXISTS hits;")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.DatabaseError as exc:
        _failed(path, exc, f"cannot use {path!r} as the SQLite state store: {exc}"
                " (it must be a writable SQLite file, or not exist yet)")
    finally:
        conn.close()
    return mode


def _failed(path: str, exc: BaseException, message: str) -> NoReturn:
    if sqlite_faults.is_fault(exc, path):
        reason = sqlite_faults.reason(exc, path)
        raise StoreUnavailable(f"cannot set up the SQLite state store {path}: {reason}"
                               f" ({exc})", reason) from exc
    raise ConfigError(message) from exc
