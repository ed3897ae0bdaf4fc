"""The operator's form for a school's own names: `[schools.claims]`, `[schools.roles]`,
`default_role` and the protocol's own editable tables (an OIDC school's `[schools.require]`).

Each table is a text area of `name = value` lines; a table of arrays (`require`) takes one
line per value. The lines become the federation file's tables and are read by the very code
that reads a federation file (broker/registry/parse.py and the kind's `edit`), so the form
refuses what an import refuses, with the same messages. No Flask here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from broker import kinds
from broker.messages import Message, msg
from broker.records import School
from broker.registry import parse
from broker.registry.checks import Entry, Problems

MAPS = ("claims", "roles")
"""Tables of text = text."""
MAX_TEXT = 40_000
"""Characters of one text area (200 lines of a long claim URI fit)."""
MAX_LINES = 1000


@dataclass(frozen=True)
class MappingForm:
    tables: Mapping[str, str]
    """Field -> its text area: `name = value` lines."""
    default_role: str


def editable(school: School) -> tuple[str, ...]:
    """The text areas the form shows for `school`: the kind's own tables, then the maps.
    None for a school behind a hub: its answers are read with its hub's."""
    if school.behind is not None:
        return ()
    kind = kinds.upstream(school.protocol, f'school "{school.id}"')
    return (*sorted(kind.editable), *MAPS)


def _lines(table: Mapping[str, object] | None) -> str:
    out: list[str] = []
    for name, value in (table or {}).items():
        values: Iterable[object] = value if isinstance(value, list | tuple) else [value]
        out.extend(f"{name} = {v}" for v in values)
    return "\n".join(out)


def form_of(school: School) -> MappingForm:
    """The form as the school is registered now."""
    tables = {field: _lines(getattr(school, field, None) if field in MAPS
                            else getattr(school.config, field, None))
              for field in editable(school)}
    return MappingForm(tables, school.default_role or "")


def typed(school: School, form: Mapping[str, str]) -> MappingForm:
    """The form as posted (cut to its limits), to show again with its problems."""
    return MappingForm({f: form.get(f, "")[:MAX_TEXT] for f in editable(school)},
                       form.get("default_role", "")[:200])


def _table(field: str, text: str, arrays: bool,
           problems: Problems) -> dict[str, str] | dict[str, list[str]]:
    """`name = value` lines -> a table (arrays: repeated names gather their values)."""
    if len(text) > MAX_TEXT or text.count("\n") >= MAX_LINES:
        problems.add("", field, msg("problem.text_too_long", lines=MAX_LINES, n=MAX_TEXT))
        return {}
    found: dict[str, str] = {}
    gathered: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, equals, value = (part.strip() for part in line.partition("="))
        if not equals or not name or not value:
            problems.add("", field, msg("problem.not_name_value", line=number))
        elif arrays:
            gathered.setdefault(name, []).append(value)
        elif name in found:
            problems.add("", field, msg("problem.name_again", line=number, name=name[:80]))
        else:
            found[name] = value
    return gathered if arrays else found


def read(school: School, form: Mapping[str, str]) -> tuple[School | None, tuple[Message, ...]]:
    """`school` with the posted tables, or None and every problem found (by field only: the
    page shows one school)."""
    problems = Problems("form")
    kind = kinds.upstream(school.protocol, f'school "{school.id}"')
    table: dict[str, object] = {}
    for field in editable(school):
        found = _table(field, form.get(field, ""), field not in MAPS, problems)
        if found:
            table[field] = found
    if form.get("default_role", "").strip():
        table["default_role"] = form["default_role"].strip()
    entry = Entry(table, "form", problems)
    claims, roles, default_role = parse.mapping_fields(entry, school.guardian_role)
    config = kind.edit(school.config, entry) if kind.edit is not None else school.config
    if problems.items:
        return None, tuple(p.in_field() for p in problems.items)
    return dataclasses.replace(school, config=config, claims=claims, roles=roles,
                               default_role=default_role), ()
