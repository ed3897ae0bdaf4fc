"""The SQLite state store's rows, typed: sqlite3 hands every row out as Any; here it becomes a
tuple of the values SQLite stores (NULL, INTEGER, REAL, TEXT, BLOB), and each value is read
as the type its column holds, failing as the conversion it replaces would (TypeError).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

Value = None | int | float | str | bytes
"""One column of a row, as sqlite3 returns it."""
Row = tuple[Value, ...]
Params = Sequence[Value]


def fetch_all(cursor: sqlite3.Cursor) -> list[Row]:
    """Every row left, stepping the statement to its end."""
    rows: list[Row] = cursor.fetchall()
    return rows


def first(conn: sqlite3.Connection, sql: str) -> Value:
    """The first column of the one row of `sql` (a PRAGMA); TypeError when there is no row."""
    row: Row | None = conn.execute(sql).fetchone()
    if row is None:
        raise TypeError(f"{sql!r} returned no row")
    return row[0]


def whole(value: Value) -> int:
    """An INTEGER column (a count, a number of hits)."""
    if value is None:
        raise TypeError("expected a whole number, got NULL")
    return int(value)


def real(value: Value) -> float:
    """A REAL column (an expiry time)."""
    if not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def blob(value: Value) -> bytes:
    """A BLOB column (stored data)."""
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return value
