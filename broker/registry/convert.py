"""Rows <-> the frozen records of broker/records.py. Nothing outside the package sees a row."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from broker.records import (
    AttributeRequest,
    OidcSchool,
    OidcSupplier,
    Policy,
    SamlSchool,
    SamlSupplier,
    School,
    Supplier,
)
from broker.registry.models import ReleasePolicyRow, SchoolRow, SupplierRow

R = TypeVar("R")


def _config(record: object | None, *columns: str) -> dict[str, Any]:
    """A protocol record's fields as JSON, except those kept in their own (indexed) columns."""
    if record is None:
        return {}
    values = dataclasses.asdict(record)  # type: ignore[call-overload]
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in values.items() if k not in columns}


def _build(kind: type[R], config: dict[str, Any], **columns: Any) -> R:
    names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in names}
    return kind(**values, **columns)


def school_values(school: School) -> dict[str, Any]:
    return {"id": school.id, "name": school.name, "protocol": school.protocol,
            "place": school.place, "sso_lifetime": school.sso_lifetime,
            "entity_id": school.saml.entity_id if school.saml else None,
            "config": _config(school.saml or school.oidc, "entity_id")}


def school_record(row: SchoolRow) -> School:
    saml = oidc = None
    if row.protocol == "saml":
        saml = _build(SamlSchool, row.config, entity_id=row.entity_id)
    else:
        oidc = _build(OidcSchool, row.config)
    return School(id=row.id, name=row.name, protocol=row.protocol, place=row.place,
                  saml=saml, oidc=oidc, sso_lifetime=row.sso_lifetime)


def supplier_values(supplier: Supplier) -> dict[str, Any]:
    return {"id": supplier.id, "name": supplier.name, "protocol": supplier.protocol,
            "sector": supplier.sector, "key_version": supplier.key_version, "url": supplier.url,
            "requests": [{"attribute": r.attribute, "why": r.why} for r in supplier.requests],
            "entity_id": supplier.saml.entity_id if supplier.saml else None,
            "client_id": supplier.oidc.client_id if supplier.oidc else None,
            "config": _config(supplier.saml or supplier.oidc, "entity_id", "client_id")}


def supplier_record(row: SupplierRow) -> Supplier:
    saml = oidc = None
    if row.protocol == "saml":
        saml = _build(SamlSupplier, row.config, entity_id=row.entity_id)
    else:
        oidc = _build(OidcSupplier, row.config, client_id=row.client_id)
    return Supplier(id=row.id, name=row.name, protocol=row.protocol, sector=row.sector,
                    key_version=row.key_version, url=row.url,
                    requests=tuple(AttributeRequest(**r) for r in row.requests),
                    saml=saml, oidc=oidc)


def policy_values(policy: Policy) -> dict[str, Any]:
    return {"school_id": policy.school_id, "supplier_id": policy.supplier_id,
            "attributes": sorted(policy.attributes),
            "by_role": {role: sorted(names) for role, names in sorted(policy.by_role.items())},
            "suspended_reason": policy.suspended_reason, "valid_until": policy.valid_until}


def policy_record(row: ReleasePolicyRow) -> Policy:
    return Policy(school_id=row.school_id, supplier_id=row.supplier_id,
                  attributes=frozenset(row.attributes),
                  by_role={role: frozenset(names) for role, names in row.by_role.items()},
                  suspended_reason=row.suspended_reason, valid_until=row.valid_until)


def assign(row: object, values: dict[str, Any]) -> bool:
    """Copy `values` onto an existing row; True if anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed
