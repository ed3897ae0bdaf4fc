"""The release ledger of one school: what went to which supplier, when (names, never values),
filtered by supplier and dates, and as CSV for the privacy officer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain

from flask import request
from werkzeug.wrappers import Response

from broker import localtime
from broker.admin.base import bp, login_required, page, school_or_404
from broker.records import School
from broker.registry import LedgerEntry
from broker.web.current import broker
from broker.web.i18n import text

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

    def span(self) -> tuple[datetime | None, datetime | None]:
        """From the start of the first day (inclusive) to the end of the last (exclusive), the
        days in Dutch time as the rows are shown. The last day there is (31-12-9999, typed as
        "for ever") has no end: no bound."""
        since = localtime.day_start(self.start) if self.start else None
        until = (localtime.day_start(self.end + timedelta(days=1))
                 if self.end and self.end < date.max else None)
        return since, until


def _date(value: str) -> date | None:
    value = value.strip()
    return date.fromisoformat(value) if value else None


def read_filters(args: Mapping[str, str]) -> tuple[Filters, str | None]:
    """The filters in the query; unknown suppliers and bad dates give an error text."""
    supplier = args.get("supplier") or None
    if supplier is not None and broker().registry.supplier(supplier) is None:
        return Filters(), text("admin.unknown_supplier")
    try:
        filters = Filters(supplier, _date(args.get("from", "")), _date(args.get("to", "")))
    except ValueError:
        return Filters(supplier), text("admin.bad_date")
    if filters.start and filters.end and filters.end < filters.start:
        return Filters(supplier), text("admin.bad_range")
    return filters, None


def _entries(school: School, filters: Filters, limit: int) -> list[LedgerEntry]:
    since, until = filters.span()
    return broker().registry.ledger().entries(school.id, filters.supplier, since, until,
                                              limit=limit)


@bp.get("/schools/<school_id>/ledger")
@login_required
def ledger(school_id: str) -> Response:
    school = school_or_404(school_id)
    filters, error = read_filters(request.args)
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
    filters, error = read_filters(request.args)
    if error:
        return page("admin/ledger.html", 400, school=school, filters=filters, error=error,
                    entries=[], more=False, supplier_names={})
    names = {s.id: s.name for s in broker().registry.suppliers()}
    rows = ([entry.at.astimezone(UTC).isoformat(timespec="seconds"), entry.school_id,
             entry.supplier_id, names.get(entry.supplier_id, ""), entry.pseudonym,
             " ".join(entry.attributes), entry.protocol]
            for entry in _entries(school, filters, CSV_ROWS))
    return csv_download(f"loper-ledger-{school.id}", ["time_utc", "school", "supplier",
                        "supplier_name", "pseudonym", "attributes", "protocol"], rows)


def csv_download(name: str, header: Sequence[str], rows: Iterable[Sequence[str]],
                 separator: str = ",") -> Response:
    """A CSV file to download, named after `name` and today; UTF-8 with a byte order mark,
    which Excel needs to read it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerows(chain([header], ([_cell(v) for v in row] for row in rows)))
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
