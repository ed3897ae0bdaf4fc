"""The same registry, unchanged, on PostgreSQL: a real server the test session starts itself.

The server comes from the ``postgres_url`` fixture (tests/fixtures/postgres_server.py); each
test gets a database of its own (``pg_url`` in conftest.py), dropped (WITH FORCE) afterwards.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event, text

from broker.localtime import months
from broker.registry import FederationError, Registry, dump_federation, load_federation
from broker.registry.admin_links import AdminLinks, LinkRefused, new_token
from broker.registry.admins import Admins
from broker.registry.eck_ids import Outcome
from broker.registry.models import Base
from broker.registry.recovery_codes import RecoveryCodes
from broker.sealed import Sealer
from tests.registry.conftest import FEDERATION, write_federation


def test_models_match_the_migration(pg_registry: Registry, pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_federation(pg_registry: Registry, tmp_path: Path) -> None:
    federation = load_federation(write_federation(tmp_path, FEDERATION))
    pg_registry.import_federation(federation, key_version=1)
    exported = dump_federation(pg_registry.export_federation())
    assert pg_registry.import_federation(federation, key_version=2).changed == 0
    bad = FEDERATION.replace('school = "lyceum"', 'school = "x"').replace("Het ", "Het Oude ")
    (tmp_path / "bad").mkdir()
    with pytest.raises(FederationError):
        pg_registry.import_federation(load_federation(write_federation(tmp_path / "bad", bad)),
                                      key_version=1)
    assert dump_federation(pg_registry.export_federation()) == exported
    assert pg_registry.supplier_by_client_id("taalapp") is not None


def test_ledger(pg_registry: Registry, pg_url: str) -> None:
    other = Registry(pg_url)

    def write(target: Registry, worker: int) -> None:
        for i in range(20):
            target.ledger().append(datetime.now(UTC), "s", "p", f"v1-{worker}-{i}", ["role"],
                                   "oidc")

    threads = [threading.Thread(target=write, args=(pg_registry if n % 2 else other, n))
               for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    ledger = pg_registry.ledger()
    assert (ledger.verify().ok, ledger.verify().rows) == (True, 80)
    assert ledger.purge(ledger.entries("s", limit=100)[9].at) >= 1
    assert ledger.verify().ok
    engine = create_engine(pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE ledger SET pseudonym = 'x' WHERE seq = 75"))
    finally:
        engine.dispose()
    assert ledger.verify().problem == "row 75 was altered after it was written"


def test_record_cache_across_processes(pg_registry: Registry, pg_url: str,
                                       tmp_path: Path) -> None:
    """The registry version on PostgreSQL: a write by one Registry (process) is seen by the
    next read of another; a read-only workload asks only for the version."""
    pg_registry.import_federation(load_federation(write_federation(tmp_path, FEDERATION)),
                                  key_version=1)
    other = Registry(pg_url)
    try:
        policy = other.policy("regenboog", "rekenwonders")
        assert policy is not None and policy.suspended_reason is None
        assert other.school("atlantis") is None
        assert other.policy("regenboog", "rekenwonders") is policy  # from the cache
        pg_registry.suspend("regenboog", "rekenwonders", "data leak reported")
        policy = other.policy("regenboog", "rekenwonders")
        assert policy is not None and policy.suspended_reason == "data leak reported"
        with other.consistent():
            assert other.school("regenboog") is other.school("regenboog")
    finally:
        other.close()
    engine = create_engine(pg_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version FROM registry_version")).all() == [
                (3,)]  # 1, the import, the suspension
    finally:
        engine.dispose()


def test_a_warm_login_reads_nothing_and_appends_in_four_statements(
        pg_registry: Registry, tmp_path: Path) -> None:
    """What a login asks of the registry: cached reads run no statement (the version check is
    one driver-level SELECT); the ledger append claims a chain, numbers the row, moves the
    chain's head and inserts the row, in one transaction."""
    pg_registry.import_federation(load_federation(write_federation(tmp_path, FEDERATION)),
                                  key_version=1)
    reads = (lambda: pg_registry.school("lyceum"), lambda: pg_registry.supplier("taalapp"),
             lambda: pg_registry.policy("lyceum", "taalapp"),
             lambda: pg_registry.resolve_anchor("anchor-of-a-pupil"))
    for read in reads:
        read()  # warm
    seen: list[str] = []

    def ran(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split())[:40])

    event.listen(pg_registry._db.engine, "before_cursor_execute", ran)
    for read in reads:
        read()
    assert seen == []
    pg_registry.ledger().append(datetime.now(UTC), "lyceum", "taalapp", "v1-x", ["role"], "oidc")
    assert [s.split()[0] for s in seen] == ["SELECT", "SELECT", "UPDATE", "INSERT"], seen
    assert "nextval(" in seen[1], seen


def test_report_and_eck_ids(pg_registry: Registry, tmp_path: Path) -> None:
    """The privacy report's queries and linking by ECK iD, on PostgreSQL's own types."""
    text_ = FEDERATION.replace('place = "Utrecht"\n', 'place = "Utrecht"\nlink_by_eck_id = true\n'
                               ).replace("sso_lifetime = 28800\n",
                                         "sso_lifetime = 28800\nlink_by_eck_id = true\n")
    pg_registry.import_federation(load_federation(write_federation(tmp_path, text_)),
                                  key_version=1)
    at = datetime(2026, 3, 5, 12, tzinfo=UTC)
    for name, names in (("v1-a", ["role"]), ("v1-a", ["given_name"]), ("v1-b", ["role"])):
        pg_registry.ledger().append(at, "regenboog", "taalapp", name, names, "oidc")
    [march] = [line for line in pg_registry.monthly_report("regenboog", months(2026))]
    assert (march.month.isoformat(), march.people, march.logins, march.attributes) == (
        "2026-03-01", 2, 3, ("given_name", "role"))
    eck_ids = pg_registry.eck_ids()
    first = eck_ids.arrive("h" * 64, "regenboog", True, "anchor-old", at)
    moved = eck_ids.arrive("h" * 64, "lyceum", True, "anchor-new", at)
    assert (first.outcome, moved.outcome) == (Outcome.KNOWN, Outcome.LINKED)
    assert pg_registry.resolve_anchor("anchor-new") == "anchor-old"
    assert eck_ids.arrive("h" * 64, "lyceum", True, "anchor-other", at).outcome is (
        Outcome.CLAIMED_TWICE)


def test_admin_links_and_recovery_codes(pg_registry: Registry, tmp_path: Path) -> None:
    pg_registry.import_federation(load_federation(write_federation(tmp_path, FEDERATION)),
                                  key_version=1)
    school = pg_registry.schools()[0].id
    accounts = Admins(pg_registry, Sealer(Fernet.generate_key()))
    links = AdminLinks(accounts)
    token = new_token()
    links.invite(token, "new@school.example", school, by="operator@loper.example", ttl=60)
    admin = links.accept(token, "a long enough password")
    with pytest.raises(LinkRefused, match="used"):
        links.accept(token, "a long enough password")
    accounts.set_totp(admin.id, "JBSWY3DPEHPK3PXP", by=admin.email)
    assert accounts.totp_secret(admin.id) == "JBSWY3DPEHPK3PXP"
    codes = RecoveryCodes(accounts)
    first = codes.replace(admin.id, by=admin.email)[0]
    assert codes.use(admin.id, first) and not codes.use(admin.id, first)
    assert codes.left(admin.id) == 9
    assert pg_registry.ledger().verify().ok
