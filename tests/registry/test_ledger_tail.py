"""The end of the ledger: synchronous=FULL on every SQLite connection."""

from __future__ import annotations

from sqlalchemy import text

from broker.registry.db import Database

FULL, WAL = 2, "wal"


def test_every_connection_syncs_each_commit(registry_url: str) -> None:
    """Read, write and raw connections alike: a commit is on disk before it returns."""
    db = Database(registry_url)
    try:
        with db.read() as session:
            pragmas = [session.execute(text(f"PRAGMA {p}")).scalar()
                       for p in ("synchronous", "journal_mode")]
            assert pragmas == [FULL, WAL]
        with db.write() as session:
            assert session.execute(text("PRAGMA synchronous")).scalar() == FULL
        assert db.peek("PRAGMA synchronous") == FULL
    finally:
        db.close()
