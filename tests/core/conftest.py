"""The flow tests' world (tests/core/flow_world.py): a fake school and a fake supplier around
the real Flow, over the in-memory store and a real registry of the default federation. A
module that needs another federation defines its own `registry`; `world` then stands on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.registry import Registry
from tests.core.flow_world import World, build_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = build_registry(tmp_path_factory.mktemp("registry"))
    yield registry
    registry.close()


@pytest.fixture
def world(registry: Registry, tmp_path: Path) -> World:
    return World(registry, tmp_path)
