"""The registry database: engine set-up, read and write sessions, schema migrations.

SQLite gets foreign keys, WAL, a busy timeout and real transactions (SQLAlchemy emits BEGIN
itself; write transactions use BEGIN IMMEDIATE so concurrent writers queue instead of
failing halfway). PostgreSQL needs none of that and takes the same code unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from broker.errors import ServiceUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT = 30
_IMMEDIATE = "loper_begin_immediate"


class RegistryUnavailable(ServiceUnavailable):
    """The registry database cannot be reached or has no schema (run `broker init`)."""

    def __init__(self, message: str = "The registry is unavailable.") -> None:
        super().__init__(message)


def _sqlite_setup(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and the two kinds of session the registry uses."""

    def __init__(self, url: str) -> None:
        sqlite = url.startswith("sqlite")
        connect_args = {"timeout": BUSY_TIMEOUT} if sqlite else {}
        self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not sqlite)
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_setup)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self.write_sessions = sessionmaker(self._writer, expire_on_commit=False)
        """What write() opens; a Session class of its own, so listeners (cache.py) see only
        this database's writes."""

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _available(), Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with _available(), self.write_sessions() as session:
            with session.begin():
                yield session

    def peek(self, sql: str) -> Any:
        """The first column of the first row of one SELECT (None: no row), on a pooled
        driver connection: none of a Session's or Connection's bookkeeping (on SQLite ~8 us
        instead of ~40), for the registry version check that precedes cached reads."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            with _available():
                connection = self.engine.raw_connection()
        except dbapi_error as exc:  # the driver's own errors are not wrapped here
            raise RegistryUnavailable(f"The registry is unavailable: {exc}") from exc
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except dbapi_error as exc:
            lost = self.engine.dialect.is_disconnect(exc, connection.dbapi_connection, None)
            if lost:
                connection.invalidate(exc)
            raise RegistryUnavailable("The registry connection was lost." if lost else
                                      f"The registry is unavailable: {exc}") from exc
        finally:
            connection.close()
        return row[0] if row else None

    def upgrade(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "os")
        with _available(), self._writer.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def exists(self) -> bool:
        with _available(), self.engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def _available() -> Iterator[None]:
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise RegistryUnavailable(f"The registry is unavailable: {exc.orig}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise RegistryUnavailable("The registry connection was lost.") from exc
        raise
