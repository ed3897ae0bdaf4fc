"""Where the registry reaches below SQLAlchemy's typed API: the DB-API driver's connections
and cursors, and the row count of a bulk statement. Each function here hands back a typed
value, so the rest of the registry holds no Any.

- The DB-API (PEP 249) types its rows and driver connections as Any: a connection's set-up
  (sqlite3's autocommit and pragmas), one value read on a pooled connection (the registry
  version check, cache.py) and a pragma run outside a transaction (a migration).
- Session.execute types its answer as a Result, which has no rowcount; for an UPDATE or a
  DELETE it is a CursorResult, which has.
- A JSON column's field in a query (JSON's comparator, which the stubs leave untyped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, CursorResult, Engine, Result, event
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import QueryableAttribute

Rows = Result[Any]
"""What Session.execute answers an UPDATE or a DELETE with."""


def rowcount(result: Rows) -> int:
    """How many rows an UPDATE or a DELETE matched."""
    return cast("CursorResult[Any]", result).rowcount


def sqlite_on_connect(engine: Engine, pragmas: Sequence[str]) -> None:
    """Set up every new SQLite connection of `engine`: no implicit transactions (SQLAlchemy
    emits BEGIN itself) and `pragmas`, in order."""

    def set_up(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", set_up)


def first_int(cursor: DBAPICursor, sql: str) -> int | None:
    """The first column of the first row of one SELECT, as a whole number (None: no row, or
    NULL)."""
    cursor.execute(sql)
    row = cursor.fetchone()
    value = row[0] if row else None
    return None if value is None else int(value)


def sqlite_pragma(connection: Connection, pragma: str) -> None:
    """Run `PRAGMA pragma` on the driver's own SQLite connection (outside any transaction:
    some pragmas are ignored inside one)."""
    raw = connection.connection.driver_connection
    if raw is not None:
        raw.execute(f"PRAGMA {pragma}")


def json_text(column: QueryableAttribute[Any], key: str) -> ColumnElement[str]:
    """The string field `key` of a JSON column, in SQL (NULL where it is absent)."""
    text: ColumnElement[str] = column[key].as_string()
    return text


def json_flag(column: QueryableAttribute[Any], key: str) -> ColumnElement[bool]:
    """The true/false field `key` of a JSON column, in SQL (NULL where it is absent)."""
    flag: ColumnElement[bool] = column[key].as_boolean()
    return flag
