"""A protocol kind's config dataclass <-> its federation-file fields and its registry row.

Each kind (broker/kinds.py) names its dataclass and which of its fields live in the row's own
indexed columns; the rest of the dataclass goes to the row's JSON `config` column and, where it
differs from the default, to the federation file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

C = TypeVar("C")


def plain(value: Any) -> Any:
    """A record value as TOML and JSON write it: tuples as arrays, sets sorted, tables too."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return list(value) if isinstance(value, tuple) else value


def _frozen(value: Any) -> Any:
    """A JSON value back as the record holds it: arrays as tuples, tables too."""
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return tuple(value) if isinstance(value, list) else value


def non_default(record: object, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The fields of a dataclass record that are set and differ from their defaults."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        if f.name in skip or value is None or value == f.default:
            continue
        out[f.name] = plain(value)
    return out


@dataclass(frozen=True)
class ConfigFields(Generic[C]):
    type: type[C]
    columns: tuple[str, ...] = ()
    """Fields kept in the row's own (indexed, unique) columns, not in its JSON config."""
    derived: tuple[str, ...] = ()
    """Fields the federation file does not carry: they are read from another field (e.g. the
    entity id from the metadata)."""

    def export(self, config: C) -> dict[str, Any]:
        """The federation-file fields of `config`, defaults left out."""
        return non_default(config, self.derived)

    def row(self, config: C) -> tuple[dict[str, Any], dict[str, Any]]:
        """(values of the row's own columns, the JSON config)."""
        values = {f.name: plain(getattr(config, f.name))
                  for f in dataclasses.fields(config)}  # type: ignore[arg-type]
        return ({k: v for k, v in values.items() if k in self.columns},
                {k: v for k, v in values.items() if k not in self.columns})

    def record(self, columns: Mapping[str, Any], config: Mapping[str, Any]) -> C:
        """The dataclass back from a row; JSON keys it does not know are ignored."""
        names = {f.name for f in dataclasses.fields(self.type)}  # type: ignore[arg-type]
        values = {k: _frozen(v) for k, v in config.items()
                  if k in names and k not in self.columns}
        return self.type(**values, **{k: columns[k] for k in self.columns})
