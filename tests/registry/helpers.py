"""Small helpers shared by the registry tests."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from broker.registry import Registry, dump_federation, load_federation
from broker.registry.db import MIGRATIONS
from tests.registry.conftest import write_federation


def upgrade_to(url: str, revision: str) -> None:
    """Bring an empty registry's schema to an older revision, as an older Loper left it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


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


def round_trip(registry: Registry, tmp_path: Path, text: str) -> str:
    """Import `text`, export it, and check that the export imported into an empty registry
    exports byte for byte the same, with the same records. The export."""
    registry.import_federation(load_federation(write_federation(tmp_path, text)), key_version=1)
    exported = dump_federation(registry.export_federation())
    (tmp_path / "copy").mkdir()
    again = load_federation(write_federation(tmp_path / "copy", exported))
    other = Registry(f"sqlite:///{tmp_path / 'other.sqlite'}")
    try:
        other.upgrade()
        other.import_federation(again, key_version=1)
        assert dump_federation(other.export_federation()) == exported
        assert other.export_federation().schools == registry.export_federation().schools
    finally:
        other.close()
    return exported


def school_metadata(registry: Registry, school_id: str) -> str:
    """The school's metadata as the registry holds it now (read again, past the cache)."""
    registry.refresh()
    school = registry.school(school_id)
    assert school is not None
    return str(school.config.metadata_xml)
