"""Registry queries: schools, suppliers, release policies, aliases, health."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from broker.errors import ServiceUnavailable
from broker.records import Policy, School, Supplier
from broker.registry import Registry, RegistryUnavailable, load_federation
from broker.registry.db import MIGRATIONS
from tests.registry.conftest import REGENBOOG_IDP, REKENWONDERS_SP
from tests.registry.helpers import sql


@pytest.fixture
def loaded(registry: Registry, federation_file: Path) -> Registry:
    registry.import_federation(load_federation(federation_file), key_version=1)
    return registry


def test_schools(loaded: Registry) -> None:
    assert [s.id for s in loaded.schools()] == ["lyceum", "regenboog"]  # by name
    school = loaded.school("regenboog")
    assert isinstance(school, School) and dataclasses.is_dataclass(school)
    with pytest.raises(dataclasses.FrozenInstanceError):
        school.name = "x"  # type: ignore[misc]
    assert loaded.school_by_entity_id(REGENBOOG_IDP) == school
    assert loaded.school("atlantis") is None and loaded.school_by_entity_id("x") is None


def test_suppliers(loaded: Registry) -> None:
    assert [s.id for s in loaded.suppliers()] == ["rekenwonders", "taalapp"]
    rekenwonders = loaded.supplier("rekenwonders")
    assert isinstance(rekenwonders, Supplier) and rekenwonders.key_version == 1
    assert loaded.supplier_by_entity_id(REKENWONDERS_SP) == rekenwonders
    taalapp = loaded.supplier_by_client_id("taalapp")
    assert taalapp is not None and taalapp.id == "taalapp" and taalapp.url == (
        "https://taalapp.example")
    assert loaded.supplier("nobody") is None and loaded.supplier_by_client_id("nobody") is None


def test_policies(loaded: Registry) -> None:
    assert [(p.school_id, p.supplier_id) for p in loaded.policies()] == [
        ("lyceum", "taalapp"), ("regenboog", "rekenwonders")]
    assert [p.supplier_id for p in loaded.policies("regenboog")] == ["rekenwonders"]
    assert loaded.policy("regenboog", "taalapp") is None
    policy = Policy("regenboog", "taalapp", frozenset({"email"}),
                    {"teacher": frozenset({"family_name"})}, valid_until=date(2030, 1, 1))
    loaded.set_policy(policy)
    assert loaded.policy("regenboog", "taalapp") == policy
    loaded.set_policy(dataclasses.replace(policy, attributes=frozenset()))
    assert loaded.policy("regenboog", "taalapp") == dataclasses.replace(
        policy, attributes=frozenset())


@pytest.mark.parametrize("policy", [
    Policy("atlantis", "taalapp"), Policy("regenboog", "nobody"),
    Policy("regenboog", "taalapp", frozenset({"shoe_size"})),
    Policy("regenboog", "taalapp", by_role={"student": frozenset({"iq"})})])
def test_set_policy_refuses_unknowns(loaded: Registry, policy: Policy) -> None:
    with pytest.raises(ValueError, match="unknown"):
        loaded.set_policy(policy)


def test_suspend_and_resume(loaded: Registry) -> None:
    loaded.suspend("regenboog", "rekenwonders", "data leak reported")
    policy = loaded.policy("regenboog", "rekenwonders")
    assert policy is not None and policy.suspended_reason == "data leak reported"
    assert policy.attributes == {"role", "given_name"}
    loaded.resume("regenboog", "rekenwonders")
    assert loaded.policy("regenboog", "rekenwonders") == dataclasses.replace(
        policy, suspended_reason=None)


def test_suspending_a_pair_not_activated_keeps_it_so(loaded: Registry) -> None:
    loaded.suspend("regenboog", "taalapp", "not yet reviewed")
    assert loaded.policy("regenboog", "taalapp") == Policy(
        "regenboog", "taalapp", suspended_reason="not yet reviewed", active=False,
        activated_once=False)
    loaded.resume("lyceum", "rekenwonders")  # no policy: nothing to resume, no error
    with pytest.raises(ValueError, match='unknown school "atlantis"'):
        loaded.suspend("atlantis", "taalapp", "x")


def test_aliases(registry: Registry) -> None:
    assert registry.resolve_anchor("a") == "a"
    registry.add_alias("b", "a")
    registry.add_alias("c", "b")  # the target is resolved first: c -> a, not c -> b -> a
    assert [registry.resolve_anchor(x) for x in "abc"] == ["a", "a", "a"]
    registry.add_alias("a", "z")  # a's aliases follow it, still one hop
    assert [registry.resolve_anchor(x) for x in "abcz"] == ["z"] * 4


@pytest.mark.parametrize(("anchor", "target", "says"), [
    ("a", "a", "to themselves"), ("a", "b", "cycle"), ("a", "c", "cycle")])
def test_alias_cycles_are_refused(registry: Registry, anchor: str, target: str,
                                  says: str) -> None:
    registry.add_alias("b", "a")
    registry.add_alias("c", "b")
    with pytest.raises(ValueError, match=says):
        registry.add_alias(anchor, target)
    assert [registry.resolve_anchor(x) for x in "abc"] == ["a", "a", "a"]


def test_health_and_schema(registry_url: str, tmp_path: Path) -> None:
    registry = Registry(registry_url)
    try:
        assert not registry.exists()
        with pytest.raises(RegistryUnavailable):
            registry.check()
        registry.upgrade()
        registry.upgrade()
        assert registry.exists()
        assert registry.check() == {"ok": True, "schools": 0, "suppliers": 0}
    finally:
        registry.close()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert sql(registry_url, "SELECT version_num FROM alembic_version") == [(head,)]
    assert sql(registry_url, "PRAGMA journal_mode") == [("wal",)]


def test_unreachable_registry(tmp_path: Path) -> None:
    registry = Registry(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite'}")
    try:
        with pytest.raises(RegistryUnavailable) as raised:
            registry.check()
        assert isinstance(raised.value, ServiceUnavailable) and raised.value.status == 503
        with pytest.raises(RegistryUnavailable):
            registry.school("regenboog")
    finally:
        registry.close()


def test_foreign_keys_are_enforced(loaded: Registry) -> None:
    with loaded._db.read() as session:  # white-box: the pragma is on for every connection
        assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
