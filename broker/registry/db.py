"""The registry database: engine set-up, read and write sessions, schema migrations.

SQLite gets foreign keys, WAL, a busy timeout and real transactions (SQLAlchemy emits BEGIN
itself; write transactions use BEGIN IMMEDIATE so concurrent writers queue instead of
failing halfway). PostgreSQL needs none of that and takes the same code unchanged.

A database that cannot be reached, or a SQLite file on a full or failing disk, raises
RegistryUnavailable (a 503) with a short reason; other database errors are bugs and propagate.

synchronous=FULL: every commit syncs the WAL before it returns, so a committed ledger row
survives a power cut or an OS crash. (NORMAL in WAL mode syncs only at checkpoints and may
lose the last commits then; a killed process loses nothing under either.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from broker import sqlite_faults
from broker.errors import ServiceUnavailable
from broker.private_files import create_private
from broker.registry import sql_door
from broker.settings import check_registry_url

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT = 30
_IMMEDIATE = "loper_begin_immediate"
SQLITE_PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL")
"""On every connection; synchronous must follow journal_mode (its meaning depends on it)."""


class RegistryUnavailable(ServiceUnavailable):
    """The registry database cannot be reached or has no schema (run `broker init`).

    `reason` says why in a few words that name no host, path or secret (/healthz shows it).
    """

    def __init__(self, message: str = "The registry is unavailable.",
                 reason: str = "unreachable") -> None:
        super().__init__(message)
        self.reason = reason


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and the two kinds of session the registry uses."""

    def __init__(self, url: str) -> None:
        check_registry_url(url)  # ConfigError, not SQLAlchemy's errors deep inside
        sqlite = url.startswith("sqlite")
        connect_args = {"timeout": BUSY_TIMEOUT} if sqlite else {}
        self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not sqlite)
        self.sqlite_path = (self.engine.url.database or "") if sqlite else None
        """The SQLite file (to tell a full disk from other faults); None for PostgreSQL."""
        if self.sqlite_path is not None:
            create_private(self.sqlite_path)  # password hashes, secrets: Loper's user alone
            sql_door.sqlite_on_connect(self.engine, SQLITE_PRAGMAS)  # BEGIN: _sqlite_begin
            event.listen(self.engine, "begin", _sqlite_begin)
        self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self.write_sessions = sessionmaker(self._writer, expire_on_commit=False)
        """What write() opens; a Session class of its own, so listeners (cache.py) see only
        this database's writes."""

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._available(), Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._available(), self.write_sessions() as session:
            with session.begin():
                yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction on SQL Core, without a Session (the ledger's append, on every
        login): committed when the block ends, rolled back if it raises."""
        with self._available(), self._writer.begin() as connection:
            yield connection

    def check_disk(self) -> None:
        """RegistryUnavailable when the SQLite file's disk is full: reads still work then, but
        every login writes the ledger."""
        if self.sqlite_path and sqlite_faults.disk_full(self.sqlite_path):
            raise RegistryUnavailable(f"The registry is unavailable: {sqlite_faults.DISK_FULL}",
                                      sqlite_faults.DISK_FULL)

    def peek(self, sql: str) -> int | None:
        """The first column of the first row of one SELECT, a whole number (None: no row), on
        a pooled driver connection: none of a Session's or Connection's bookkeeping (on SQLite ~8 us
        instead of ~40), for the registry version check that precedes cached reads."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            with self._available():
                connection = self.engine.raw_connection()
        except dbapi_error as exc:  # the driver's own errors are not wrapped here
            raise self._unavailable(exc) from exc
        try:
            cursor = connection.cursor()
            try:
                value = sql_door.first_int(cursor, sql)
            finally:
                cursor.close()
        except dbapi_error as exc:
            lost = self.engine.dialect.is_disconnect(exc, connection.dbapi_connection, None)
            if lost:
                connection.invalidate(exc)
            raise (RegistryUnavailable("The registry connection was lost.") if lost
                   else self._unavailable(exc)) from exc
        finally:
            connection.close()
        return value

    def upgrade(self) -> None:
        from alembic import command  # here, not at the top: alembic costs a worker's start
        from alembic.config import Config  # half a second and only a migration needs it

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "os")
        with self._available(), self._writer.connect() as connection:
            # On SQLite a batch migration recreates a table and drops the old one; with
            # foreign keys on, that drop would cascade into every row referring to it (a
            # school's release entries, aliases...). Off for the migration only: the pragma
            # must be set outside a transaction, on the driver's connection.
            sqlite = self.sqlite_path is not None
            if sqlite:
                sql_door.sqlite_pragma(connection, "foreign_keys=OFF")
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            finally:
                if sqlite:
                    sql_door.sqlite_pragma(connection, "foreign_keys=ON")

    def exists(self) -> bool:
        with self._available(), self.engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")

    def close(self) -> None:
        self.engine.dispose()


    @contextmanager
    def _available(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            raise self._unavailable(exc.orig) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise RegistryUnavailable("The registry connection was lost.") from exc
            if self.sqlite_path is not None and not isinstance(
                    exc.orig, sqlite3.IntegrityError | sqlite3.ProgrammingError):
                raise self._unavailable(exc.orig) from exc  # e.g. a corrupt page on a bad disk
            raise

    def _unavailable(self, error: BaseException | None) -> RegistryUnavailable:
        """The exception for a driver error: on SQLite, with what went wrong with the file."""
        reason = ("unreachable" if self.sqlite_path is None or error is None
                  else sqlite_faults.reason(error, self.sqlite_path))
        return RegistryUnavailable(f"The registry is unavailable: {error}", reason)
