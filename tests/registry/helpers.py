"""Small helpers shared by the registry tests."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from broker.registry import Registry, dump_federation


def snapshot(registry: Registry) -> tuple[str, list[tuple[object, ...]]]:
    """Everything import could change, as comparable values."""
    return dump_federation(registry.export_federation()), [
        (p.school_id, p.supplier_id, sorted(p.attributes)) for p in registry.policies()]


def sql(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    """Run raw SQL (statements separated by ";") on a SQLite registry behind its back."""
    path = Path(url.removeprefix("sqlite:///"))
    with closing(sqlite3.connect(path)) as connection:
        rows: list[tuple[object, ...]] = []
        for part in statement.split(";"):
            rows = connection.execute(part, params).fetchall()
        connection.commit()
        return rows
