"""Queries on the registry: schools, suppliers, release policies, aliases, federation import.

Every read is one simple query and returns the frozen records of broker/records.py; schools,
suppliers and policies are cached per process (cache.py) and usually need no query at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from broker import attributes
from broker.records import Behind, Policy, School, Supplier
from broker.registry import (
    aliases,
    audit,
    convert,
    importing,
    release_entries,
    report,
    school_change,
    source_store,
    sql_door,
)
from broker.registry.cache import RecordCache
from broker.registry.db import Database, RegistryUnavailable
from broker.registry.eck_cache import ArrivalCache
from broker.registry.eck_ids import EckIds
from broker.registry.federation import (
    Federation,
)
from broker.registry.importing import ImportSummary
from broker.registry.ledger import Ledger
from broker.registry.models import ReleasePolicyRow, SchoolRow, SupplierRow
from broker.registry.report import SupplierMonth

T = TypeVar("T")
Row = TypeVar("Row")
_ALL_SCHOOLS = select(SchoolRow).order_by(SchoolRow.name, SchoolRow.id)
_SCHOOL_NAMES = select(SchoolRow.id, SchoolRow.name, SchoolRow.place,
                       sql_door.json_flag(SchoolRow.config, "hub")).order_by(SchoolRow.name,
                                                                            SchoolRow.id)
"""Every school with its hub flag (a JSON field), by name."""
_ALL_SUPPLIERS = select(SupplierRow).order_by(SupplierRow.name, SupplierRow.id)
_SUPPLIER_KEYS = {"entity_id": SupplierRow.entity_id, "client_id": SupplierRow.client_id}
"""The unique columns a supplier is looked up by."""


class Registry:
    """Schools, suppliers and policies are read through a per-process cache (cache.py): each
    read checks the registry version first (one tiny query), or with `check_interval` > 0 at
    most once per that many seconds; this object's own writes are seen by it at once."""

    def __init__(self, url: str, *, check_interval: float = 0.0) -> None:
        self._db = Database(url)
        self._ledger = Ledger(self._db)
        self._cache = RecordCache(self._db, check_interval)
        self._arrivals = ArrivalCache(self._cache)

    def upgrade(self) -> None:
        """Create the schema or bring it to the newest version; safe to repeat."""
        self._db.upgrade()
        self._cache.invalidate()

    def exists(self) -> bool:
        return self._db.exists()

    def check(self) -> dict[str, object]:
        self._db.check_disk()
        with self._db.read() as session:
            schools = session.scalar(select(func.count()).select_from(SchoolRow))
            suppliers = session.scalar(select(func.count()).select_from(SupplierRow))
        return {"ok": True, "schools": schools, "suppliers": suppliers}

    def close(self) -> None:
        self._db.close()

    def ledger(self) -> Ledger:
        return self._ledger

    def metadata_sources(self) -> source_store.MetadataSources:
        return source_store.MetadataSources(self._db)

    def monthly_report(self, school_id: str,
                       months: list[tuple[date, datetime, datetime]]) -> list[SupplierMonth]:
        """Per supplier per month: people, logins, attribute names (registry/report.py)."""
        return report.monthly(self._db, school_id, months)

    # The cache

    def consistent(self) -> AbstractContextManager[None]:
        """`with registry.consistent():` checks the registry version once, then serves every
        cached read of this thread inside the block from the cache (e.g. one per request)."""
        return self._cache.consistent()

    def refresh(self) -> None:
        """Forget every cached record now (the next read asks the database)."""
        self._cache.invalidate()

    def _cached(self, key: tuple[str, ...], find: Callable[[Session], Row | None],
                record: Callable[[Row], T]) -> T | None:
        def load() -> T | None:
            with self._db.read() as session:
                row = find(session)
                return record(row) if row is not None else None
        return self._cache.get(key, load)

    def _cached_all(self, key: str, query: Select[Row],
                    record: Callable[[Row], T]) -> list[T]:
        def load() -> tuple[T, ...]:
            with self._db.read() as session:
                return tuple(record(row) for row in session.scalars(query))
        return list(self._cache.get((key,), load))

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """A value computed from cached records (e.g. the picker's search index), kept with
        them: built again only after the registry version moved."""
        return self._cache.get(("derived", name), build)

    def school_names(self) -> list[tuple[str, str, str | None]]:
        """(id, name, place) of every school a pupil picks (hubs left out), by name: what the
        school picker searches, read without building every school's record."""
        with self._db.read() as session:
            return [(row[0], row[1], row[2]) for row in session.execute(_SCHOOL_NAMES)
                    if not row[3]]

    # Schools and suppliers

    def school(self, school_id: str) -> School | None:
        return self._cached(("school", school_id), lambda s: s.get(SchoolRow, school_id),
                            convert.school_record)

    def schools(self) -> list[School]:
        """Sorted by name."""
        return self._cached_all("schools", _ALL_SCHOOLS, convert.school_record)

    def schools_behind(self, hub_id: str) -> list[School]:
        """The schools that log in through the hub `hub_id`, sorted by name: what a hub's
        answer is matched against, without building every school's record."""
        query = _ALL_SCHOOLS.where(SchoolRow.protocol == Behind.protocol,
                                   sql_door.json_text(SchoolRow.config, "via") == hub_id)
        return self._cached_all(f"behind {hub_id}", query, convert.school_record)

    def each_school(self) -> Iterator[School]:
        """Every school, by name, one at a time and kept nowhere: for a value derived from all
        of them (derived()), in the memory of a few hundred records instead of all of them."""
        with self._db.read() as session:
            for row in session.scalars(_ALL_SCHOOLS.execution_options(yield_per=500)):
                yield convert.school_record(row)

    def school_by_entity_id(self, entity_id: str) -> School | None:
        return self._cached(
            ("school entity_id", entity_id),
            lambda s: s.scalar(select(SchoolRow).where(SchoolRow.entity_id == entity_id)),
            convert.school_record)

    def supplier(self, supplier_id: str) -> Supplier | None:
        return self._cached(("supplier", supplier_id), lambda s: s.get(SupplierRow, supplier_id),
                            convert.supplier_record)

    def suppliers(self) -> list[Supplier]:
        """Sorted by name."""
        return self._cached_all("suppliers", _ALL_SUPPLIERS, convert.supplier_record)

    def supplier_by_entity_id(self, entity_id: str) -> Supplier | None:
        return self._supplier_where("entity_id", entity_id)

    def supplier_by_client_id(self, client_id: str) -> Supplier | None:
        return self._supplier_where("client_id", client_id)

    def _supplier_where(self, column: str, value: str) -> Supplier | None:
        return self._cached((f"supplier {column}", value), lambda s: s.scalar(
            select(SupplierRow).where(_SUPPLIER_KEYS[column] == value)),
            convert.supplier_record)

    # Release policies

    def policy(self, school_id: str, supplier_id: str) -> Policy | None:
        return self._cached(("policy", school_id, supplier_id),
                            lambda s: s.get(ReleasePolicyRow, (school_id, supplier_id)),
                            convert.policy_record)

    def policies(self, school_id: str | None = None, *,
                 supplier_id: str | None = None) -> list[Policy]:
        query = select(ReleasePolicyRow).order_by(ReleasePolicyRow.school_id,
                                                  ReleasePolicyRow.supplier_id)
        if school_id is not None:
            query = query.where(ReleasePolicyRow.school_id == school_id)
        if supplier_id is not None:
            query = query.where(ReleasePolicyRow.supplier_id == supplier_id)
        with self._db.read() as session:
            return [convert.policy_record(row) for row in session.scalars(query)]

    def _change_policy(self, school_id: str, supplier_id: str,
                       change: release_entries.Change, by: str,
                       reason: str | None = None) -> None:
        with self._ledger.writing() as chain:
            release_entries.write(chain, school_id, supplier_id, change, by, reason)

    def set_policy(self, policy: Policy, *, by: str = audit.COMMAND_LINE,
                   if_current: Callable[[Policy | None], bool] | None = None) -> None:
        """Store the release entry as given (its `active` included; not `activated_once`);
        `if_current`: release_entries.replaced_by."""
        unknown = (policy.attributes.union(*policy.by_role.values())) - attributes.NAMES
        if unknown:
            raise ValueError("unknown attributes: " + ", ".join(sorted(unknown)))
        self._change_policy(policy.school_id, policy.supplier_id,
                            release_entries.replaced_by(policy, if_current), by)

    def activate(self, school_id: str, supplier_id: str, *, agreement: str | None,
                 valid_until: date | None, by: str = audit.COMMAND_LINE) -> None:
        self._change_policy(school_id, supplier_id, release_entries.activated(
            school_id, supplier_id, agreement, valid_until), by)

    def deactivate(self, school_id: str, supplier_id: str, *, reason: str | None = None,
                   by: str = audit.COMMAND_LINE) -> None:
        self._change_policy(school_id, supplier_id, release_entries.deactivated, by, reason)

    def suspend(self, school_id: str, supplier_id: str, reason: str, *,
                by: str = audit.COMMAND_LINE) -> None:
        self._change_policy(school_id, supplier_id,
                            release_entries.suspended(school_id, supplier_id, reason), by, reason)

    def resume(self, school_id: str, supplier_id: str, *, by: str = audit.COMMAND_LINE) -> None:
        self._change_policy(school_id, supplier_id, release_entries.resumed, by)

    def audit_trail(self) -> audit.AuditTrail:
        return audit.AuditTrail(self._db)

    # The federation file

    def import_federation(self, federation: Federation, *, key_version: int,
                          by: str = audit.COMMAND_LINE) -> ImportSummary:
        """Add or update (by id) in one transaction; on any problem nothing changes. Each
        release entry activates its pair; changed entries are recorded in the audit trail.

        New suppliers are pinned to `key_version` (or the file's key_version); suppliers
        already registered keep theirs.
        """
        with self._ledger.writing() as chain:
            return importing.import_federation(chain, federation, key_version, by)

    def change_school(self, school: School, *, by: str = audit.COMMAND_LINE) -> bool:
        """Store a registered school as given, after the checks an import makes against the
        other schools (FederationError), with an audit row when how its answers are read
        changed. False if nothing changed."""
        with self._ledger.writing() as chain:
            return school_change.change(chain, school, by)

    def export_federation(self) -> Federation:
        with self._db.read() as session:
            schools = session.scalars(select(SchoolRow).order_by(SchoolRow.id))
            suppliers = session.scalars(select(SupplierRow).order_by(SupplierRow.id))
            policies = session.scalars(select(ReleasePolicyRow).order_by(
                ReleasePolicyRow.school_id, ReleasePolicyRow.supplier_id))
            return Federation(schools=tuple(convert.school_record(r) for r in schools),
                              suppliers=tuple(convert.supplier_record(r) for r in suppliers),
                              policies=tuple(convert.policy_record(r) for r in policies),
                              source="the registry",
                              metadata_sources=source_store.export(session))

    # Aliases: a pupil's new identity linked to their existing anchor

    def resolve_anchor(self, anchor: str) -> str:
        """The anchor this one is an alias of, or itself; a query only for an anchor that may
        have an alias (the cache knows the hashes of those that do)."""
        if hash(anchor) not in self._cache.get(("alias hashes",), self._alias_hashes):
            return anchor
        with self._db.read() as session:
            return aliases.resolve(session, anchor)

    def _alias_hashes(self) -> frozenset[int]:
        with self._db.read() as session:
            return aliases.hashes(session)

    def alias_of(self, anchor: str, school_id: str | None = None) -> aliases.Linked | None:
        """What the identity `anchor` (at `school_id`) is linked to now, if it is an alias:
        the anchor, and the school, time and actor of the link where its audit row says."""
        with self._db.read() as session:
            return aliases.described(session, school_id, anchor)

    def add_alias(self, anchor: str, target_anchor: str, *, school: str | None = None,
                  other_school: str | None = None, by: str = audit.COMMAND_LINE,
                  replace: bool = False) -> str | None:
        """Make `anchor` resolve to `target_anchor` (itself resolved first: one hop, always);
        recorded in the audit trails of `school` and `other_school` (those of the two
        identities). Returns what `anchor` was linked to before (None: nothing). An anchor
        linked to another identity already is re-pointed only with `replace` (else
        AlreadyLinked); ValueError for a cycle."""
        try:
            [was] = self.add_aliases([aliases.Link(anchor, target_anchor, school, other_school)],
                                     by=by, replace=replace)
        except aliases.AlreadyLinked:
            raise
        except aliases.LinkRefused as exc:
            raise ValueError(exc.reason) from exc
        return was

    def add_aliases(self, links: Sequence[aliases.Link], *, by: str = audit.COMMAND_LINE,
                    replace: bool = False) -> list[str | None]:
        """Each link in turn, in one transaction with its audit rows in the trails of its two
        schools: all or nothing. LinkRefused names the link that would make a cycle, and
        AlreadyLinked one that would re-point an identity linked to another one already
        (unless `replace`); a link that is there already changes nothing and writes no row.
        Returns what each anchor was linked to before."""
        with self._ledger.writing() as chain:
            return aliases.link_all(chain, links, by=by, replace=replace)

    def record_alias_event(self, event: aliases.AliasEvent) -> None:
        """A link Loper made or refused by itself (by ECK iD, as a pupil arrived), in the
        school's audit trail and the log."""
        aliases.record(event)
        with self._ledger.writing() as chain:
            chain.add(aliases.event_row(event))

    def eck_ids(self) -> EckIds:
        return EckIds(self._db, self._arrivals)

__all__ = ["ImportSummary", "Registry", "RegistryUnavailable"]
