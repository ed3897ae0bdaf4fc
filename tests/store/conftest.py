"""Fixtures of the state store tests: every contract test runs against SQLite and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.store import StateStore, open_store


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store: a fresh SQLite file, or the session's flushed Redis."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/instance/state.sqlite"
    url: str = request.getfixturevalue("redis_store_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()
