"""Linking pupils in bulk from a CSV file, at the start of the school year: one line per pupil,
their id at this school and their id at the school they come from.

    subject,previous_school,previous_subject
    s.devries@lyceum.example,regenboog,8f3a2c

(or the same with semicolons, as a Dutch spreadsheet saves it).

The file is checked whole before anything is linked (every problem names its line), then
every link is made in one transaction, with its row in the audit trails of both schools (the
pupil's new one and the one they come from): all or nothing. A line that is linked already
in the same way changes nothing (the same file twice makes the same links); a line whose
pupil is linked to another identity already is refused: a file never re-points a pupil (the
operator does that, one pupil at a time, with `broker alias add --replace`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from broker.keys import PseudonymKeys
from broker.messages import Message, msg
from broker.pseudonym import anchor
from broker.registry import Registry
from broker.registry.aliases import AliasEvent, AlreadyLinked, Link, LinkRefused, record

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
    """The file cannot be used; `problems` names each line (str(): in English). Nothing was
    linked."""

    def __init__(self, problems: list[Message]) -> None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(msg("alias.more_problems", n=len(problems) - MAX_PROBLEMS))
        super().__init__("nothing was linked: " + "; ".join(str(p) for p in shown))
        self.problems = tuple(shown)


def _at(line: int, problem: Message) -> Message:
    return msg("alias.at_line", line=line, problem=problem)


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise AliasFileError([msg("alias.too_large", kb=MAX_BYTES // 1024, n=MAX_LINKS)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AliasFileError([msg("alias.not_utf8", byte=exc.start + 1)]) from None


def separator(text: str) -> str:
    """"," or, when the header is written with them, ";": what a spreadsheet saves where
    the comma is the decimal sign (Dutch Excel's "CSV")."""
    header = text.split("\n", 1)[0].split(";")
    return ";" if tuple(cell.strip() for cell in header) == HEADER else ","


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text), strict=True)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise AliasFileError([_at(reader.line_num, msg("alias.not_csv", detail=str(exc)))]
                             ) from None


def field_problem(name: str, value: str) -> Message | None:
    """What is wrong with one id (a pupil's subject, a school): empty, or too long."""
    if not value.strip():
        return msg("alias.empty", field=name)
    if len(value) > MAX_FIELD:
        return msg("alias.too_long", field=name, n=MAX_FIELD)
    return None


def _problem(row: list[str], known: Collection[str]) -> Message | None:
    if len(row) != len(HEADER):
        return msg("alias.fields", n=len(row), expected=len(HEADER), header=",".join(HEADER))
    for name, value in zip(HEADER, row, strict=True):
        wrong = field_problem(name, value)
        if wrong is not None:
            return wrong
    if row[1].strip() not in known:
        return msg("alias.unknown_school", school=row[1].strip()[:64])
    return None


def read(text: str, school_id: str, known_schools: Collection[str]) -> list[AliasLine]:
    """The links in the file, or AliasFileError with every problem found."""
    rows = _rows(text)
    first = next(rows, None)
    if first is None or tuple(c.strip() for c in first[1]) != HEADER:
        raise AliasFileError([_at(1, msg("alias.header", header=",".join(HEADER)))])
    problems: list[Message] = []
    found: list[AliasLine] = []
    first_line: dict[tuple[str, str], int] = {}
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(found) + len(problems) >= MAX_LINKS:
            raise AliasFileError([_at(number, msg("alias.too_many", n=MAX_LINKS))])
        wrong = _problem(row, known_schools)
        if wrong is None:
            line = AliasLine(number, *(cell.strip() for cell in row))
            for key, own in (((school_id, line.subject), True),
                             ((line.previous_school, line.previous_subject), False)):
                seen = first_line.setdefault(key, number)
                if seen != number:
                    wrong = (msg("alias.same_subject", line=seen) if own
                             else msg("alias.same_previous", line=seen))
            if (line.previous_school, line.previous_subject) == (school_id, line.subject):
                wrong = msg("alias.self")
            found.append(line)
        if wrong:
            problems.append(_at(number, wrong))
    if problems:
        raise AliasFileError(problems)
    return found


def import_links(registry: Registry, keys: PseudonymKeys, school_id: str, data: bytes,
                 actor: str) -> int:
    """Check the file, then link every line in one transaction; the number of lines (each
    linked now, or linked so already)."""
    known = {school.id for school in registry.schools()}
    lines = read(decode(data), school_id, known)
    links = [Link(anchor(keys, school_id, line.subject),
                  anchor(keys, line.previous_school, line.previous_subject), school_id,
                  line.previous_school) for line in lines]
    try:
        registry.add_aliases(links, by=actor)
    except AlreadyLinked as exc:
        raise AliasFileError([_at(lines[exc.index].line, msg("alias.linked_elsewhere"))]
                             ) from None
    except LinkRefused as exc:
        reason = msg("alias.cycle") if "cycle" in exc.reason else msg("alias.self")
        raise AliasFileError([_at(lines[exc.index].line, reason)]) from None
    now = datetime.now(UTC)
    for line in lines:
        record(AliasEvent(now, school_id, "linked by import", actor, line.previous_school,
                          (line.subject, line.previous_subject), line.line))
    return len(lines)
