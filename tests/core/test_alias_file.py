"""Linking pupils in bulk from a CSV file (broker/alias_file.py): all or nothing, every
problem named by its line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker import alias_file
from broker.alias_file import AliasFileError, import_links
from broker.pseudonym import anchor
from broker.registry import Registry
from tests.core.flow_world import KEYS, build_registry

HEADER = "subject,previous_school,previous_subject\n"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = build_registry(tmp_path)
    yield registry
    registry.close()


def linked(registry: Registry, subject: str, school: str = "lyceum") -> str:
    return registry.resolve_anchor(anchor(KEYS, school, subject))


def test_every_line_links_a_new_id_to_the_previous_one(
        registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "loper.audit")
    data = ("\ufeff" + HEADER + "new-1,regenboog,old-1\r\n\r\n"
            '"new,2",regenboog, old-2 \r\n').encode()
    assert import_links(registry, KEYS, "lyceum", data, "ict@lyceum.example") == 2
    assert linked(registry, "new-1") == anchor(KEYS, "regenboog", "old-1")
    assert linked(registry, "new,2") == anchor(KEYS, "regenboog", "old-2")
    events = [r for r in caplog.records if r.name == "loper.audit"]
    assert [(r.getMessage(), r.line, r.actor) for r in events] == [  # type: ignore[attr-defined]
        ("alias linked by import", "2", "ict@lyceum.example"),
        ("alias linked by import", "4", "ict@lyceum.example")]
    assert "old-1" not in caplog.text and "new-1" not in caplog.text
    assert import_links(registry, KEYS, "lyceum", data, "ict") == 2, "again: the same links"
    assert linked(registry, "new-1") == anchor(KEYS, "regenboog", "old-1")


def test_a_file_a_dutch_spreadsheet_saved_with_semicolons(registry: Registry) -> None:
    """Where the comma is the decimal sign, Excel's "CSV" separates fields by semicolons."""
    data = ("\ufeffsubject;previous_school;previous_subject\r\n"
            'new-1;regenboog;old-1\r\n"new;2";regenboog;old,2\r\n').encode()
    assert import_links(registry, KEYS, "lyceum", data, "ict") == 2
    assert linked(registry, "new-1") == anchor(KEYS, "regenboog", "old-1")
    assert linked(registry, "new;2") == anchor(KEYS, "regenboog", "old,2")


@pytest.mark.parametrize(("text", "says"), [
    ("", "line 1: expected the header subject,previous_school,previous_subject"),
    ("subject;previous_school,previous_subject\n", "line 1: expected the header"),
    ("subject\tprevious_school\tprevious_subject\n", "line 1: expected the header"),
    (HEADER + "a,regenboog\n", "line 2: has 2 fields; expected 3"),
    (HEADER + "a,regenboog,b,c\n", "line 2: has 4 fields"),
    (HEADER + "a,atlantis,b\n", 'line 2: unknown school "atlantis" in previous_school'),
    (HEADER + " ,regenboog,b\n", "line 2: subject is empty"),
    (HEADER + "a,regenboog,\n", "line 2: previous_subject is empty"),
    (HEADER + "a,regenboog," + "x" * 256 + "\n", "line 2: previous_subject is longer than 255"),
    (HEADER + "a,regenboog,b\na,regenboog,c\n", "line 3: the same subject as line 2"),
    (HEADER + "a,regenboog,b\nc,regenboog,b\n", "line 3: the same previous id as line 2"),
    (HEADER + "a,lyceum,a\n", "line 2: links a pupil to themselves"),
    (HEADER + 'a,"regenboog\n', "line 2: not CSV"),
])
def test_a_bad_file_names_the_line_and_links_nothing(registry: Registry, text: str,
                                                     says: str) -> None:
    good = HEADER + "fine,regenboog,fine-before\n"
    data = (good + text.removeprefix(HEADER).replace("line 2", "line 3")).encode() if (
        text.startswith(HEADER)) else text.encode()
    with pytest.raises(AliasFileError) as refused:
        import_links(registry, KEYS, "lyceum", data, "ict")
    expected = says.replace("line 3", "line 4").replace("line 2", "line 3") if (
        text.startswith(HEADER)) else says
    assert expected in str(refused.value)
    assert str(refused.value).startswith("nothing was linked: ")
    assert linked(registry, "fine") == anchor(KEYS, "lyceum", "fine"), "nothing half-applied"


def test_a_cycle_late_in_the_file_undoes_the_earlier_lines(registry: Registry) -> None:
    registry.add_alias(anchor(KEYS, "regenboog", "old"), anchor(KEYS, "lyceum", "new"))
    data = (HEADER + "other,regenboog,someone\nnew,regenboog,old\n").encode()
    with pytest.raises(AliasFileError, match="line 3: links the pupil to an identity that is "
                       "already linked to them"):
        import_links(registry, KEYS, "lyceum", data, "ict")
    assert linked(registry, "other") == anchor(KEYS, "lyceum", "other")


def test_a_file_of_100000_lines_is_refused_whole(registry: Registry) -> None:
    lines = "".join(f"n{i},regenboog,o{i}\n" for i in range(100_000))
    with pytest.raises(AliasFileError, match="larger than 1024 KB"):
        import_links(registry, KEYS, "lyceum", (HEADER + lines).encode(), "ict")
    small = "".join(f"{i},regenboog,{i}\n" for i in range(100_000, 110_001))
    assert len(HEADER + small) < alias_file.MAX_BYTES
    with pytest.raises(AliasFileError, match="line 10002: more than 10000 links in one file"):
        import_links(registry, KEYS, "lyceum", (HEADER + small).encode(), "ict")
    assert linked(registry, "100000") == anchor(KEYS, "lyceum", "100000")


def test_many_problems_are_listed_up_to_a_limit(registry: Registry) -> None:
    data = (HEADER + "a,nowhere,b\n" * 30).encode()
    with pytest.raises(AliasFileError) as refused:
        import_links(registry, KEYS, "lyceum", data, "ict")
    assert len(refused.value.problems) == alias_file.MAX_PROBLEMS + 1
    assert str(refused.value.problems[-1]) == "... and 10 more problems"


def test_a_file_that_is_not_utf8_is_refused(registry: Registry) -> None:
    with pytest.raises(AliasFileError, match="not UTF-8"):
        import_links(registry, KEYS, "lyceum", (HEADER + "caf\xe9,regenboog,b\n").encode(
            "latin-1"), "ict")


def test_a_file_never_re_points_a_linked_pupil(registry: Registry) -> None:
    """The same file twice makes the same links; a file moving a pupil to another previous
    identity is refused whole (only `broker alias add --replace` re-points)."""
    first = (HEADER + "new-1,regenboog,old-1\n").encode()
    assert import_links(registry, KEYS, "lyceum", first, "ict@lyceum.example") == 1
    trail = registry.audit_trail()
    for school in ("lyceum", "regenboog"):  # the link is in both schools' trails
        [row] = trail.entries(school, actions=frozenset({"alias"}))
        assert (row.actor, row.after) == ("ict@lyceum.example", {
            "anchor": anchor(KEYS, "lyceum", "new-1"),
            "linked_to": anchor(KEYS, "regenboog", "old-1"), "other_school": "regenboog"})
    moved = (HEADER + "other,regenboog,someone\nnew-1,regenboog,old-2\n").encode()
    with pytest.raises(AliasFileError, match="^nothing was linked: line 3: the subject is "
                       "already linked to another previous identity"):
        import_links(registry, KEYS, "lyceum", moved, "ict@lyceum.example")
    assert linked(registry, "new-1") == anchor(KEYS, "regenboog", "old-1")
    assert linked(registry, "other") == anchor(KEYS, "lyceum", "other")
    assert len(trail.entries("lyceum", actions=frozenset({"alias"}))) == 1
