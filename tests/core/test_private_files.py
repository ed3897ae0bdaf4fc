"""The databases Loper keeps in its instance folder are its user's alone: the registry holds
admins' password hashes and inline client secrets, the state store sessions and tokens."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from broker.instance import initialise
from broker.registry import Registry
from broker.settings import load_settings
from broker.store import open_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_broker_init_makes_the_registry_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    old = os.umask(0o022)  # a default shell's: what the README's quick start runs with
    try:
        for _ in initialise(load_settings({"instance": folder}, environ={})):
            pass
        store = open_store(f"sqlite:///{folder / 'state.sqlite'}")
        store.put_token("test", "k", b"v", 60)  # a write: the WAL file appears
        store.close()
    finally:
        os.umask(old)
    for name in ("registry.sqlite", "state.sqlite", "state.sqlite-wal"):
        if (folder / name).exists():
            assert _mode(folder / name) == 0o600, name


def test_an_existing_database_keeps_the_operators_mode(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)  # a group of backup operators, say: theirs to decide
    Registry(f"sqlite:///{path}").close()
    assert _mode(path) == 0o640
