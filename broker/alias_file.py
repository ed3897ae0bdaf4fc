"""Linking pupils in bulk from a CSV file, at the start of the school year: one line per pupil,
their id at this school and their id at the school they come from.

    subject,previous_school,previous_subject
    s.devries@lyceum.example,regenboog,8f3a2c

The file is checked whole before anything is linked (every problem names its line), then
every link is made in one transaction: all or nothing. Each link is recorded for the school's
audit trail (registry.aliases.record).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from broker.keys import PseudonymKeys
from broker.pseudonym import anchor
from broker.registry import Registry
from broker.registry.aliases import AliasEvent, LinkRefused, record

HEADER = ("subject", "previous_school", "previous_subject")
MAX_BYTES = 1024 * 1024
MAX_LINKS = 10_000
"""More pupils than the largest school has: a larger file is a mistake, or several files."""
MAX_FIELD = 255
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class AliasLine:
    line: int
    subject: str
    previous_school: str
    previous_subject: str


class AliasFileError(ValueError):
    """The file cannot be used; `problems` names each line. Nothing was linked."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
        super().__init__("nothing was linked: " + "; ".join(shown))
        self.problems = tuple(shown)


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise AliasFileError([f"the file is larger than {MAX_BYTES // 1024} KB; expected at "
                              f"most {MAX_LINKS} lines (split a larger file)"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AliasFileError([f"the file is not UTF-8 text (byte {exc.start + 1}); save it "
                              "as CSV UTF-8"]) from None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise AliasFileError([f"line {reader.line_num}: not CSV ({exc})"]) from None


def _problem(row: list[str], known: Collection[str]) -> str | None:
    if len(row) != len(HEADER):
        return f"has {len(row)} fields; expected {len(HEADER)}: {','.join(HEADER)}"
    for name, value in zip(HEADER, row, strict=True):
        if not value.strip():
            return f"{name} is empty"
        if len(value) > MAX_FIELD:
            return f"{name} is longer than {MAX_FIELD} characters"
    if row[1].strip() not in known:
        return f'unknown school "{row[1].strip()[:64]}" in previous_school'
    return None


def read(text: str, school_id: str, known_schools: Collection[str]) -> list[AliasLine]:
    """The links in the file, or AliasFileError with every problem found."""
    rows = _rows(text)
    first = next(rows, None)
    if first is None or tuple(c.strip() for c in first[1]) != HEADER:
        raise AliasFileError([f"line 1: expected the header {','.join(HEADER)}"])
    problems: list[str] = []
    found: list[AliasLine] = []
    first_line: dict[tuple[str, str], int] = {}
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(found) + len(problems) >= MAX_LINKS:
            raise AliasFileError([f"line {number}: more than {MAX_LINKS} links in one file; "
                                  "split the file"])
        wrong = _problem(row, known_schools)
        if wrong is None:
            line = AliasLine(number, *(cell.strip() for cell in row))
            for key, what in (((school_id, line.subject), "subject"),
                              ((line.previous_school, line.previous_subject), "previous id")):
                seen = first_line.setdefault(key, number)
                if seen != number:
                    wrong = f"the same {what} as line {seen}"
            if (line.previous_school, line.previous_subject) == (school_id, line.subject):
                wrong = "links a pupil to themselves"
            found.append(line)
        if wrong:
            problems.append(f"line {number}: {wrong}")
    if problems:
        raise AliasFileError(problems)
    return found


def import_links(registry: Registry, keys: PseudonymKeys, school_id: str, data: bytes,
                 actor: str) -> int:
    """Check the file, then link every line in one transaction; the number of links."""
    known = {school.id for school in registry.schools()}
    lines = read(decode(data), school_id, known)
    pairs = [(anchor(keys, school_id, line.subject),
              anchor(keys, line.previous_school, line.previous_subject)) for line in lines]
    try:
        registry.add_aliases(pairs)
    except LinkRefused as exc:
        raise AliasFileError([f"line {lines[exc.index].line}: {exc.reason}"]) from None
    now = datetime.now(UTC)
    for line in lines:
        record(AliasEvent(now, school_id, "linked by import", actor, line.previous_school,
                          (line.subject, line.previous_subject), line.line))
    return len(lines)
