"""The privacy officer's report: per supplier per month, how many people logged in (distinct
pseudonyms) and which attributes were sent, read from the release ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, cast, func, select

from broker.jsonvalue import loads
from broker.registry.db import Database
from broker.registry.ledger import RELEASE
from broker.registry.models import LedgerEntryRow


@dataclass(frozen=True)
class SupplierMonth:
    month: date
    """The month's first day."""
    supplier_id: str
    people: int
    """Distinct pseudonyms: the people who logged in (every supplier has its own)."""
    logins: int
    attributes: tuple[str, ...]
    """Every attribute name sent to the supplier that month, sorted."""


def monthly(db: Database, school_id: str,
            months: list[tuple[date, datetime, datetime]]) -> list[SupplierMonth]:
    """One line per supplier with releases in each (first day, start, end) month; `end`
    exclusive, in any time zone."""
    found: list[SupplierMonth] = []
    row = LedgerEntryRow
    with db.read() as session:
        for month, start, end in months:
            within = (row.school_id == school_id, row.kind == RELEASE, row.at >= start,
                      row.at < end)
            counts = session.execute(
                select(row.supplier_id, func.count(func.distinct(row.pseudonym)), func.count())
                .where(*within).group_by(row.supplier_id).order_by(row.supplier_id)).all()
            if not counts:
                continue
            names: dict[str, set[str]] = {}
            for supplier_id, sent in session.execute(
                    select(row.supplier_id, cast(row.attributes, String)).where(*within)
                    .distinct()):
                listed = loads(sent)
                names.setdefault(supplier_id, set()).update(
                    name for name in (listed if isinstance(listed, list) else ())
                    if isinstance(name, str))
            found.extend(SupplierMonth(month, supplier_id, people, logins,
                                       tuple(sorted(names.get(supplier_id, ()))))
                         for supplier_id, people, logins in counts)
    return found
