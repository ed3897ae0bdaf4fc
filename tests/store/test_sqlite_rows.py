"""The SQLite state store's rows read as their columns' types (broker/store/sqlite_rows.py),
failing as the conversions they replace did (TypeError)."""

from __future__ import annotations

import sqlite3

import pytest

from broker.store import sqlite_rows


def test_rows_and_values() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE t (data BLOB, expires REAL, hits INTEGER)")
        conn.execute("INSERT INTO t VALUES (?, ?, ?)", (b"\x00data", 12.5, 3))
        rows = sqlite_rows.fetch_all(conn.execute("SELECT data, expires, hits FROM t"))
        assert sqlite_rows.blob(rows[0][0]) == b"\x00data"
        assert sqlite_rows.real(rows[0][1]) == 12.5
        assert sqlite_rows.whole(rows[0][2]) == 3
        assert sqlite_rows.whole(sqlite_rows.first(conn, "PRAGMA user_version")) == 0
        with pytest.raises(TypeError):
            sqlite_rows.first(conn, "SELECT data FROM t WHERE hits = 4")
    finally:
        conn.close()


@pytest.mark.parametrize(("read", "value"), [
    (sqlite_rows.whole, None), (sqlite_rows.real, None), (sqlite_rows.real, "1"),
    (sqlite_rows.blob, "text"), (sqlite_rows.blob, None),
])
def test_a_value_of_another_type_is_a_type_error(read: object, value: sqlite_rows.Value) -> None:
    assert callable(read)
    with pytest.raises(TypeError):
        read(value)
