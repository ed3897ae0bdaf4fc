"""A protocol kind's config dataclass <-> its federation-file fields and its registry row.

Each kind (broker/kinds.py) names its dataclass and which of its fields live in the row's own
indexed columns; the rest of the dataclass goes to the row's JSON `config` column and, where it
differs from the default, to the federation file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

C = TypeVar("C")

_attribute: Callable[[object, str], object] = getattr
"""getattr(record, name): a field read by a computed name is some object; the caller checks
its type where it uses it."""


def field_value(record: object, name: str) -> object:
    """One field of a record or row by name (the one place fields are read by name)."""
    return _attribute(record, name)


def field_values(record: object) -> dict[str, object]:
    """A dataclass record's fields by name."""
    fields = dataclasses.fields(record)  # type: ignore[arg-type]
    return {f.name: field_value(record, f.name) for f in fields}


def plain(value: object) -> object:
    """A record value as TOML and JSON write it: tuples as arrays, sets sorted, tables too."""
    if isinstance(value, frozenset | set):
        members: Iterable[str] = value
        return sorted(members)
    if isinstance(value, Mapping):
        items: Iterable[tuple[str, object]] = value.items()
        return {k: plain(v) for k, v in items}
    return list(value) if isinstance(value, tuple) else value


def _frozen(value: object) -> object:
    """A JSON value back as the record holds it: arrays as tuples, tables too."""
    if isinstance(value, dict):
        items: Iterable[tuple[str, object]] = value.items()
        return {k: _frozen(v) for k, v in items}
    return tuple(value) if isinstance(value, list) else value


def non_default(record: object, skip: Iterable[str] = ()) -> dict[str, object]:
    """The fields of a dataclass record that are set and differ from their defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(record)}  # type: ignore[arg-type]
    return {name: plain(value) for name, value in field_values(record).items()
            if name not in skip and value is not None and value != defaults[name]}


@dataclass(frozen=True)
class ConfigFields(Generic[C]):
    type: type[C]
    columns: tuple[str, ...] = ()
    """Fields kept in the row's own (indexed, unique) columns, not in its JSON config."""
    derived: tuple[str, ...] = ()
    """Fields the federation file does not carry: they are read from another field (e.g. the
    entity id from the metadata)."""

    def export(self, config: C) -> dict[str, object]:
        """The federation-file fields of `config`, defaults left out."""
        return non_default(config, self.derived)

    def row(self, config: C) -> tuple[dict[str, object], dict[str, object]]:
        """(values of the row's own columns, the JSON config)."""
        values = {name: plain(value) for name, value in field_values(config).items()}
        return ({k: v for k, v in values.items() if k in self.columns},
                {k: v for k, v in values.items() if k not in self.columns})

    def record(self, columns: Mapping[str, object], config: Mapping[str, object]) -> C:
        """The dataclass back from a row; JSON keys it does not know are ignored."""
        names = {f.name for f in dataclasses.fields(self.type)}  # type: ignore[arg-type]
        values = {k: _frozen(v) for k, v in config.items()
                  if k in names and k not in self.columns}
        return self.type(**values, **{k: columns[k] for k in self.columns})
