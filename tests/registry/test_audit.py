"""The audit trail in the ledger's chain: written with each change, covered by verify."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from broker.records import Policy
from broker.registry import Registry, dump_federation, load_federation
from broker.registry import ledger as ledger_module
from tests.registry.helpers import sql, upgrade_to


@pytest.fixture
def loaded(registry: Registry, federation_file: Path) -> Registry:
    registry.import_federation(load_federation(federation_file), key_version=1)
    return registry


def test_the_import_activates_and_records_each_release(loaded: Registry,
                                                       federation_file: Path) -> None:
    trail = loaded.audit_trail()
    assert [(e.school_id, e.supplier_id, e.action) for e in reversed(
        trail.entries("regenboog") + trail.entries("lyceum"))] == [
        ("lyceum", "taalapp", "activate"), ("regenboog", "rekenwonders", "activate")]
    again = loaded.import_federation(load_federation(federation_file), key_version=1)
    assert again.count("policies", "unchanged") == 2
    assert len(trail.entries("regenboog")) == 1, "an unchanged entry is not recorded again"


def test_releases_and_admin_actions_share_one_verified_chain(loaded: Registry) -> None:
    ledger = loaded.ledger()
    ledger.append(datetime.now(UTC), "regenboog", "rekenwonders", "v1-abc", ["role"], "saml")
    loaded.suspend("regenboog", "rekenwonders", "data leak", by="ict@regenboog.example")
    ledger.append(datetime.now(UTC), "lyceum", "taalapp", "v1-def", [], "oidc")
    loaded.resume("regenboog", "rekenwonders", by="ict@regenboog.example")
    result = ledger.verify()
    assert result.ok and result.rows == 6
    assert [e.seq for e in ledger.entries("regenboog")] == [3], "releases only"
    assert [e.action for e in loaded.audit_trail().entries("regenboog")] == [
        "resume", "suspend", "activate"]


@pytest.mark.parametrize("tamper", [
    "UPDATE ledger SET detail = json_set(detail, '$.actor', 'someone else') WHERE seq = 3",
    "UPDATE ledger SET detail = json_set(detail, '$.after.attributes', json('[\"eck_id\"]')) "
    "WHERE seq = 3",
    "UPDATE ledger SET kind = 'release' WHERE seq = 3",
    "UPDATE ledger SET supplier_id = 'taalapp' WHERE seq = 3",
], ids=["actor", "after", "kind", "supplier"])
def test_tampering_with_an_audit_row_shows(loaded: Registry, registry_url: str,
                                           tamper: str) -> None:
    loaded.set_policy(Policy("regenboog", "rekenwonders", frozenset({"role"})), by="ict")
    assert loaded.ledger().verify().ok
    sql(registry_url, tamper)
    result = loaded.ledger().verify()
    assert not result.ok
    assert result.problem == "row 3 was altered after it was written"


def test_deleting_an_audit_row_shows(loaded: Registry, registry_url: str) -> None:
    loaded.suspend("regenboog", "rekenwonders", "x")
    loaded.ledger().append(datetime.now(UTC), "regenboog", "rekenwonders", "v1-a", [], "saml")
    sql(registry_url, "DELETE FROM ledger WHERE seq = 3")
    assert not loaded.ledger().verify().ok


def test_a_change_is_never_committed_without_its_audit_row(
        loaded: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: ledger_module.Chain, row: object) -> None:
        raise RuntimeError("the ledger cannot be written")
    monkeypatch.setattr(ledger_module.Chain, "add", broken)
    with pytest.raises(RuntimeError):
        loaded.suspend("regenboog", "rekenwonders", "data leak")
    policy = loaded.policy("regenboog", "rekenwonders")
    assert policy is not None and policy.suspended_reason is None


def test_activation_and_deactivation(loaded: Registry) -> None:
    loaded.activate("lyceum", "rekenwonders", agreement="OK-1", valid_until=date(2030, 1, 31),
                    by="ict@lyceum.example")
    assert loaded.policy("lyceum", "rekenwonders") == Policy(
        "lyceum", "rekenwonders", agreement="OK-1", valid_until=date(2030, 1, 31))
    loaded.deactivate("lyceum", "rekenwonders", reason="stopped", by="ict@lyceum.example")
    entry = loaded.audit_trail().entries("lyceum", supplier_id="rekenwonders")[0]
    assert (entry.action, entry.reason, entry.actor) == ("deactivate", "stopped",
                                                         "ict@lyceum.example")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["active"], entry.after["active"]) == (True, False)
    json.dumps(entry.before)  # JSON all the way down
    loaded.deactivate("regenboog", "taalapp")  # never activated: nothing to do, no row
    assert loaded.policy("regenboog", "taalapp") is None


def test_the_export_leaves_out_deactivated_pairs(loaded: Registry) -> None:
    loaded.deactivate("regenboog", "rekenwonders")
    assert [(p.school_id, p.active) for p in loaded.export_federation().policies] == [
        ("lyceum", True), ("regenboog", False)]
    assert 'supplier = "rekenwonders"' not in dump_federation(loaded.export_federation())


def _hash_as_before_0005(prev: str, seq: int, at: str) -> str:
    """A release row's hash as the ledger computed it before audit rows existed."""
    fields = {"seq": seq, "at": at, "school_id": "s", "supplier_id": "p",
              "pseudonym": "v1-x", "attributes": ["role"], "protocol": "oidc"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev}|{canonical}".encode()).hexdigest()


def test_release_entries_and_ledger_rows_from_before_survive_the_migration(
        registry_url: str) -> None:
    """A registry at 0004: its release entries stay active and its chain still verifies."""
    upgrade_to(registry_url, "0004")
    genesis = sql(registry_url, "SELECT head_hash FROM ledger_checkpoint")[0][0]
    assert isinstance(genesis, str)
    row_hash = _hash_as_before_0005(genesis, 1, "2026-11-01T08:00:00.000000+00:00")
    sql(registry_url, "INSERT INTO schools (id, name, protocol, config) VALUES "
        "('s', 'S', 'saml', '{}'); INSERT INTO suppliers (id, name, protocol, sector, "
        "key_version, requests, config) VALUES ('p', 'P', 'oidc', 'p', 1, '[]', '{}'); "
        "INSERT INTO release_policies (school_id, supplier_id, attributes, by_role) VALUES "
        "('s', 'p', '[\"role\"]', '{}')")
    sql(registry_url, "INSERT INTO ledger (seq, at, school_id, supplier_id, pseudonym, "
        "attributes, protocol, prev_hash, hash) VALUES (1, '2026-11-01 08:00:00.000000', 's', "
        "'p', 'v1-x', '[\"role\"]', 'oidc', ?, ?)", genesis, row_hash)
    sql(registry_url, "UPDATE ledger_checkpoint SET head_seq = 1, head_hash = ?", row_hash)
    upgraded = Registry(registry_url)
    try:
        upgraded.upgrade()
        policy = upgraded.policy("s", "p")
        assert policy is not None and policy.active and policy.agreement is None
        assert upgraded.ledger().verify().ok
        upgraded.suspend("s", "p", "after the upgrade")
        assert upgraded.ledger().verify().rows == 2
    finally:
        upgraded.close()
