"""The per-process record cache (broker/registry/cache.py): reads served from memory, a write
seen at once by the Registry that made it and, through the registry version, by the next read
(or within check_interval) of every other Registry on the database: another process."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update

from broker.records import AttributeRequest, Policy
from broker.registry import Federation, FederationError, Registry, cache, load_federation
from broker.registry.admins import Admins
from broker.registry.models import SchoolRow
from broker.upstream.oidc_kind import OidcSchool
from tests.registry.conftest import FEDERATION, REGENBOOG_IDP, REKENWONDERS_SP, write_federation
from tests.registry.helpers import sql

POLICY = ("regenboog", "rekenwonders")


class Statements:
    """Every SQL statement SQLite runs for one Registry (its version checks included)."""

    def __init__(self, registry: Registry) -> None:
        self.seen: list[str] = []
        engine = registry._db.engine  # white-box: trace the connections of this registry only
        event.listen(engine, "connect", self._connect)
        engine.dispose()  # connections opened from now on are traced

    def _connect(self, dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.set_trace_callback(self.seen.append)

    def selects(self, table: str) -> int:
        pattern = re.compile(rf"\bFROM\s+{table}\b")
        return sum(1 for s in self.seen if s.startswith("SELECT") and pattern.search(s))

    @property
    def version_checks(self) -> int:
        return self.selects("registry_version")

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture
def loaded(registry: Registry, federation_file: Path) -> Registry:
    registry.import_federation(load_federation(federation_file), key_version=1)
    return registry


@pytest.fixture
def other(loaded: Registry, registry_url: str) -> Iterator[Registry]:
    """A second Registry on the same database: what another broker process would have."""
    registry = Registry(registry_url)
    yield registry
    registry.close()


def version(url: str) -> int:
    (value,) = sql(url, "SELECT version FROM registry_version")[0]
    assert isinstance(value, int)
    return value


def suspended(registry: Registry) -> str | None:
    policy = registry.policy(*POLICY)
    assert policy is not None
    return policy.suspended_reason


READS = [
    ("school", ("regenboog",), "schools"),
    ("school_by_entity_id", (REGENBOOG_IDP,), "schools"),
    ("schools", (), "schools"),
    ("supplier", ("rekenwonders",), "suppliers"),
    ("supplier_by_entity_id", (REKENWONDERS_SP,), "suppliers"),
    ("supplier_by_client_id", ("taalapp",), "suppliers"),
    ("suppliers", (), "suppliers"),
    ("policy", POLICY, "release_policies"),
    # negative answers are cached too
    ("school", ("atlantis",), "schools"),
    ("school_by_entity_id", ("https://nowhere.example",), "schools"),
    ("supplier", ("nobody",), "suppliers"),
    ("supplier_by_entity_id", ("https://nobody.example",), "suppliers"),
    ("supplier_by_client_id", ("nobody",), "suppliers"),
    ("policy", ("regenboog", "taalapp"), "release_policies"),
]


def test_ten_reads_one_query(loaded: Registry) -> None:
    count = Statements(loaded)
    schools = [loaded.school("regenboog") for _ in range(10)]
    assert schools[0] is not None and all(s is schools[0] for s in schools)
    assert (count.selects("schools"), count.version_checks) == (1, 10)


@pytest.mark.parametrize(("method", "args", "table"), READS)
def test_every_read_is_cached(loaded: Registry, other: Registry, method: str,
                              args: tuple[str, ...], table: str) -> None:
    count = Statements(loaded)
    answers = [getattr(loaded, method)(*args) for _ in range(5)]
    assert (count.selects(table), count.version_checks) == (1, 5)
    assert all(a == getattr(other, method)(*args) for a in answers)


def test_lists_are_the_callers_own(loaded: Registry) -> None:
    loaded.schools().clear()
    loaded.suppliers().clear()
    assert len(loaded.schools()) == len(loaded.suppliers()) == 2


def test_consistent_checks_the_version_once(loaded: Registry) -> None:
    count = Statements(loaded)
    with loaded.consistent():
        for _ in range(10):
            for method, args, _table in READS:
                getattr(loaded, method)(*args)
        with loaded.consistent():  # nested: no new check
            loaded.school("regenboog")
    assert count.version_checks == 1
    assert len([s for s in count.seen if s.startswith("SELECT")]) == 1 + len(READS)
    loaded.school("regenboog")  # outside the block: checked again
    assert count.version_checks == 2


def test_consistent_is_per_thread(loaded: Registry, other: Registry) -> None:
    suspended(loaded)
    with loaded.consistent():
        other.suspend(*POLICY, "elsewhere")
        assert suspended(loaded) is None  # pinned in this thread ...
        seen: list[str | None] = []
        thread = threading.Thread(target=lambda: seen.append(suspended(loaded)))
        thread.start()
        thread.join()
        assert seen == ["elsewhere"]  # ... not in another


def test_a_write_here_is_seen_at_once(loaded: Registry, registry_url: str,
                                      federation_file: Path) -> None:
    """Whatever the check interval, and inside consistent() too."""
    here = Registry(registry_url, check_interval=3600)
    try:
        with here.consistent():
            assert suspended(here) is None
            here.suspend(*POLICY, "data leak reported")
            assert suspended(here) == "data leak reported"
        here.resume(*POLICY)
        assert suspended(here) is None
        policy = here.policy(*POLICY)
        assert policy is not None
        here.set_policy(dataclasses.replace(policy, attributes=frozenset({"role"})))
        assert here.policy(*POLICY) == dataclasses.replace(policy, attributes=frozenset({"role"}))
        assert here.school("regenboog") is not None and here.school("lyceum") is not None
        renamed = FEDERATION.replace("OBS De Regenboog", "OBS De Nieuwe Regenboog")
        (federation_file.parent / "renamed").mkdir()
        here.import_federation(load_federation(
            write_federation(federation_file.parent / "renamed", renamed)), key_version=1)
        assert [s.name for s in here.schools()] == ["Het Lyceum", "OBS De Nieuwe Regenboog"]
        regenboog = here.school_by_entity_id(REGENBOOG_IDP)
        assert regenboog is not None and regenboog.name == "OBS De Nieuwe Regenboog"
        ask = (AttributeRequest("email", "sends the teacher a report"),)
        Admins(here).set_requests("rekenwonders", ask)  # the admin portal's supplier write
        rekenwonders = here.supplier("rekenwonders")
        assert rekenwonders is not None and rekenwonders.requests == ask
        assert here.suppliers()[0].requests == ask
    finally:
        here.close()


def test_a_write_elsewhere_is_seen_by_the_next_read(loaded: Registry, other: Registry) -> None:
    """The default (check_interval 0): a suspension in another process refuses the next login."""
    lyceum = loaded.school("lyceum")
    assert lyceum is not None
    count = Statements(loaded)
    assert suspended(loaded) is None and loaded.school("new") is None
    other.suspend(*POLICY, "data leak reported")
    assert suspended(loaded) == "data leak reported"
    assert isinstance(lyceum.config, OidcSchool)
    added = dataclasses.replace(lyceum, id="new", name="Nieuw", config=dataclasses.replace(
        lyceum.config, issuer="https://login.nieuw.example"))  # one school per issuer
    other.import_federation(Federation(schools=(added,)), key_version=1)
    assert loaded.school("new") == added and added in loaded.schools()
    assert (count.selects("release_policies"), count.version_checks) == (2, 5)


def test_check_interval_bounds_what_another_process_sees(
        loaded: Registry, other: Registry, registry_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache, "monotonic", lambda: now[0])
    lazy = Registry(registry_url, check_interval=0.5)
    try:
        count = Statements(lazy)
        assert suspended(lazy) is None
        other.suspend(*POLICY, "data leak reported")
        now[0] += 0.4
        assert suspended(lazy) is None  # within the interval: not checked, still cached
        assert count.version_checks == 1
        now[0] += 0.1
        assert suspended(lazy) == "data leak reported"  # the interval is up: checked
        other.resume(*POLICY)
        lazy.refresh()  # or at once, on request
        assert suspended(lazy) is None
        other.suspend(*POLICY, "again")
        with lazy.consistent():  # and on entering a consistent() block
            assert suspended(lazy) == "again"
        assert count.version_checks == 4
    finally:
        lazy.close()


def test_check_interval_in_real_time(loaded: Registry, other: Registry,
                                     registry_url: str) -> None:
    lazy = Registry(registry_url, check_interval=0.2)
    try:
        assert suspended(lazy) is None
        other.suspend(*POLICY, "data leak reported")
        time.sleep(0.25)
        assert suspended(lazy) == "data leak reported"
    finally:
        lazy.close()


def test_negative_answers_are_invalidated(loaded: Registry, other: Registry) -> None:
    count = Statements(loaded)
    assert [loaded.policy("regenboog", "taalapp") for _ in range(3)] == [None] * 3
    assert count.selects("release_policies") == 1
    other.set_policy(Policy("regenboog", "taalapp", frozenset({"role"})))
    assert loaded.policy("regenboog", "taalapp") == Policy("regenboog", "taalapp",
                                                           frozenset({"role"}))


def test_negative_answers_are_bounded(loaded: Registry,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Their keys come from requests (school hints): a flood of them cannot fill memory."""
    monkeypatch.setattr(cache, "MAX_NEGATIVE", 3)
    count = Statements(loaded)
    names = [f"school-{n}" for n in range(5)] + ["x" * 2000]
    for _ in range(2):
        assert [loaded.school(name) for name in names] == [None] * len(names)
    assert count.selects("schools") == 3 + 2 * 3  # three cached; two and the long one not
    assert loaded.school("regenboog") is not None  # found records are still cached
    loaded.school("regenboog")
    assert count.selects("schools") == 3 + 2 * 3 + 1


@pytest.mark.parametrize("write", [
    lambda r: r.suspend(*POLICY, "data leak reported"),
    lambda r: r.suspend("regenboog", "taalapp", "not yet reviewed"),  # creates the policy
    lambda r: r.set_policy(Policy(*POLICY, frozenset({"role"}))),
    lambda r: r.import_federation(Federation(
        policies=(Policy("lyceum", "rekenwonders", frozenset({"role"})),)), key_version=1),
    lambda r: Admins(r).set_requests("taalapp", (AttributeRequest("role", "shows lessons"),)),
], ids=["suspend", "suspend-new", "set_policy", "import", "set_requests"])
def test_every_change_raises_the_version_once(loaded: Registry, registry_url: str,
                                              write: Any) -> None:
    before = version(registry_url)
    write(loaded)
    assert version(registry_url) == before + 1


def test_resume_and_bulk_statements_raise_the_version(loaded: Registry,
                                                      registry_url: str) -> None:
    loaded.suspend(*POLICY, "x")
    before = version(registry_url)
    loaded.resume(*POLICY)
    assert version(registry_url) == before + 1
    with loaded._db.write() as session:  # white-box: a bulk UPDATE, no row objects at all
        session.execute(update(SchoolRow).where(SchoolRow.id == "lyceum").values(place="Zeist"))
    assert version(registry_url) == before + 2
    lyceum = loaded.school("lyceum")
    assert lyceum is not None and lyceum.place == "Zeist"


def test_an_alias_is_seen_by_every_process_at_once(loaded: Registry, other: Registry,
                                                   registry_url: str) -> None:
    """Which anchors have an alias is cached: resolving any other anchor runs no query; a new
    alias raises the registry version, so another process resolves it at its next login."""
    assert other.resolve_anchor("b") == "b"
    count = Statements(other)
    assert [other.resolve_anchor(a) for a in ("b", "c", "d")] == ["b", "c", "d"]
    assert count.selects("aliases") == 0
    before = version(registry_url)
    loaded.add_alias("b", "a")
    assert version(registry_url) == before + 1
    assert other.resolve_anchor("b") == "a" and other.resolve_anchor("c") == "c"
    assert count.selects("aliases") == 2  # the anchors with an alias again, then b's


def test_what_changes_no_record_keeps_the_cache(loaded: Registry, registry_url: str,
                                                federation_file: Path) -> None:
    """The ledger, admin accounts, unchanged imports and failed writes."""
    before = version(registry_url)
    suspended(loaded)
    loaded.school("regenboog")
    count = Statements(loaded)  # (the writes below read rows themselves)
    loaded.import_federation(load_federation(federation_file), key_version=1)
    loaded.ledger().append(datetime.now(UTC), "regenboog", "rekenwonders", "v1-x", ["role"],
                           "saml")
    policy = loaded.policy(*POLICY)
    assert policy is not None
    loaded.set_policy(policy)
    loaded.resume(*POLICY)  # not suspended: nothing to do
    with pytest.raises(ValueError, match="unknown attributes"):
        Admins(loaded).set_requests("taalapp", (AttributeRequest("shoe_size", "fit"),))
    with pytest.raises(FederationError):
        loaded.import_federation(Federation(
            policies=(Policy("atlantis", "taalapp"),)), key_version=1)
    assert version(registry_url) == before
    count.clear()
    assert suspended(loaded) is None and loaded.school("regenboog") is not None
    assert (count.selects("release_policies"), count.selects("schools")) == (0, 0)
    assert count.version_checks == 2


def test_a_lost_version_row_comes_back(loaded: Registry, other: Registry,
                                       registry_url: str) -> None:
    sql(registry_url, "DELETE FROM registry_version")
    assert suspended(loaded) is None
    other.suspend(*POLICY, "data leak reported")
    assert version(registry_url) == 1
    assert suspended(loaded) == "data leak reported"


@pytest.mark.parametrize("seen_by", ["another thread's read", "a write here"])
def test_a_read_overtaken_by_a_write_is_not_stored(loaded: Registry, other: Registry,
                                                   seen_by: str) -> None:
    """A record read before the cache was emptied must not be stored after it: it would be
    served until the next write."""
    records = loaded._cache  # white-box: the race, made to happen on cue
    loads: list[str] = []

    def load() -> str:
        loads.append("read")
        if len(loads) == 1:  # this read is slow: meanwhile a write commits and is noticed
            if seen_by == "a write here":
                loaded.suspend(*POLICY, "meanwhile")
            else:
                other.suspend(*POLICY, "meanwhile")
                records.get(("another key",), lambda: "x")  # the other thread's version check
        return f"answer {len(loads)}"

    assert records.get(("test",), load) == "answer 1"
    assert records.get(("test",), load) == "answer 2"  # the stale answer was not stored
    assert records.get(("test",), load) == "answer 2"


def test_threads(loaded: Registry, registry_url: str) -> None:
    """Readers in several threads while this one writes: no errors, and the last write wins."""
    shared = Registry(registry_url, check_interval=3600)  # only its own writes invalidate
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                suspended(shared)
                shared.schools()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    try:
        for thread in readers:
            thread.start()
        for n in range(30):
            shared.suspend(*POLICY, f"reason {n}")
        stop.set()
        for thread in readers:
            thread.join()
        assert errors == []
        assert suspended(shared) == "reason 29"
    finally:
        stop.set()
        shared.close()


def test_check_interval_cannot_be_negative(registry_url: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        Registry(registry_url, check_interval=-1)
