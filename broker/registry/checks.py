"""Reading one table of a federation file while collecting every problem in it.

Each problem names the file, the entry, the field, what is wrong and what was expected;
nothing raises until the whole file has been read (see federation.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar
from urllib.parse import urlsplit

from broker import attributes
from broker.errors import ConfigError
from broker.messages import Message, msg
from broker.outbound.policy import secure_url_problem
from broker.plain_text import is_plain

T = TypeVar("T")
_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"),
    (list, "array"), (dict, "table"), (datetime, "date_time"), (date, "date"), (time, "time"),
)
BOOL = msg("problem.expect_bool")


@dataclass(frozen=True)
class Problem:
    """One problem: in which file, which entry and field, what is wrong (and what was
    expected). `str()` is the English line the command line prints."""

    source: str
    where: str | Message
    field: str | None
    message: Message

    def __str__(self) -> str:
        at = f'{self.where}, field "{self.field}"' if self.field else str(self.where)
        return f"{self.source}: {at}: {self.message}"

    def in_field(self) -> Message:
        """The problem within one entry (a registration form): its field and message."""
        if self.field is None:
            return self.message
        return msg("problem.in_field", field=self.field, problem=self.message)


class FederationError(ConfigError):
    """The federation is invalid; `found` lists every problem, `problems` their English
    lines."""

    def __init__(self, source: str, problems: Collection[Problem]) -> None:
        self.source = source
        self.found = tuple(problems)
        self.problems = tuple(str(p) for p in self.found)
        count = f"{len(self.problems)} problem" + ("s" if len(self.problems) != 1 else "")
        super().__init__(f"{source}: {count}:\n" + "\n".join(f"  {p}" for p in self.problems))


def toml_type(value: object) -> Message:
    """What a TOML value is ("a boolean", "a table"...)."""
    return msg("problem.toml_" + next(
        (name for kind, name in _TOML_TYPES if isinstance(value, kind)), "value"))


def too_long(length: int, limit: int) -> Message:
    return msg("problem.characters", n=length, expected=msg("problem.at_most", n=limit))


def url_problem(value: str, *, fragment_ok: bool = True) -> Message | None:
    """None for an absolute https URL (or http on a loopback host), else what is wrong."""
    if secure_url_problem(value):
        return msg("problem.not_https_url", url=value[:200])
    if urlsplit(value).fragment and not fragment_ok:
        return msg("problem.url_fragment", url=value[:200])
    return None


class Problems:
    """The problems found so far in one federation (file)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, where: str | Message, field: str | None, message: Message) -> None:
        self.items.append(Problem(self.source, where, field, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise FederationError(self.source, self.items)


class Entry:
    """One table ([[schools]], [[suppliers]], [[releases]]) and typed access to its fields."""

    def __init__(self, table: Mapping[str, object], where: str | Message, problems: Problems,
                 *, prefix: str = "") -> None:
        self.table = table
        self.where = where
        self.problems = problems
        self.prefix = prefix
        self._start = len(problems.items)

    def problem(self, field: str | None, message: Message) -> None:
        self.problems.add(self.where, self.prefix + field if field else None, message)

    def clean(self) -> bool:
        """No problem was found in this entry so far."""
        return len(self.problems.items) == self._start

    def allow(self, allowed: Collection[str]) -> None:
        for key in self.table:
            if key not in allowed:
                self.problem(key, msg("problem.unknown_field", allowed=tuple(sorted(allowed))))

    def get(self, key: str, kind: type[T], expected: Message, *,
            required: bool = False) -> T | None:
        """The value if present and of `kind`; otherwise record a problem and return None."""
        value = self.table.get(key)
        if value is None:
            if required:
                self.problem(key, msg("problem.missing", expected=expected))
            return None
        wrong_bool = isinstance(value, bool) and kind is not bool  # bool is an int in Python
        wrong_date = isinstance(value, datetime) and kind is date
        if not isinstance(value, kind) or wrong_bool or wrong_date:
            self.problem(key, msg("problem.wrong_type", got=toml_type(value), expected=expected))
            return None
        return value

    def text(self, key: str, expected: Message | None = None, *,
             required: bool = False) -> str | None:
        expected = expected or msg("problem.expect_text")
        value = self.get(key, str, expected, required=required)
        if value is not None and not value.strip():
            self.problem(key, msg("problem.empty", expected=expected))
            return None
        return value

    def plain_text(self, key: str, expected: Message | None = None, *,
                   required: bool = False, longest: int | None = None) -> str | None:
        """A text people will read (a name, a reason, a reference): no control or direction
        characters (broker/plain_text.py), and at most `longest` characters if given."""
        value = self.text(key, expected, required=required)
        if value is not None and not is_plain(value):
            self.problem(key, msg("problem.not_plain"))
            return None
        if value is not None and longest is not None and len(value) > longest:
            self.problem(key, too_long(len(value), longest))
            return None
        return value

    def strings(self, key: str, expected: Message | None = None) -> tuple[str, ...] | None:
        expected = expected or msg("problem.expect_strings")
        value = self.get(key, list, expected)
        if value is None:
            return None
        if not all(isinstance(v, str) and v for v in value):
            self.problem(key, msg("problem.bad_element", expected=expected))
            return None
        return tuple(value)

    def names(self, key: str, value: object) -> frozenset[str] | None:
        """A list of attribute names from the vocabulary."""
        known = tuple(sorted(attributes.NAMES))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, msg("problem.wrong_type", got=toml_type(value),
                                  expected=msg("problem.expect_attributes", known=known)))
            return None
        unknown = [v for v in value if v not in attributes.NAMES]
        if unknown:
            self.problem(key, msg("problem.unknown_attributes", names=tuple(unknown),
                                  known=known))
            return None
        return frozenset(value)

    def urls(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        expected = msg("problem.expect_urls")
        value = self.strings(key, expected)
        if value is None:
            if required and key not in self.table:
                self.problem(key, msg("problem.missing", expected=expected))
            return ()
        if required and not value:
            self.problem(key, msg("problem.no_url"))
        for url in value:
            wrong = url_problem(url, fragment_ok=False)
            if wrong:
                self.problem(key, wrong)
        return value
