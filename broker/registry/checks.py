"""Reading one table of a federation file while collecting every problem in it.

Each problem names the file, the entry, the field, what is wrong and what was expected;
nothing raises until the whole file has been read (see federation.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time
from typing import TypeVar
from urllib.parse import urlsplit

from broker import attributes
from broker.errors import ConfigError
from broker.outbound.policy import secure_url_problem

T = TypeVar("T")
_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
    (list, "an array"), (dict, "a table"), (datetime, "a date-time"), (date, "a date"),
    (time, "a time"),
)


class FederationError(ConfigError):
    """The federation is invalid; `problems` lists every problem found, one a line."""

    def __init__(self, source: str, problems: Collection[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = f"{len(self.problems)} problem" + ("s" if len(self.problems) != 1 else "")
        super().__init__(f"{source}: {count}:\n" + "\n".join(f"  {p}" for p in self.problems))


def toml_type(value: object) -> str:
    return next((name for kind, name in _TOML_TYPES if isinstance(value, kind)), "a value")


def url_problem(value: str, *, fragment_ok: bool = True) -> str | None:
    """None for an absolute https URL (or http on a loopback host), else what is wrong."""
    wrong = secure_url_problem(value)
    if wrong:
        return wrong
    if urlsplit(value).fragment and not fragment_ok:
        return f'"{value}" has a fragment (#...); expected a URL without one'
    return None


class Problems:
    """The problems found so far in one federation (file)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, where: str, field: str | None, message: str) -> None:
        at = f'{where}, field "{field}"' if field else where
        self.items.append(f"{self.source}: {at}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise FederationError(self.source, self.items)


class Entry:
    """One table ([[schools]], [[suppliers]], [[releases]]) and typed access to its fields."""

    def __init__(self, table: Mapping[str, object], where: str, problems: Problems, *,
                 prefix: str = "") -> None:
        self.table = table
        self.where = where
        self.problems = problems
        self.prefix = prefix
        self._start = len(problems.items)

    def problem(self, field: str | None, message: str) -> None:
        self.problems.add(self.where, self.prefix + field if field else None, message)

    def clean(self) -> bool:
        """No problem was found in this entry so far."""
        return len(self.problems.items) == self._start

    def allow(self, allowed: Collection[str]) -> None:
        for key in self.table:
            if key not in allowed:
                self.problem(key, "unknown field; allowed here: " + ", ".join(sorted(allowed)))

    def get(self, key: str, kind: type[T], expected: str, *, required: bool = False) -> T | None:
        """The value if present and of `kind`; otherwise record a problem and return None."""
        value = self.table.get(key)
        if value is None:
            if required:
                self.problem(key, f"missing; expected {expected}")
            return None
        wrong_bool = isinstance(value, bool) and kind is not bool  # bool is an int in Python
        wrong_date = isinstance(value, datetime) and kind is date
        if not isinstance(value, kind) or wrong_bool or wrong_date:
            self.problem(key, f"got {toml_type(value)}; expected {expected}")
            return None
        return value

    def text(self, key: str, expected: str = "a non-empty string", *,
             required: bool = False) -> str | None:
        value = self.get(key, str, expected, required=required)
        if value is not None and not value.strip():
            self.problem(key, f"is empty; expected {expected}")
            return None
        return value

    def strings(self, key: str, expected: str = "an array of strings") -> tuple[str, ...] | None:
        value = self.get(key, list, expected)
        if value is None:
            return None
        if not all(isinstance(v, str) and v for v in value):
            self.problem(key, f"has an element that is not a non-empty string; expected {expected}")
            return None
        return tuple(value)

    def names(self, key: str, value: object) -> frozenset[str] | None:
        """A list of attribute names from the vocabulary."""
        known = ", ".join(sorted(attributes.NAMES))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, f"got {toml_type(value)}; expected an array of attribute names "
                         f"({known})")
            return None
        unknown = [v for v in value if v not in attributes.NAMES]
        if unknown:
            self.problem(key, "unknown attribute " + ", ".join(f'"{u}"' for u in unknown)
                         + f"; expected one of {known}")
            return None
        return frozenset(value)

    def urls(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.strings(key, "an array of absolute https URLs")
        if value is None:
            if required and key not in self.table:
                self.problem(key, "missing; expected an array of absolute https URLs")
            return ()
        if required and not value:
            self.problem(key, "is empty; expected at least one absolute https URL")
        for url in value:
            wrong = url_problem(url, fragment_ok=False)
            if wrong:
                self.problem(key, wrong)
        return value
