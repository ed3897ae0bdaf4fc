"""The Alembic migration and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from broker.registry import Registry, models
from broker.registry.models import Base


def test_models_match_the_migration(registry: Registry, registry_url: str) -> None:
    engine = create_engine(registry_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_alembic_check_from_the_command_line_config(registry: Registry, registry_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer path (alembic -c broker/registry/alembic.ini check) finds no changes."""
    monkeypatch.setenv("BROKER_REGISTRY_URL", registry_url)
    command.check(Config(str(Path(models.__file__).parent / "alembic.ini")))
