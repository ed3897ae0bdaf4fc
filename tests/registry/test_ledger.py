"""The release ledger: append, verify (tampering shows), entries, purge, concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from broker.registry import Ledger, Registry
from tests.registry.helpers import sql

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _fill(ledger: Ledger, n: int = 5) -> None:
    for i in range(n):
        ledger.append(T0 + timedelta(hours=i), "regenboog", "rekenwonders" if i % 2 else "taalapp",
                      f"v1-pseudonym{i}", ["role", "given_name"], "saml")


@pytest.fixture
def ledger(registry: Registry) -> Ledger:
    ledger = registry.ledger()
    _fill(ledger)
    return ledger


def test_append_and_verify(ledger: Ledger) -> None:
    assert ledger.verify() == (result := ledger.verify())
    assert (result.ok, result.rows, result.problem) == (True, 5, None)


def test_empty_ledger_verifies(registry: Registry) -> None:
    assert registry.ledger().verify().ok and registry.ledger().verify().rows == 0


def test_times_must_be_aware(registry: Registry) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        registry.ledger().append(datetime(2025, 1, 1), "s", "p", "v1-x", [], "oidc")


def test_entries(ledger: Ledger, registry: Registry) -> None:
    ledger.append(T0, "lyceum", "taalapp", "v1-other", ["email"], "oidc")
    entries = ledger.entries("regenboog")
    assert [e.seq for e in entries] == [5, 4, 3, 2, 1]  # newest first
    assert entries[0].attributes == ("given_name", "role") and entries[0].at == T0 + timedelta(
        hours=4)
    assert [e.seq for e in ledger.entries("regenboog", "rekenwonders")] == [4, 2]
    amsterdam = timezone(timedelta(hours=1))
    since = (T0 + timedelta(hours=1)).astimezone(amsterdam)
    assert [e.seq for e in ledger.entries("regenboog", since=since,
                                          until=T0 + timedelta(hours=3))] == [3, 2]
    assert [e.seq for e in ledger.entries("regenboog", limit=2)] == [5, 4]
    assert [e.pseudonym for e in ledger.entries("lyceum")] == ["v1-other"]


@pytest.mark.parametrize(("tamper", "says"), [
    ("UPDATE ledger SET pseudonym = 'v1-someone-else' WHERE seq = 3", "row 3 was altered"),
    ("UPDATE ledger SET attributes = '[\"eck_id\"]' WHERE seq = 2", "row 2 was altered"),
    ("UPDATE ledger SET at = '2030-01-01 00:00:00.000000' WHERE seq = 4", "row 4 was altered"),
    ("DELETE FROM ledger WHERE seq = 3", "row 4 follows row 2"),
    ("DELETE FROM ledger WHERE seq = 1", "row 2 follows row 0"),
    ("DELETE FROM ledger WHERE seq = 5", "the chain ends at row 4"),
    # renumbered: the rows keep their places in the chain, and their numbers are hashed
    ("UPDATE ledger SET seq = -seq WHERE seq IN (2, 3); UPDATE ledger SET seq = 5 + seq "
     "WHERE seq < 0", "row 3 was altered"),
    ("UPDATE ledger SET link = -link WHERE seq IN (2, 3); UPDATE ledger SET link = 5 + link "
     "WHERE link < 0", "row 3 does not link to the row before it"),
    ("UPDATE ledger SET hash = 'x', prev_hash = 'y' WHERE seq = 5", "row 5 does not link"),
])
def test_tampering_is_detected(ledger: Ledger, registry_url: str, tamper: str,
                               says: str) -> None:
    sql(registry_url, tamper)
    result = ledger.verify()
    assert not result.ok and result.problem is not None and says in result.problem


def test_purge_keeps_the_chain_verifiable(ledger: Ledger, registry_url: str) -> None:
    assert ledger.purge(T0 + timedelta(hours=2)) == 2
    assert ledger.purge(T0 + timedelta(hours=2)) == 0
    result = ledger.verify()
    assert (result.ok, result.rows) == (True, 3)
    assert [e.seq for e in ledger.entries("regenboog")] == [5, 4, 3]
    ledger.append(T0 + timedelta(days=1), "regenboog", "taalapp", "v1-new", ["role"], "oidc")
    assert ledger.verify().ok and ledger.verify().rows == 4
    sql(registry_url, "UPDATE ledger SET pseudonym = 'x' WHERE seq = 4")
    assert ledger.verify().problem == "row 4 was altered after it was written"


def test_purge_stops_at_the_first_newer_row(registry: Registry) -> None:
    """Rows after a newer one stay, so what remains is still one unbroken chain."""
    ledger = registry.ledger()
    for hours in (0, 5, 1, 2):
        ledger.append(T0 + timedelta(hours=hours), "s", "p", "v1-x", [], "oidc")
    assert ledger.purge(T0 + timedelta(hours=3)) == 1
    assert ledger.verify().ok and ledger.verify().rows == 3


def test_purge_everything_then_continue(ledger: Ledger, registry_url: str) -> None:
    assert ledger.purge(T0 + timedelta(days=365)) == 5
    assert ledger.verify().ok and ledger.verify().rows == 0
    ledger.append(T0, "regenboog", "taalapp", "v1-x", [], "oidc")
    assert ledger.verify().ok and ledger.verify().rows == 1
    sql(registry_url, "DELETE FROM ledger")
    assert "the chain ends at row 5" in (ledger.verify().problem or "")


def test_deleting_the_first_row_after_a_purge_shows(ledger: Ledger, registry_url: str) -> None:
    ledger.purge(T0 + timedelta(hours=2))
    sql(registry_url, "DELETE FROM ledger WHERE seq = 3")
    assert ledger.verify().problem == "row 4 follows row 2: rows are missing or reordered"


def test_concurrent_writers(registry: Registry, registry_url: str) -> None:
    """Two registries (as two processes would) and several threads append at once."""
    other = Registry(registry_url)
    errors: list[Exception] = []

    def write(target: Registry, worker: int) -> None:
        try:
            for i in range(25):
                target.ledger().append(datetime.now(UTC), "s", "p", f"v1-{worker}-{i}", ["role"],
                                       "saml")
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(registry if n % 2 else other, n))
               for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    assert errors == []
    result = registry.ledger().verify()
    assert (result.ok, result.rows) == (True, 150)
