"""What went wrong with an embedded SQLite file (state store or registry), said briefly.

A full disk shows up in SQLite as "database or disk is full", but just as often as "disk I/O
error" (growing the WAL index of a database nobody has open yet), so the free space of the
file system is asked as well. The reasons name no path: /healthz is public.
"""

from __future__ import annotations

import errno
import os
import sqlite3

MIN_FREE = 64 * 1024
"""Below this many free bytes the file system counts as full: a login writes a few pages."""

DISK_FULL = "the disk is full"
DISK_ERROR = "disk I/O error"
_BUSY = "busy (locked by another writer)"
_REASONS = {
    sqlite3.SQLITE_BUSY: _BUSY,
    sqlite3.SQLITE_LOCKED: _BUSY,
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_CANTOPEN: "cannot open the database file",
    sqlite3.SQLITE_CORRUPT: "the database file is corrupt",
    sqlite3.SQLITE_NOTADB: "not a SQLite database",
}
WRONG_FILE = frozenset({_REASONS[sqlite3.SQLITE_CANTOPEN], _REASONS[sqlite3.SQLITE_NOTADB],
                        _REASONS[sqlite3.SQLITE_READONLY]})
"""Reasons that mean a setting to fix (a wrong path, a file that is no database, missing
permissions), not a fault that may pass (a full or failing disk, a busy file)."""
_FAULTS = (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _code(exc: BaseException) -> int:
    """SQLite's primary result code (the extended one without its upper bits); 0: unknown."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def disk_full(path: str) -> bool:
    """Is the file system holding `path` (a file, or the folder it is to be made in) full?"""
    folder = path if os.path.isdir(path) else os.path.dirname(path) or "."
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < MIN_FREE


def reason(exc: BaseException, path: str) -> str:
    """A short reason for a failed SQLite call (or file operation) on the file `path`."""
    code = _code(exc)
    if code == sqlite3.SQLITE_FULL or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
        return DISK_FULL
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, 0) and disk_full(path):
        return DISK_FULL
    if code == sqlite3.SQLITE_IOERR or isinstance(exc, OSError):
        return DISK_ERROR
    return _REASONS.get(code, "database error")


def is_fault(exc: BaseException, path: str) -> bool:
    """A fault of the disk or of concurrent use, which may pass by itself (not a bad path)."""
    return _code(exc) in _FAULTS or reason(exc, path) == DISK_FULL
