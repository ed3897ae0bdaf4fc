"""The audit trail: every admin action on a school's data, with who, when, before and after.

Audit rows are rows of kind "audit" in the ledger's hash chain (ledger.py), written in the
transaction of the change they record: a change is never committed without its row, and
`broker ledger verify` covers both kinds. A row names one school (whose admins see it) and,
where the action concerns one, a supplier; `detail` holds the rest as JSON.

A reason is either a person's own words (a suspension's reason, as typed) or, for what Loper
records by itself (an account created, an invitation accepted), a Message stored as its key
and parameters (`reason_message`), shown in the reader's language. Rows written before that
keep their English text in `reason`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from broker import kinds
from broker.jsonvalue import Json, JsonObject
from broker.messages import Message, from_json
from broker.records import Policy, School
from broker.registry import sql_door
from broker.registry.config_fields import field_values, plain
from broker.registry.convert import policy_values
from broker.registry.db import Database
from broker.registry.json_read import json_value
from broker.registry.models import LedgerEntryRow

AUDIT = "audit"
ACTIONS = ("activate", "deactivate", "release", "agreement", "suspend", "resume", "requests",
           "alias", "admin", "role", "mapping")
"""What an audit row records, in the order the filter offers them."""
COMMAND_LINE = "operator (command line)"
"""The actor of changes made with the `broker` command or the registry's API directly."""
State = Mapping[str, Json] | None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    school_id: str
    supplier_id: str | None
    actor: str
    action: str
    before: State
    after: State
    reason: str | Message | None
    """A person's words (str) or Loper's own reason (a Message)."""


Reason = str | Message | None


def audit_row(school_id: str, supplier_id: str | None, actor: str, action: str,
              before: State, after: State, reason: Reason = None) -> LedgerEntryRow:
    """A row for Chain.add; its time is now. `before` and `after` must be JSON values."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    detail: JsonObject = {"actor": actor, "action": action, "before": _object(before),
                          "after": _object(after)}
    if isinstance(reason, Message):
        detail["reason_message"] = reason.as_json()
    else:
        detail["reason"] = reason
    return LedgerEntryRow(at=datetime.now(UTC), school_id=school_id,
                          supplier_id=supplier_id or "", pseudonym="", attributes=[],
                          protocol="", kind=AUDIT, detail=detail)


def policy_state(policy: Policy | None) -> State:
    """A release entry as an audit row shows it (without the pair it belongs to, nor
    `activated_once`: the trail's own "activate" rows say that)."""
    if policy is None:
        return None
    values = policy_values(policy)
    del values["school_id"], values["supplier_id"], values["activated_once"]
    values["valid_until"] = (policy.valid_until.isoformat() if policy.valid_until is not None
                             else None)
    return {name: json_value(value) for name, value in values.items()}


def mapping_state(school: School) -> State:
    """How a school's answers are read (broker/mapping.py), as an audit row shows it: its
    claims, roles, default role and its protocol's editable tables (e.g. `require`)."""
    if school.behind is not None:
        return {"via": school.behind.hub, "match": dict(school.behind.match)}
    kind = kinds.upstream(school.protocol, f'school "{school.id}"')
    fields = field_values(school.config)
    own = {name: json_value(plain(fields.get(name))) for name in sorted(kind.editable)}
    return {"claims": json_value(plain(school.claims or {})),
            "roles": json_value(plain(school.roles or {})),
            "default_role": school.default_role, **own}


def mapping_row(before: School, after: School, actor: str,
                reason: Reason = None) -> LedgerEntryRow | None:
    """The audit row of a change to how a school's answers are read; None if none."""
    old, new = mapping_state(before), mapping_state(after)
    return None if old == new else audit_row(after.id, None, actor, "mapping", old, new, reason)


def policy_action(before: Policy | None, after: Policy) -> str:
    """What a change of a release entry was, as the school's admin names it."""
    was_active = before is not None and before.active
    if after.active != was_active:
        return "activate" if after.active else "deactivate"
    was_suspended = before is not None and before.suspended_reason is not None
    if (after.suspended_reason is not None) != was_suspended:
        return "suspend" if after.suspended_reason is not None else "resume"
    if before is not None and (before.agreement, before.valid_until) != (
            after.agreement, after.valid_until):
        return "agreement"
    return "release"


def policy_row(before: Policy | None, after: Policy, actor: str,
               reason: Reason = None) -> LedgerEntryRow:
    return audit_row(after.school_id, after.supplier_id, actor, policy_action(before, after),
                     policy_state(before), policy_state(after), reason)


def _object(state: State) -> JsonObject | None:
    return None if state is None else dict(state)


def _state(value: Json) -> State:
    """Before or after as written (an object, or null)."""
    return value if isinstance(value, dict) else None


def _entry(row: LedgerEntryRow) -> AuditEntry:
    detail = row.detail or {}
    reason = detail.get("reason")
    return AuditEntry(seq=row.seq, at=row.at, school_id=row.school_id,
                      supplier_id=row.supplier_id or None, actor=str(detail.get("actor")),
                      action=str(detail.get("action")), before=_state(detail.get("before")),
                      after=_state(detail.get("after")),
                      reason=from_json(detail.get("reason_message"))
                      or (reason if isinstance(reason, str) else None))


class AuditTrail:
    """A school's audit rows, read back for its admins."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def entries(self, school_id: str, *, actions: frozenset[str] = frozenset(),
                supplier_id: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Newest first; `since` inclusive, `until` exclusive; `actions` empty: every kind."""
        query = select(LedgerEntryRow).where(LedgerEntryRow.school_id == school_id,
                                             LedgerEntryRow.kind == AUDIT)
        if actions:
            query = query.where(sql_door.json_text(LedgerEntryRow.detail, "action")
                                .in_(sorted(actions)))
        if supplier_id is not None:
            query = query.where(LedgerEntryRow.supplier_id == supplier_id)
        if since is not None:
            query = query.where(LedgerEntryRow.at >= since)
        if until is not None:
            query = query.where(LedgerEntryRow.at < until)
        query = query.order_by(LedgerEntryRow.at.desc(), LedgerEntryRow.seq.desc())
        with self._db.read() as session:
            return [_entry(row) for row in session.scalars(query.limit(limit))]
