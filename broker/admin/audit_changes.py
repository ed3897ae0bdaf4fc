"""What an audit row changed, as the audit page shows it: only the fields whose value differs
between before and after, each value readable (a list as its items, a time in Dutch time).

The CSV download keeps both states whole, as JSON (audit.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from broker.jsonvalue import Json
from broker.registry.audit import State
from broker.web.i18n import local_time

EMPTY = "—"

Field = tuple[str, str]
"""A field's name and its value as shown."""


@dataclass(frozen=True)
class Changes:
    before: tuple[Field, ...]
    after: tuple[Field, ...]


def changes(before: State, after: State) -> Changes:
    """The fields that differ; a field that one side lacks is shown on the other side only."""
    old, new = before or {}, after or {}
    names = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    return Changes(tuple((name, shown(old[name])) for name in names if name in old),
                   tuple((name, shown(new[name])) for name in names if name in new))


def shown(value: Json) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(str(item) for item in value)
    if isinstance(value, str):
        return _time(value) or value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _time(value: str) -> str | None:
    """A moment written as ISO 8601 with its offset, in Dutch time; None for anything else."""
    if "T" not in value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return local_time(moment) if moment.tzinfo is not None else None
