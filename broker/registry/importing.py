"""The federation import: a federation file's schools, suppliers and release entries added to
the registry or updated (by id), in the caller's transaction, after every check passed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import localtime, mapping
from broker.messages import Message, msg
from broker.records import Supplier
from broker.registry import audit, convert, release_entries, source_store
from broker.registry.checks import Problems
from broker.registry.convert import upsert
from broker.registry.federation import (
    UNPINNED,
    Federation,
    check_hubs,
    check_school_clashes,
    check_supplier_clashes,
    release_label,
    supplier_label,
)
from broker.registry.ledger import Chain
from broker.registry.models import ReleasePolicyRow, SchoolRow, SupplierRow


@dataclass(frozen=True)
class ImportSummary:
    counts: Counter[str]
    """By "<kind> <outcome>", e.g. "schools added", "policies updated", "suppliers unchanged"."""

    def count(self, kind: str, outcome: str) -> int:
        return self.counts[f"{kind} {outcome}"]

    @property
    def changed(self) -> int:
        return sum(n for key, n in self.counts.items() if not key.endswith("unchanged"))

    def __str__(self) -> str:
        parts = []
        for kind in ("schools", "suppliers", "policies"):
            outcomes = ", ".join(f"{self.count(kind, o)} {o}"
                                 for o in ("added", "updated", "unchanged"))
            parts.append(f"{kind}: {outcomes}")
        return "; ".join(parts)


def _import_problems(federation: Federation, schools: dict[str, SchoolRow],
                     suppliers: dict[str, Supplier],
                     held: Mapping[tuple[str, str], ReleasePolicyRow | None]) -> Problems:
    problems = Problems(federation.source)
    today = localtime.today()
    for i, policy in enumerate(federation.policies):
        row = held.get((policy.school_id, policy.supplier_id))
        kept = row is not None and row.valid_until == policy.valid_until
        if policy.valid_until is not None and policy.valid_until < today and not kept:
            problems.add(release_label(i, policy), "valid_until",
                         msg("problem.valid_until_past", day=policy.valid_until.isoformat()))
    school_ids = schools.keys() | {s.id for s in federation.schools}
    supplier_ids = suppliers.keys() | {s.id for s in federation.suppliers}
    for i, policy in enumerate(federation.policies):
        for field, value, known in (("school", policy.school_id, school_ids),
                                    ("supplier", policy.supplier_id, supplier_ids)):
            if value not in known:
                problems.add(release_label(i, policy), field,
                             msg("problem.unknown_" + field, id=value[:80]))
    check_release_roles(problems, federation, schools)
    registered = {k: convert.school_record(v) for k, v in schools.items()}
    check_school_clashes(problems, federation, registered)
    check_hubs(problems, federation, registered)
    check_supplier_clashes(problems, federation, suppliers)
    for i, supplier in enumerate(federation.suppliers):
        pinned = suppliers.get(supplier.id)
        if pinned and supplier.key_version not in (UNPINNED, pinned.key_version):
            problems.add(supplier_label(i, supplier), "key_version",
                         msg("problem.key_version_pinned", value=supplier.key_version,
                             pinned=pinned.key_version))
    return problems


def check_release_roles(problems: Problems, federation: Federation,
                        schools: Mapping[str, SchoolRow]) -> None:
    """A release's `roles` names only roles a person of its school can have: Loper's
    (mapping.ROLES) and the school's `guardian_role` (the file's entry, else the registry's);
    any other key would be stored and never apply."""
    guardian = {k: row.guardian_role for k, row in schools.items()}
    guardian.update((school.id, school.guardian_role) for school in federation.schools)
    for i, policy in enumerate(federation.policies):
        if policy.school_id not in guardian:
            continue  # an unknown school, said already
        known = mapping.role_targets(guardian[policy.school_id])
        for role in sorted(policy.by_role):
            if role not in known:
                problems.add(release_label(i, policy), "roles",
                             msg("problem.not_a_role", role=role[:80], known=known))


def import_federation(chain: Chain, federation: Federation, key_version: int,
                      by: str) -> ImportSummary:
    """Add or update (by id); on any problem (FederationError) nothing is written. Each
    release entry activates its pair (and so marks it activated once: release_entries.write);
    changed entries are recorded in the audit trail.
    New suppliers are pinned to `key_version` (or the file's); registered ones keep theirs."""
    session, counts = chain.session, Counter[str]()
    schools = {row.id: row for row in session.scalars(select(SchoolRow))}
    supplier_rows = {row.id: row for row in session.scalars(select(SupplierRow))}
    suppliers = {k: convert.supplier_record(v) for k, v in supplier_rows.items()}
    held = {(p.school_id, p.supplier_id): session.get(
        ReleasePolicyRow, (p.school_id, p.supplier_id)) for p in federation.policies}
    _import_problems(federation, schools, suppliers, held).raise_if_any()
    _schools(chain, federation, schools, by, counts)
    _suppliers(session, federation, supplier_rows, key_version, counts)
    source_store.save(session, federation.metadata_sources, datetime.now(UTC))
    session.flush()
    for policy in federation.policies:
        outcome = release_entries.write(chain, policy.school_id, policy.supplier_id,
                                        release_entries.replaced_by(policy), by,
                                        _imported(federation))
        counts[f"policies {outcome}"] += 1
    return ImportSummary(counts)


def _imported(federation: Federation) -> Message:
    """The audit reason of every change an import makes, in the reader's language."""
    return msg("audit.federation_import", source=federation.source)


def _schools(chain: Chain, federation: Federation, rows: Mapping[str, SchoolRow], by: str,
             counts: Counter[str]) -> None:
    """Each school added or updated; a change of how its answers are read is audited."""
    for school in federation.schools:
        row = rows.get(school.id)
        changed = audit.mapping_row(convert.school_record(row), school, by,
                                    _imported(federation)) if row is not None else None
        outcome = upsert(chain.session, row, SchoolRow, convert.school_values(school))
        counts[f"schools {outcome}"] += 1
        if changed is not None:
            chain.add(changed)


def _suppliers(session: Session, federation: Federation, rows: Mapping[str, SupplierRow],
               key_version: int, counts: Counter[str]) -> None:
    """Each supplier added or updated, pinned to its key version."""
    for supplier in federation.suppliers:
        registered = rows.get(supplier.id)
        pinned = registered.key_version if registered else (
            supplier.key_version or key_version)
        values = convert.supplier_values(dataclasses.replace(supplier, key_version=pinned))
        outcome = upsert(session, registered, SupplierRow, values)
        counts[f"suppliers {outcome}"] += 1
