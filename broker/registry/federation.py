"""The federation file (TOML): schools, suppliers and release policies, read and written.

`load_federation` validates everything it can see in the file and reports every problem at
once (FederationError). References to entries that may already be in the registry (a release
naming a school not in the file) and clashes with the registry are checked by
Registry.import_federation, with the same messages.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from broker import kinds
from broker.messages import Message, msg
from broker.records import Policy, School, Supplier
from broker.registry import metadata, parse, sources
from broker.registry.checks import Entry, FederationError, Problems, toml_type
from broker.registry.config_fields import non_default

__all__ = ["Federation", "FederationError", "load_federation", "dump_federation", "UNPINNED"]
UNPINNED = parse.UNPINNED
SECTIONS = ("metadata_sources", "schools", "suppliers", "releases")
THE_FILE = msg("problem.where_file")
HEADER = "# Loper federation: schools, suppliers and their release policies.\n\n"


@dataclass(frozen=True)
class Federation:
    schools: tuple[School, ...] = ()
    suppliers: tuple[Supplier, ...] = ()
    policies: tuple[Policy, ...] = ()
    """In file order: policies[i] is the file's releases[i]. Each one activates its pair;
    a pair the school deactivated is not written to a file."""
    source: str = "federation"
    """The file it was read from, named in error messages."""
    metadata_sources: tuple[sources.Loaded, ...] = ()
    """[[metadata_sources]], each with its aggregate as fetched while reading the file."""


def school_label(i: int, school: School) -> str:
    return f'schools[{i}] (id "{school.id}")'


def supplier_label(i: int, supplier: Supplier) -> str:
    return f'suppliers[{i}] (id "{supplier.id}")'


def release_label(i: int, policy: Policy) -> str:
    return f'releases[{i}] (school "{policy.school_id}", supplier "{policy.supplier_id}")'


def _label(section: str, i: int, table: Mapping[str, object]) -> str:
    if section == "releases":
        return f'releases[{i}] (school "{table.get("school")}", supplier "{table.get("supplier")}")'
    ident = table.get("id")
    return f'{section}[{i}] (id "{ident}")' if isinstance(ident, str) else f"{section}[{i}]"


def clashes(problems: Problems, items: Iterable[tuple[str | None, str, str | None]],
            field: str, what: Message) -> None:
    """Report each (where, owner, value) whose value an earlier item with another owner has.

    `where` None marks an item already in the registry: it is never reported itself.
    """
    _clashes(problems, [(where, owner, value, False) for where, owner, value in items],
             field, what, msg("problem.expect_unique", what=what))


def _clashes(problems: Problems, items: Iterable[tuple[str | None, str, str | None, bool]],
             field: str, what: Message, expected: Message) -> None:
    """`clashes`, where items that are each `shared` may hold one value together."""
    seen: dict[str, tuple[str | None, str, bool]] = {}
    for where, owner, value, shared in items:
        if value is None:
            continue
        first = seen.setdefault(value, (where, owner, shared))
        if first[1] != owner and where is not None and not (shared and first[2]):
            holder = first[0] or msg("problem.in_registry", id=first[1])
            problems.add(where, field, msg("problem.clash", what=what, value=value[:200],
                                           holder=holder, expected=expected))


def _file_clashes(problems: Problems, federation: Federation) -> None:
    schools = [(school_label(i, s), str(i), s.id) for i, s in enumerate(federation.schools)]
    suppliers = [(supplier_label(i, s), str(i), s.id)
                 for i, s in enumerate(federation.suppliers)]
    ident = msg("problem.what_id")
    clashes(problems, [(f'metadata_sources[{i}] (id "{s.source.id}")', str(i), s.source.id)
                       for i, s in enumerate(federation.metadata_sources)], "id", ident)
    clashes(problems, schools, "id", ident)
    clashes(problems, suppliers, "id", ident)
    check_school_clashes(problems, federation, {})
    check_supplier_clashes(problems, federation, {})
    pairs = [(release_label(i, p), str(i), f"{p.school_id}/{p.supplier_id}")
             for i, p in enumerate(federation.policies)]
    clashes(problems, pairs, "supplier", msg("problem.what_pair"))


def _unique_clashes(problems: Problems,
                    items: Iterable[tuple[str | None, str, Iterable[kinds.Unique]]]) -> None:
    """Clashes of every Unique value a kind declares, each `what` on its own."""
    by_what: dict[tuple[str, Message], list[tuple[str | None, str, str | None, bool]]] = {}
    expected: dict[tuple[str, Message], Message] = {}
    for where, owner, uniques in items:
        for unique in uniques:
            key = (unique.field, unique.what)
            by_what.setdefault(key, []).append((where, owner, unique.value, unique.shared))
            expected.setdefault(key, unique.expected or msg("problem.expect_unique",
                                                            what=unique.what))
    for (field, what), values in by_what.items():
        _clashes(problems, values, field, what, expected[(field, what)])


def check_school_clashes(problems: Problems, federation: Federation,
                         registered: Mapping[str, School]) -> None:
    """Entity ids (and the like) must stay unique, counting schools already registered."""
    in_file = {s.id for s in federation.schools}
    items = [(None, s) for sid, s in registered.items() if sid not in in_file] + [
        (school_label(i, s), s) for i, s in enumerate(federation.schools)]
    _unique_clashes(problems, [(w, s.id, school_unique(s)) for w, s in items])
    clashes(problems, [(w, s.id, hub_match(s)) for w, s in items], "match",
            msg("problem.what_match"))


def check_hubs(problems: Problems, federation: Federation,
               registered: Mapping[str, School]) -> None:
    """Each `via` names a hub, in this file or in the registry."""
    hubs = {s.id for s in {**registered, **{s.id: s for s in federation.schools}}.values()
            if s.hub}
    for i, school in enumerate(federation.schools):
        if school.behind is not None and school.behind.hub not in hubs:
            problems.add(school_label(i, school), "via",
                         msg("problem.no_hub", hub=school.behind.hub))


def hub_match(school: School) -> str | None:
    """A school's place behind its hub, e.g. `entree: school_id = "11ZZ03"`; None if none."""
    behind = school.behind
    if behind is None:
        return None
    return f"{behind.hub}: " + ", ".join(f"{k} = {v}" for k, v in sorted(behind.match.items()))


def check_supplier_clashes(problems: Problems, federation: Federation,
                           registered: Mapping[str, Supplier]) -> None:
    """Entity ids, client ids and names must stay unique, counting suppliers already
    registered: a school's overview and a pupil's /me tell suppliers apart by name."""
    in_file = {s.id for s in federation.suppliers}
    items = [(None, s) for sid, s in registered.items() if sid not in in_file] + [
        (supplier_label(i, s), s) for i, s in enumerate(federation.suppliers)]
    _unique_clashes(problems, [(w, s.id, supplier_unique(s)) for w, s in items])
    clashes(problems, [(w, s.id, same_name(s.name)) for w, s in items], "name",
            msg("problem.what_name"))


def same_name(name: str) -> str:
    """A name as schools tell suppliers apart by it: case and spacing do not count."""
    return " ".join(name.casefold().split())


def school_unique(school: School) -> tuple[kinds.Unique, ...]:
    if school.behind is not None:
        return ()
    return kinds.upstream(school.protocol).unique(school.config)


def supplier_unique(supplier: Supplier) -> tuple[kinds.Unique, ...]:
    return kinds.downstream(supplier.protocol).unique(supplier.config)


def _read(path: Path, problems: Problems) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.add(THE_FILE, None, msg("problem.unreadable", detail=str(exc.strerror or exc)))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.add(THE_FILE, None, msg("problem.not_toml", detail=str(exc)))
    return {}


def _tables(doc: Mapping[str, object], section: str, problems: Problems) -> list[Entry]:
    value = doc.get(section, [])
    if not isinstance(value, list):
        problems.add(section, None, msg("problem.wrong_type", got=toml_type(value), expected=msg(
            "problem.expect_tables", section=f"[[{section}]]")))
        return []
    tables: list[object] = value
    entries = []
    for i, table in enumerate(tables):
        if isinstance(table, dict):
            entries.append(Entry(table, _label(section, i, table), problems))
        else:
            problems.add(f"{section}[{i}]", None, msg("problem.wrong_type", got=toml_type(table),
                                                      expected=msg("problem.toml_table")))
    return entries


def load_federation(path: Path) -> Federation:
    """Read and validate a federation file; FederationError lists every problem in it."""
    problems = Problems(str(path))
    doc = _read(path, problems)
    for key in doc:
        if key not in SECTIONS:
            problems.add(msg("problem.where_top_key", key=key[:80]), None, msg(
                "problem.unknown_section", allowed=tuple(f"[[{s}]]" for s in SECTIONS)))
    base_dir = path.parent
    entries = _tables(doc, "metadata_sources", problems)
    loaded = [sources.load(e, base_dir) for e in entries]
    # a source that could not be read has its own problems: its schools are not told again
    unread: dict[str, metadata.Lookup | None] = {
        ident: None for e, s in zip(entries, loaded, strict=True)
        if s is None and isinstance(ident := e.table.get("id"), str)}
    with metadata.sources(unread | {s.source.id: sources.lookup(s) for s in loaded if s}):
        schools = [parse.school(e, base_dir) for e in _tables(doc, "schools", problems)]
        suppliers = [parse.supplier(e, base_dir) for e in _tables(doc, "suppliers", problems)]
    policies = [parse.release(e) for e in _tables(doc, "releases", problems)]
    problems.raise_if_any()
    federation = Federation(tuple(s for s in schools if s), tuple(s for s in suppliers if s),
                            tuple(p for p in policies if p), source=str(path),
                            metadata_sources=tuple(s for s in loaded if s))
    _file_clashes(problems, federation)
    problems.raise_if_any()
    return federation


def _school_doc(school: School) -> dict[str, Any]:
    doc = non_default(school, skip=("config",))
    behind = school.behind
    if behind is not None:
        return doc | {"via": behind.hub, "match": dict(behind.match)} | (
            {"hint_value": behind.hint_value} if behind.hint_value else {})
    doc = {"id": doc.pop("id"), "name": doc.pop("name"), "protocol": school.protocol} | doc
    return doc | kinds.upstream(school.protocol).fields.export(school.config)


def _supplier_doc(supplier: Supplier) -> dict[str, Any]:
    skip = ("config", "requests", "sector") + (
        ("key_version",) if supplier.key_version == UNPINNED else ())
    doc = non_default(supplier, skip=skip)
    doc = {"id": doc.pop("id"), "name": doc.pop("name"), "protocol": supplier.protocol} | doc
    if supplier.sector != supplier.id:
        doc["sector"] = supplier.sector
    if supplier.requests:
        doc["requests"] = [r.fields() for r in supplier.requests]
    return doc | kinds.downstream(supplier.protocol).fields.export(supplier.config)


def _release_doc(policy: Policy) -> dict[str, Any]:
    doc: dict[str, Any] = {"school": policy.school_id, "supplier": policy.supplier_id,
                           "attributes": sorted(policy.attributes)}
    if policy.by_role:
        doc["roles"] = {role: sorted(names) for role, names in sorted(policy.by_role.items())}
    if policy.suspended_reason is not None:
        doc["suspended"] = policy.suspended_reason
    if policy.valid_until is not None:
        doc["valid_until"] = policy.valid_until
    if policy.agreement is not None:
        doc["agreement"] = policy.agreement
    return doc


def dump_federation(federation: Federation) -> str:
    """The federation as TOML (metadata inline as metadata_xml), readable by load_federation.

    Only active release entries: an entry in the file activates its pair on import (which
    marks it activated once), so a deactivated release, or one prepared but never activated,
    stays in the registry alone and has no field in the file."""
    doc = {"metadata_sources": [sources.export(s.source)
                                for s in federation.metadata_sources],
           "schools": [_school_doc(s) for s in federation.schools],
           "suppliers": [_supplier_doc(s) for s in federation.suppliers],
           "releases": [_release_doc(p) for p in federation.policies if p.active]}
    return HEADER + tomli_w.dumps({k: v for k, v in doc.items() if v}, multiline_strings=True)
