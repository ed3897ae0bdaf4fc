"""What an audit row changed, as the audit page shows it: only the fields whose value differs
between before and after, each named in the reader's language and its value readable (a list
as its items, an attribute in plain words, yes or no, a time in Dutch time).

The CSV download keeps both states whole, as JSON (audit.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeGuard

from broker.jsonvalue import Json
from broker.linking import ACTOR as AT_LOGIN
from broker.records import AttributeRequest
from broker.registry.audit import COMMAND_LINE, State
from broker.registry.eck_ids import Outcome
from broker.web.i18n import attribute_word, language, local_time, text

EMPTY = "—"

NAMED = frozenset({
    "active", "agreement", "anchor", "asks_for", "attributes", "by_role", "claims",
    "default_role", "email", "invited", "linked_to", "match", "other_school", "outcome",
    "reasons", "require", "role", "roles", "schools", "second_factor", "supplier_id",
    "suspended_reason", "until", "valid_until", "via"})
"""The fields audit rows hold (broker/registry/audit.py, admins.py, admin_links.py,
registry.py, supplier_requests.py); each has the words `audit.field_<name>`. Any other is
shown by its name."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str | None
    """The field's words in the reader's language; None: show the name itself."""
    value: str


@dataclass(frozen=True)
class Changes:
    before: tuple[Field, ...]
    after: tuple[Field, ...]


def actor(who: str) -> str:
    """Who made the change: an admin's e-mail as it is; Loper's own actors in words."""
    if who == COMMAND_LINE:
        return text("admin.actor_command_line")
    return text("admin.actor_login") if who == AT_LOGIN else who


def changes(before: State, after: State) -> Changes:
    """The fields that differ; a field that one side lacks is shown on the other side only."""
    old, new = before or {}, after or {}
    names = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    return Changes(tuple(_field(name, old[name]) for name in names if name in old),
                   tuple(_field(name, new[name]) for name in names if name in new))


def _field(name: str, value: Json) -> Field:
    label = text("audit.field_" + name) if name in NAMED else None
    return Field(name, label, _VALUES.get(name, shown)(value))


def shown(value: Json) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return text("admin.yes") if value else text("admin.no")
    if _texts(value):
        return ", ".join(value)
    if isinstance(value, str):
        return _time(value) or value
    if isinstance(value, dict) and all(isinstance(item, str) or _texts(item)
                                       for item in value.values()):
        return "; ".join(f"{key}: {shown(item)}" for key, item in sorted(value.items()))
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _texts(value: Json) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _attributes(value: Json) -> str:
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return ", ".join(attribute_word(str(item)) for item in value)
    return shown(value)


def _by_role(value: Json) -> str:
    """{"student": ["given_name"]} as 'student: voornaam'; roles are the school's own values."""
    if isinstance(value, dict) and value:
        return "; ".join(f"{role}: {_attributes(names)}" for role, names in sorted(value.items()))
    return shown(value)


_OUTCOMES = {outcome.value: outcome.name.lower() for outcome in Outcome}


def _outcome(value: Json) -> str:
    """What Loper did as a pupil arrived with an ECK iD (broker/registry/eck_ids.py)."""
    if isinstance(value, str) and value in _OUTCOMES:
        return text("audit.outcome_" + _OUTCOMES[value])
    return shown(value)


def _reasons(value: Json) -> str:
    """A supplier's requests (supplier_requests.state) as each attribute and its reason, in
    the reader's language when the supplier wrote one."""
    asked: list[AttributeRequest] = []
    for item in value if isinstance(value, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("attribute"), str):
            return shown(value)
        asked.append(AttributeRequest.of({k: v for k, v in item.items() if isinstance(v, str)}))
    if not asked:
        return shown(value)
    return "; ".join(f"{attribute_word(r.attribute)}: {r.reason(language())[0]}" for r in asked)


def _account_role(value: Json) -> str:
    if isinstance(value, str) and value in ("operator", "school", "supplier"):
        return text("admin.role_" + value)
    return shown(value)


_VALUES: dict[str, Callable[[Json], str]] = {
    "attributes": _attributes, "asks_for": _attributes, "by_role": _by_role,
    "reasons": _reasons, "role": _account_role, "outcome": _outcome}


def _time(value: str) -> str | None:
    """A moment written as ISO 8601 with its offset, in Dutch time; None for anything else."""
    if "T" not in value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return local_time(moment) if moment.tzinfo is not None else None
