"""A school's audit trail: every admin action on its data (who, when, what changed from what
to what, the reason), filtered by kind of action, supplier and dates, and as CSV (`,` or, for
Dutch Excel, `;`: both states whole). The rows themselves are written by the registry with
each change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC

from flask import request
from werkzeug.wrappers import Response

from broker.admin.audit_changes import actor, changes
from broker.admin.base import bp, login_required, page, school_or_404
from broker.admin.ledger import Filters, csv_download, read_filters
from broker.records import School
from broker.registry.audit import ACTIONS, AuditEntry, State
from broker.web.current import broker
from broker.web.i18n import say, text

PAGE_ROWS = 200
CSV_ROWS = 100_000
SEPARATORS = (",", ";")


def _action(args: Mapping[str, str]) -> tuple[str | None, str | None]:
    action = args.get("action") or None
    if action is not None and action not in ACTIONS:
        return None, text("admin.unknown_action")
    return action, None


def _entries(school: School, filters: Filters, action: str | None,
             limit: int) -> list[AuditEntry]:
    since, until = filters.span()
    return broker().registry.audit_trail().entries(
        school.id, actions=frozenset({action} if action else ()),
        supplier_id=filters.supplier, since=since, until=until, limit=limit)


def state_text(state: State) -> str:
    """Before or after, as one line of JSON (keys sorted): the CSV's columns."""
    return "" if state is None else json.dumps(state, sort_keys=True, ensure_ascii=False)


def _read() -> tuple[Filters, str | None, str | None]:
    filters, error = read_filters(request.args)
    action, action_error = _action(request.args)
    return filters, action, error or action_error


def _page(school: School, filters: Filters, action: str | None, error: str | None,
          entries: list[AuditEntry]) -> Response:
    query = filters.query() | ({"action": action} if action else {})
    names = {s.id: s.name for s in broker().registry.suppliers()}
    return page("admin/audit.html", 400 if error else 200, school=school, filters=filters,
                action=action, actions=ACTIONS, query=query, error=error,
                actor=actor, entries=entries[:PAGE_ROWS],
                more=len(entries) > PAGE_ROWS,
                supplier_names=names, changes=changes)


def reason_text(entry: AuditEntry) -> str:
    """The row's reason as the reader reads it: a person's words as written, Loper's own
    in the reader's language."""
    if entry.reason is None or isinstance(entry.reason, str):
        return entry.reason or ""
    return say(entry.reason, code=False)


@bp.get("/schools/<school_id>/audit")
@login_required
def audit(school_id: str) -> Response:
    school = school_or_404(school_id)
    filters, action, error = _read()
    entries = [] if error else _entries(school, filters, action, PAGE_ROWS + 1)
    return _page(school, filters, action, error, entries)


@bp.get("/schools/<school_id>/audit.csv")
@login_required
def audit_csv(school_id: str) -> Response:
    school = school_or_404(school_id)
    filters, action, error = _read()
    separator = request.args.get("sep", ",")
    if error or separator not in SEPARATORS:
        return _page(school, filters, action, error or text("admin.bad_separator"), [])
    rows = ([e.at.astimezone(UTC).isoformat(timespec="seconds"), e.school_id,
             e.supplier_id or "", e.actor, e.action, state_text(e.before), state_text(e.after),
             reason_text(e), str(e.seq)]
            for e in _entries(school, filters, action, CSV_ROWS))
    return csv_download(f"loper-audit-{school.id}", ["time_utc", "school", "supplier", "actor",
                        "action", "before", "after", "reason", "ledger_row"], rows, separator)
