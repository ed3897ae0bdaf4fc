"""The parent view: a parent logs in at their child's school for Loper's own page (/me), and
sees the overviews of the children the school names for them, nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker import localtime
from broker.flow import OWN_PAGES
from broker.identity import Person
from broker.portal import guardians
from broker.portal.transparency import overview
from broker.pseudonym import anchor
from broker.registry import Registry
from tests.core.flow_world import FEDERATION, KEYS, LIMIT, World, build_registry

PARENTS = FEDERATION.replace('metadata = "regenboog-idp.xml"\n',
                             'metadata = "regenboog-idp.xml"\nlink_by_eck_id = true\n'
                             'guardian_role = "ouder"\n')
ECK = "https://ketenid.nl/201703/" + "5e" * 64
UNKNOWN_ECK = "https://ketenid.nl/201703/" + "7f" * 64


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = build_registry(tmp_path, PARENTS)
    yield registry
    registry.close()


@pytest.fixture
def world(registry: Registry, tmp_path: Path) -> World:
    return World(registry, tmp_path)


def parent_logs_in(world: World, children: list[str], role: str = "ouder",
                   school: str = "regenboog") -> Person:
    sent = world.flow.start_own_page("/me", school, "browser-1", LIMIT)
    assert sent.url == f"https://{school}.school.example/login"
    landed, session = world.answer(sent, subject="parent-1",
                                   attributes={"role": [role], "guardian_of": children})
    assert landed.url == world.broker.settings.url("/me") and landed.form is None
    return session.person


def children_seen(world: World, parent: Person) -> list[list[str]]:
    """Per child the parent sees: the apps in their history."""
    school = world.broker.registry.school(parent.school_id)
    assert school is not None
    kids = guardians.children(world.broker.registry, KEYS, school, parent)
    today = localtime.today()
    return [[row.supplier for row in view.sent] for child in kids
            if (view := overview(world.broker, child, today)) is not None]


def test_a_parent_sees_each_child_the_school_names_and_nobody_else(world: World,
                                                                   registry: Registry) -> None:
    world.answer(world.ask(hints=("regenboog",)), subject="kind-1")
    world.answer(world.ask(hints=("regenboog",)), subject="kind-2", eck_id=ECK)
    world.answer(world.ask(hints=("regenboog",)), subject="kind-2", eck_id=ECK)
    world.answer(world.ask(hints=("regenboog",)), subject="someone-else")
    rows = len(registry.ledger().entries("regenboog", limit=1000))
    parent = parent_logs_in(world, ["kind-1", ECK, UNKNOWN_ECK, "kind-1"])
    assert len(registry.ledger().entries("regenboog", limit=1000)) == rows, "nothing released"
    assert children_seen(world, parent) == [["Taalapp"], ["Taalapp", "Taalapp"]]
    school = registry.school("regenboog")
    assert school is not None
    kids = guardians.children(registry, KEYS, school, parent)
    assert [k.anchor for k in kids] == [anchor(KEYS, "regenboog", "kind-1"),
                                        anchor(KEYS, "regenboog", "kind-2")]


def test_a_child_who_changed_school_is_found_under_their_linked_anchor(
        world: World, registry: Registry) -> None:
    registry.add_alias(anchor(KEYS, "regenboog", "new-id"), anchor(KEYS, "lyceum", "old-id"))
    world.answer(world.ask(hints=("lyceum",)), subject="old-id")
    parent = parent_logs_in(world, ["new-id"])
    school = registry.school("regenboog")
    assert school is not None
    [child] = guardians.children(registry, KEYS, school, parent)
    assert child.anchor == anchor(KEYS, "lyceum", "old-id")


@pytest.mark.parametrize(("role", "school"), [("student", "regenboog"), ("ouder", "lyceum")])
def test_only_a_parent_by_the_schools_own_role_sees_children(world: World, role: str,
                                                             school: str) -> None:
    world.answer(world.ask(hints=("regenboog",)), subject="kind-1")
    parent = parent_logs_in(world, ["kind-1"], role=role, school=school)
    assert children_seen(world, parent) == []


def test_a_login_for_the_page_goes_through_the_picker_without_a_school(world: World) -> None:
    picker = world.flow.start_own_page("/me", None, "browser-1", LIMIT)
    assert picker.url.startswith(world.broker.settings.url("/discovery?login="))
    login_id = picker.url.rsplit("=", 1)[1]
    assert world.flow.pending(login_id, "browser-1").supplier_id == OWN_PAGES
    sent = world.pick(picker, "regenboog")
    landed, session = world.answer(sent, subject="kind-1")
    assert landed.url.endswith("/me") and session.person.school_id == "regenboog"
