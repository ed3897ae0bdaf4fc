"""Rows <-> the frozen records of broker/records.py. Nothing outside the package sees a row."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from broker import kinds
from broker.records import (
    AttributeRequest,
    Behind,
    Policy,
    School,
    SchoolConfig,
    Supplier,
    SupplierConfig,
)
from broker.registry import json_read
from broker.registry.config_fields import ConfigFields, field_value, field_values, plain
from broker.registry.models import Base, ReleasePolicyRow, SchoolRow, SupplierRow

SCHOOL_COMMON = ("place", "sso_lifetime", "link_by_eck_id", "privacy_contact", "guardian_role")
"""School fields of every protocol: a column each, named as in the record."""
SCHOOL_IN_CONFIG = ("claims", "roles", "default_role", "domains")
"""School fields of every protocol kept in the row's JSON `config` beside the kind's (no
column of their own): a school's own names for the vocabulary (broker/mapping.py)."""
SCHOOL_FLAGS = ("hub", "hint", "shared_devices")
"""School flags kept in the row's JSON `config` when true (no column of their own)."""
SCHOOL_COLUMNS = ("entity_id",)
SUPPLIER_IN_CONFIG = ("employee_acr",)
"""Supplier fields of every protocol kept in the row's JSON `config` beside the kind's."""
SUPPLIER_COLUMNS = ("entity_id", "client_id")
"""The indexed columns a kind may fill (ConfigFields.columns); the rest is JSON `config`."""


def _columns(names: tuple[str, ...], values: dict[str, object]) -> dict[str, object]:
    wrong = values.keys() - set(names)
    if wrong:
        raise ValueError(f"a protocol kind asks for columns the registry lacks: {sorted(wrong)}")
    return {name: values.get(name) for name in names}


def school_values(school: School) -> dict[str, object]:
    behind = school.behind
    columns: dict[str, object]
    config: dict[str, object]
    if behind is not None:  # no kind: its hub's fields are the hub's
        columns = {}
        config = {"via": behind.hub, "match": dict(behind.match)}
        if behind.hint_value:
            config["hint_value"] = behind.hint_value
    else:
        kind = kinds.upstream(school.protocol, f'school "{school.id}"')
        columns, config = kind.fields.row(school.config)
    fields = field_values(school)
    config = config | {flag: True for flag in SCHOOL_FLAGS if fields[flag]}
    return {"id": school.id, "name": school.name, "protocol": school.protocol,
            **{name: fields[name] for name in SCHOOL_COMMON},
            **_columns(SCHOOL_COLUMNS, columns),
            "config": config | {name: plain(fields[name]) for name in SCHOOL_IN_CONFIG
                                if fields[name] not in (None, ())}}


def school_record(row: SchoolRow) -> School:
    stored = row.config
    config: SchoolConfig
    if row.protocol == Behind.protocol:
        config = Behind(hub=json_read.text(stored, "via"),
                        match=json_read.table(stored, "match") or {},
                        hint_value=json_read.optional_text(stored, "hint_value"))
    else:
        kind = kinds.upstream(row.protocol, f'school "{row.id}" in the registry')
        config = kind.fields.record({"entity_id": row.entity_id}, stored)
    return School(id=row.id, name=row.name, config=config,
                  hub=json_read.flag(stored, "hub"), hint=json_read.flag(stored, "hint"),
                  shared_devices=json_read.flag(stored, "shared_devices"),
                  place=row.place, sso_lifetime=row.sso_lifetime,
                  link_by_eck_id=row.link_by_eck_id, privacy_contact=row.privacy_contact,
                  guardian_role=row.guardian_role,
                  claims=json_read.table(stored, "claims"),
                  roles=json_read.table(stored, "roles"),
                  default_role=json_read.optional_text(stored, "default_role"),
                  domains=json_read.texts(stored, "domains"))


def supplier_values(supplier: Supplier) -> dict[str, object]:
    kind = kinds.downstream(supplier.protocol, f'supplier "{supplier.id}"')
    columns, config = kind.fields.row(supplier.config)
    fields = field_values(supplier)
    return {"id": supplier.id, "name": supplier.name, "protocol": supplier.protocol,
            "sector": supplier.sector, "key_version": supplier.key_version, "url": supplier.url,
            "requests": [r.fields() for r in supplier.requests],
            **_columns(SUPPLIER_COLUMNS, columns),
            "config": config | {name: fields[name] for name in SUPPLIER_IN_CONFIG
                                if fields[name] is not None}}


def supplier_record(row: SupplierRow) -> Supplier:
    kind = kinds.downstream(row.protocol, f'supplier "{row.id}" in the registry')
    # A supplier's kind makes SupplierConfigs (the table types each kind's config class Any).
    fields: ConfigFields[SupplierConfig] = kind.fields
    config = fields.record(
        {"entity_id": row.entity_id, "client_id": row.client_id}, row.config)
    return Supplier(id=row.id, name=row.name, config=config, sector=row.sector,
                    key_version=row.key_version, url=row.url,
                    requests=tuple(AttributeRequest.of(r) for r in row.requests),
                    employee_acr=json_read.optional_text(row.config, "employee_acr"))


def policy_values(policy: Policy) -> dict[str, object]:
    return {"school_id": policy.school_id, "supplier_id": policy.supplier_id,
            "attributes": sorted(policy.attributes),
            "by_role": {role: sorted(names) for role, names in sorted(policy.by_role.items())},
            "suspended_reason": policy.suspended_reason, "valid_until": policy.valid_until,
            "agreement": policy.agreement, "active": policy.active,
            "activated_once": policy.activated_once}


def policy_record(row: ReleasePolicyRow) -> Policy:
    return Policy(school_id=row.school_id, supplier_id=row.supplier_id,
                  attributes=frozenset(row.attributes),
                  by_role={role: frozenset(names) for role, names in row.by_role.items()},
                  suspended_reason=row.suspended_reason, valid_until=row.valid_until,
                  agreement=row.agreement, active=row.active,
                  activated_once=row.activated_once)


def upsert(session: Session, row: object, kind: type[Base], values: Mapping[str, object]) -> str:
    """Add a `kind` row with `values`, or assign them to `row`: "added", "updated" or
    "unchanged"."""
    if row is None:
        session.add(kind(**values))
        return "added"
    return "updated" if assign(row, values) else "unchanged"


def assign(row: object, values: Mapping[str, object]) -> bool:
    """Copy `values` onto an existing row; True if anything changed."""
    changed = False
    for key, value in values.items():
        if field_value(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed
