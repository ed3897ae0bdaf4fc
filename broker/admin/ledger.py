"""The release ledger of one school: what went to which supplier, when (names, never values),
filtered by supplier and dates, and as CSV for the privacy officer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import request
from werkzeug.wrappers import Response

from broker.admin.base import bp, login_required, page, school_or_404, tr
from broker.records import School
from broker.registry import LedgerEntry
from broker.web.current import broker

PAGE_ROWS = 200
CSV_ROWS = 100_000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filters:
    supplier: str | None = None
    start: date | None = None
    end: date | None = None
    """Inclusive: the whole day."""

    def query(self) -> dict[str, str]:
        found = {"supplier": self.supplier or "", "from": self.start.isoformat()
                 if self.start else "", "to": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in found.items() if v}


def _date(value: str) -> date | None:
    value = value.strip()
    return date.fromisoformat(value) if value else None


def _filters(args: Mapping[str, str]) -> tuple[Filters, str | None]:
    """The filters in the query; unknown suppliers and bad dates give an error text."""
    supplier = args.get("supplier") or None
    if supplier is not None and broker().registry.supplier(supplier) is None:
        return Filters(), tr()["unknown_supplier"]
    try:
        filters = Filters(supplier, _date(args.get("from", "")), _date(args.get("to", "")))
    except ValueError:
        return Filters(supplier), tr()["bad_date"]
    if filters.start and filters.end and filters.end < filters.start:
        return Filters(supplier), tr()["bad_range"]
    return filters, None


def _entries(school: School, filters: Filters, limit: int) -> list[LedgerEntry]:
    since = datetime.combine(filters.start, time(), UTC) if filters.start else None
    until = (datetime.combine(filters.end + timedelta(days=1), time(), UTC)
             if filters.end else None)
    return broker().registry.ledger().entries(school.id, filters.supplier, since, until,
                                              limit=limit)


@bp.get("/schools/<school_id>/ledger")
@login_required
def ledger(school_id: str) -> Response:
    school = school_or_404(school_id)
    filters, error = _filters(request.args)
    entries = [] if error else _entries(school, filters, PAGE_ROWS + 1)
    names = {s.id: s.name for s in broker().registry.suppliers()}
    return page("admin/ledger.html", 400 if error else 200, school=school, filters=filters,
                error=error, entries=entries[:PAGE_ROWS], more=len(entries) > PAGE_ROWS,
                supplier_names=names)


def _cell(value: str) -> str:
    """A spreadsheet must not run a name as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA) else value


@bp.get("/schools/<school_id>/ledger.csv")
@login_required
def ledger_csv(school_id: str) -> Response:
    school = school_or_404(school_id)
    filters, error = _filters(request.args)
    if error:
        return page("admin/ledger.html", 400, school=school, filters=filters, error=error,
                    entries=[], more=False, supplier_names={})
    names = {s.id: s.name for s in broker().registry.suppliers()}
    rows = ((entry.at.astimezone(UTC).isoformat(timespec="seconds"), entry.school_id,
             entry.supplier_id, names.get(entry.supplier_id, ""), entry.pseudonym,
             " ".join(entry.attributes), entry.protocol)
            for entry in _entries(school, filters, CSV_ROWS))
    return csv_download(f"loper-ledger-{school.id}", ["time_utc", "school", "supplier",
                        "supplier_name", "pseudonym", "attributes", "protocol"], rows)


def csv_download(name: str, header: list[str], rows: Iterable[Iterable[str]]) -> Response:
    """A CSV attachment (UTF-8 with BOM, for spreadsheets) named `name`-<date>.csv."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
