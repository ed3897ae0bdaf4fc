"""The school's privacy pages: the privacy officer's monthly report (and its CSV), and linking
pupils who come from another school in bulk from a CSV file."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker import alias_file
from broker.admin.base import bp, current_admin, login_required, page, school_or_404, uploaded
from broker.admin.ledger import csv_download
from broker.localtime import LOCAL_TIME, months
from broker.messages import msg
from broker.records import School
from broker.registry.report import SupplierMonth
from broker.web.current import broker
from broker.web.i18n import plural, text

FIRST_YEAR = 2000


def _year() -> int | None:
    """The year asked for (this year by default); None when it is not a sensible one."""
    this_year = datetime.now(LOCAL_TIME).year
    asked = request.args.get("year", "").strip()
    if not asked:
        return this_year
    year = int(asked) if asked.isdigit() and len(asked) == 4 else 0
    return year if FIRST_YEAR <= year <= this_year + 1 else None


def _lines(school: School, year: int) -> list[SupplierMonth]:
    return broker().registry.monthly_report(school.id, months(year))


@bp.get("/schools/<school_id>/report")
@login_required
def report(school_id: str) -> Response:
    school = school_or_404(school_id)
    year = _year()
    names = {s.id: s.name for s in broker().registry.suppliers()}
    lines = _lines(school, year) if year else []
    return page("admin/report.html", 200 if year else 400, school=school,
                year=year or datetime.now(LOCAL_TIME).year, lines=lines, supplier_names=names,
                error=None if year else text("admin.bad_year"))


@bp.get("/schools/<school_id>/report.csv")
@login_required
def report_csv(school_id: str) -> Response:
    school = school_or_404(school_id)
    year = _year()
    if year is None:
        return report(school_id)
    names = {s.id: s.name for s in broker().registry.suppliers()}
    rows = ((f"{line.month:%Y-%m}", line.supplier_id, names.get(line.supplier_id, ""),
             str(line.people), str(line.logins), " ".join(line.attributes))
            for line in _lines(school, year))
    return csv_download(f"loper-report-{school.id}-{year}", [
        "month", "supplier", "supplier_name", "people", "logins", "attributes"], rows)


@bp.get("/schools/<school_id>/aliases")
@login_required
def aliases(school_id: str) -> Response:
    return page("admin/aliases.html", school=school_or_404(school_id), problems=(),
                header=",".join(alias_file.HEADER), max_links=alias_file.MAX_LINKS)


@bp.post("/schools/<school_id>/aliases")
@login_required
def aliases_post(school_id: str) -> Response:
    school = school_or_404(school_id)
    data = uploaded("file", alias_file.MAX_BYTES + 1)
    b = broker()
    try:
        if not data:  # no file chosen, or one with nothing in it
            raise alias_file.AliasFileError([msg("admin.aliases_no_file") if data is None
                                             else msg("admin.aliases_empty_file")])
        count = alias_file.import_links(b.registry, b.pseudonym_keys, school.id, data,
                                        current_admin().email)
    except alias_file.AliasFileError as exc:
        return page("admin/aliases.html", 400, school=school, problems=exc.problems,
                    header=",".join(alias_file.HEADER), max_links=alias_file.MAX_LINKS)
    flash(plural("admin.aliases_done", count))
    return redirect(url_for("admin.aliases", school_id=school.id))
