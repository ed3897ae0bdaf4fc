"""The ledger on PostgreSQL as several chains: instances that share one database append at
once instead of queueing for one row, and `verify` checks every chain.

Each "instance" is a Registry of its own (its own engine and connection pool), as a broker
on another machine would have; the server is the session's real PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from broker.registry import Registry
from broker.registry.models import LedgerEntryRow
from tests.registry.helpers import upgrade_to

APPENDS = 30
THREADS = 3


def _pg(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _append_from(instances: list[Registry]) -> list[Exception]:
    """THREADS threads per instance, each appending APPENDS releases."""
    errors: list[Exception] = []

    def write(registry: Registry, worker: int) -> None:
        try:
            for i in range(APPENDS):
                registry.ledger().append(datetime.now(UTC), "s", "p", f"v1-{worker}-{i}",
                                         ["role"], "oidc")
        except Exception as exc:  # reported by the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(registry, n * THREADS + t))
               for n, registry in enumerate(instances) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_two_instances_append_at_once_and_every_chain_verifies(pg_registry: Registry,
                                                               pg_url: str) -> None:
    other = Registry(pg_url)
    try:
        assert _append_from([pg_registry, other]) == []
    finally:
        other.close()
    result = pg_registry.ledger().verify()
    assert (result.ok, result.rows) == (True, 2 * THREADS * APPENDS), result
    assert _pg(pg_url, "SELECT count(*), count(DISTINCT seq) FROM ledger") == [
        (2 * THREADS * APPENDS, 2 * THREADS * APPENDS)]


def test_an_open_append_holds_up_no_other_instance(pg_registry: Registry, pg_url: str) -> None:
    """While one instance's transaction holds a chain (an admin change and its audit row,
    not yet committed), another instance's release is written at once, on another chain."""
    other = Registry(pg_url)
    done = threading.Event()
    try:
        with pg_registry.ledger().writing() as chain:
            chain.add(LedgerEntryRow(at=datetime.now(UTC), school_id="s", supplier_id="p",
                                     pseudonym="v1-a", attributes=[], protocol="oidc",
                                     kind="release"))
            writer = threading.Thread(target=lambda: (other.ledger().append(
                datetime.now(UTC), "s", "p", "v1-b", ["role"], "saml"), done.set()))
            writer.start()
            writer.join(30)
            assert done.is_set(), "the other instance waited for the open transaction"
    finally:
        other.close()
    result = pg_registry.ledger().verify()
    assert (result.ok, result.rows, result.chains) == (True, 2, 2), result


def test_tampering_in_a_second_chain_shows(pg_registry: Registry, pg_url: str) -> None:
    test_an_open_append_holds_up_no_other_instance(pg_registry, pg_url)
    ledger = pg_registry.ledger()
    for _ in range(3):
        with ledger.writing() as chain, pg_registry.ledger().writing() as second:
            for target in (chain, second):
                target.add(LedgerEntryRow(at=datetime.now(UTC), school_id="s", supplier_id="p",
                                          pseudonym="v1-c", attributes=[], protocol="oidc",
                                          kind="release"))
    rows = _pg(pg_url, "SELECT seq, link FROM ledger WHERE chain = 2 ORDER BY link")
    assert len(rows) == 4 and ledger.verify().ok
    second_row = rows[1][0]
    _pg(pg_url, "UPDATE ledger SET pseudonym = 'x' WHERE seq = :seq", seq=second_row)
    assert ledger.verify().problem == f"row {second_row} was altered after it was written"
    _pg(pg_url, "DELETE FROM ledger WHERE seq = :seq", seq=second_row)
    assert ledger.verify().problem == (f"row {rows[2][0]} follows row {rows[0][0]}: "
                                       "rows are missing or reordered")


def _hash_before_chains(prev: str, seq: int, at: str, pseudonym: str) -> str:
    """A release row's hash as the ledger computed it with one chain."""
    fields = {"seq": seq, "at": at, "school_id": "s", "supplier_id": "p",
              "pseudonym": pseudonym, "attributes": ["role"], "protocol": "oidc"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev}|{canonical}".encode()).hexdigest()


def test_the_one_chain_of_an_older_registry_becomes_chain_one(pg_url: str) -> None:
    """A registry from before the chains (0007) with rows: after the upgrade its rows verify
    unchanged, and two instances go on appending beside them."""
    upgrade_to(pg_url, "0007")
    prev = "0" * 64
    for seq in (1, 2, 3):
        at = f"2026-11-0{seq}T08:00:00.000000+00:00"
        row = _hash_before_chains(prev, seq, at, f"v1-{seq}")
        _pg(pg_url, "INSERT INTO ledger (seq, at, school_id, supplier_id, pseudonym, "
            "attributes, protocol, prev_hash, hash) VALUES (:seq, :at, 's', 'p', :p, "
            "'[\"role\"]', 'oidc', :prev, :hash)", seq=seq, at=at, p=f"v1-{seq}", prev=prev,
            hash=row)
        prev = row
    _pg(pg_url, "UPDATE ledger_checkpoint SET head_seq = 3, head_hash = :h", h=prev)
    upgraded, other = Registry(pg_url), Registry(pg_url)
    try:
        upgraded.upgrade()
        before = upgraded.ledger().verify()
        assert (before.ok, before.rows, before.chains) == (True, 3, 1), before
        assert _append_from([upgraded, other]) == []
        after = upgraded.ledger().verify()
        assert (after.ok, after.rows) == (True, 3 + 2 * THREADS * APPENDS), after
        assert _pg(pg_url, "SELECT min(seq) FROM ledger WHERE seq > 3") == [(4,)]  # numbers go on
        assert _pg(pg_url, "SELECT hash FROM ledger WHERE seq = 3") == [(prev,)]
    finally:
        upgraded.close()
        other.close()
