"""Whether a school ever activated a supplier (Policy.activated_once): the registry alone sets
it, on activation, and never clears it; an existing database gets it from migration 0010, on
SQLite and PostgreSQL; the federation file carries active entries only, each activating its
pair on import."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from broker.records import Policy
from broker.registry import Registry, dump_federation, load_federation
from tests.registry.conftest import FEDERATION, write_federation
from tests.registry.helpers import upgrade_to

SCHOOL, SUPPLIER = "regenboog", "taalapp"
"""A pair the standard federation file has no release entry for."""


@pytest.fixture
def imported(registry: Registry, federation_file: Path) -> Registry:
    registry.import_federation(load_federation(federation_file), key_version=1)
    return registry


def _marks(registry: Registry) -> tuple[bool, bool]:
    policy = registry.policy(SCHOOL, SUPPLIER)
    assert policy is not None
    return policy.active, policy.activated_once


def test_set_on_activation_and_never_cleared(imported: Registry) -> None:
    prepared = Policy(SCHOOL, SUPPLIER, attributes=frozenset({"role"}), active=False)
    imported.set_policy(prepared)  # its activated_once says True: the registry decides
    assert _marks(imported) == (False, False)
    imported.activate(SCHOOL, SUPPLIER, agreement=None, valid_until=None)
    assert _marks(imported) == (True, True)
    imported.deactivate(SCHOOL, SUPPLIER)
    assert _marks(imported) == (False, True)
    imported.set_policy(dataclasses.replace(prepared, activated_once=False))
    assert _marks(imported) == (False, True)
    actions = [e.action for e in imported.audit_trail().entries(SCHOOL, supplier_id=SUPPLIER)]
    assert actions == ["deactivate", "activate", "release"], "clearing it changed nothing"


def test_suspending_a_pair_never_activated_keeps_it_unactivated(imported: Registry) -> None:
    imported.suspend(SCHOOL, SUPPLIER, "under review")
    assert _marks(imported) == (False, False)


def test_the_federation_file_activates_and_carries_active_entries_only(
        imported: Registry, tmp_path: Path) -> None:
    assert all(p.active and p.activated_once for p in imported.policies())
    imported.set_policy(Policy(SCHOOL, SUPPLIER, attributes=frozenset({"role"}), active=False))
    exported = dump_federation(imported.export_federation())
    assert exported.count("[[releases]]") == 2
    assert f'school = "{SCHOOL}"\nsupplier = "{SUPPLIER}"' not in exported
    (tmp_path / "copy").mkdir()
    again = load_federation(write_federation(tmp_path / "copy", exported))
    other = Registry(f"sqlite:///{tmp_path / 'other.sqlite'}")
    try:
        other.upgrade()
        other.import_federation(again, key_version=1)
        assert other.policy(SCHOOL, SUPPLIER) is None, "still new there"
        assert dump_federation(other.export_federation()) == exported
    finally:
        other.close()
    entry = f'\n[[releases]]\nschool = "{SCHOOL}"\nsupplier = "{SUPPLIER}"\n'
    (tmp_path / "more").mkdir()
    imported.import_federation(load_federation(write_federation(
        tmp_path / "more", FEDERATION + entry)), key_version=1)
    assert _marks(imported) == (True, True), "an entry in the file activates its pair"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.getfixturevalue("registry_url" if request.param == "sqlite" else "pg_url")


def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_an_existing_database_counts_its_entries_as_activated(any_url: str) -> None:
    """A registry at 0009 with an active and a deactivated entry: after the upgrade both
    read as before (active, and "not active" rather than new); new entries get the marker."""
    upgrade_to(any_url, "0009")
    _sql(any_url, "INSERT INTO schools (id, name, protocol, config) VALUES ('s', 'S', 'saml', "
         "'{}')")
    _sql(any_url, "INSERT INTO suppliers (id, name, protocol, sector, key_version, requests, "
         "config) VALUES ('p', 'P', 'oidc', 'p', 1, '[]', '{}'), "
         "('q', 'Q', 'oidc', 'q', 1, '[]', '{}'), ('r', 'R', 'oidc', 'r', 1, '[]', '{}')")
    _sql(any_url, "INSERT INTO release_policies (school_id, supplier_id, attributes, by_role, "
         "active) VALUES ('s', 'p', '[\"role\"]', '{}', TRUE), ('s', 'q', '[]', '{}', FALSE)")
    upgraded = Registry(any_url)
    try:
        upgraded.upgrade()
        assert [(p.supplier_id, p.active, p.activated_once) for p in upgraded.policies("s")] == [
            ("p", True, True), ("q", False, True)]
        upgraded.set_policy(Policy("s", "r", attributes=frozenset({"role"}), active=False))
        prepared = upgraded.policy("s", "r")
        assert prepared is not None and prepared.never_activated
        upgraded.deactivate("s", "p")
        assert upgraded.policy("s", "p") == dataclasses.replace(
            Policy("s", "p", attributes=frozenset({"role"})), active=False)
    finally:
        upgraded.close()
