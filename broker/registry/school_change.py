"""Changing one registered school in place (the operator's school page): checked against the
other schools as an import checks a file, and recorded in the school's audit trail."""

from __future__ import annotations

from sqlalchemy import select

from broker.records import School
from broker.registry import audit, convert
from broker.registry.checks import Problems
from broker.registry.federation import Federation, check_hubs, check_school_clashes
from broker.registry.ledger import Chain
from broker.registry.models import SchoolRow

SOURCE = "the school's page"


def change(chain: Chain, school: School, by: str) -> bool:
    """Store `school` over its row in `chain`'s transaction; False if nothing changed.
    FederationError when it clashes with another school (two schools at one issuer no longer
    told apart, a `via` to no hub); ValueError for a school that is not registered."""
    rows = {row.id: row for row in chain.session.scalars(select(SchoolRow))}
    row = rows.get(school.id)
    if row is None:
        raise ValueError(f"no school {school.id!r} is registered")
    before = convert.school_record(row)
    problems = Problems(SOURCE)
    registered = {k: convert.school_record(v) for k, v in rows.items()}
    edited = Federation(schools=(school,), source=SOURCE)
    check_school_clashes(problems, edited, registered)
    check_hubs(problems, edited, registered)
    problems.raise_if_any()
    if not convert.assign(row, convert.school_values(school)):
        return False
    changed = audit.mapping_row(before, school, by)
    if changed is not None:
        chain.add(changed)
    return True
