"""Change of school by ECK iD (broker/linking.py), through the real Flow and a real registry.

Schools that link by ECK iD give a pupil arriving with an ECK iD already seen at another such
school that school's anchor: every supplier keeps its pseudonym, and no supplier learns more.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.errors import EckIdClaimedTwice
from broker.pseudonym import anchor
from broker.registry import Registry
from tests.core.flow_world import FEDERATION, KEYS, World, build_registry

LINKING = FEDERATION.replace('metadata = "regenboog-idp.xml"\n',
                             'metadata = "regenboog-idp.xml"\nlink_by_eck_id = true\n').replace(
    "sso_lifetime = 600\n", "sso_lifetime = 600\nlink_by_eck_id = true\n").replace(
    'suspended = "contract under review"\n', "") + """
[[schools]]
id = "kompas"
name = "Het Kompas"
protocol = "oidc"
issuer = "https://login.kompas.example"
client_id = "loper"
client_secret = "s3cret"

[[releases]]
school = "lyceum"
supplier = "leesplein"
attributes = ["role"]

[[releases]]
school = "kompas"
supplier = "taalapp"
attributes = ["role"]

[[releases]]
school = "kompas"
supplier = "leesplein"
attributes = []
"""
SUPPLIERS = ("taalapp", "leesplein")
_ids = itertools.count()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = build_registry(tmp_path_factory.mktemp("registry"), LINKING)
    yield registry
    registry.close()


@pytest.fixture(scope="module")
def world(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(registry, tmp_path_factory.mktemp("instance"))


def eck() -> str:
    return f"https://ketenid.nl/201703/{uuid.uuid4().hex}{uuid.uuid4().hex}"


def subject() -> str:
    return f"pupil-{next(_ids)}"


def log_in(world: World, school: str, who: str, eck_id: str = "",
           supplier: str = "taalapp") -> str:
    """The pseudonym `supplier` receives for this pupil of `school` (a fresh login)."""
    outgoing, _ = world.answer(world.ask(supplier, hints=(school,)), subject=who, eck_id=eck_id)
    assert outgoing.form is not None and outgoing.form["school"] == school
    assert "eck_id" not in outgoing.form["attributes"]
    return outgoing.form["sub"]


def everywhere(world: World, school: str, who: str, eck_id: str = "") -> dict[str, str]:
    return {s: log_in(world, school, who, eck_id, s) for s in SUPPLIERS}


def audit(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "loper.audit"]


def test_a_pupil_who_changes_school_keeps_every_pseudonym(
        world: World, registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "loper.audit")
    the_eck = eck()
    before = everywhere(world, "regenboog", subject(), the_eck)
    new_subject = subject()
    assert everywhere(world, "lyceum", new_subject, the_eck) == before
    assert everywhere(world, "lyceum", new_subject) == before, "the link stays, ECK iD or not"
    assert before["taalapp"] != before["leesplein"]
    [linked] = audit(caplog)
    assert linked.getMessage() == "alias linked by ECK iD"
    assert (linked.school, linked.actor, linked.other_school) == ("lyceum", "login", "regenboog")
    assert the_eck not in caplog.text and before["taalapp"] not in caplog.text
    trail = registry.audit_trail().entries("lyceum", actions=frozenset({"alias"}))
    assert [(e.actor, e.after) for e in trail][:1] == [
        ("login", {"outcome": "linked by ECK iD", "other_school": "regenboog"})]
    assert registry.ledger().verify().ok


def test_no_link_where_one_of_the_schools_does_not_link_by_eck_id(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "loper.audit")
    the_eck = eck()
    at_regenboog = log_in(world, "regenboog", subject(), the_eck)
    at_kompas = log_in(world, "kompas", subject(), the_eck)
    assert at_kompas != at_regenboog
    [refused] = audit(caplog)
    assert refused.getMessage().startswith("alias not linked: one of the two schools does not")
    assert (refused.school, refused.other_school) == ("kompas", "regenboog")
    caplog.clear()
    other_eck = eck()
    first = log_in(world, "kompas", subject(), other_eck)  # kompas keeps nothing of it
    assert log_in(world, "lyceum", subject(), other_eck) != first
    assert audit(caplog) == []


def test_two_pupils_of_one_school_with_one_eck_id_are_refused_and_nothing_is_linked(
        world: World, registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "loper.audit")
    the_eck, first, second = eck(), subject(), subject()
    mine = log_in(world, "regenboog", first, the_eck)
    rows = len(registry.ledger().entries("regenboog", limit=100_000))
    with pytest.raises(EckIdClaimedTwice) as refused:
        log_in(world, "regenboog", second, the_eck)
    assert refused.value.status == 409 and refused.value.code == "eck_id_claimed_twice"
    assert refused.value.back_url == "https://taalapp.example"
    assert len(registry.ledger().entries("regenboog", limit=100_000)) == rows, "nothing sent"
    raw = anchor(KEYS, "regenboog", second)
    assert registry.resolve_anchor(raw) == raw, "nothing linked"
    assert log_in(world, "regenboog", second) != mine
    assert log_in(world, "regenboog", first, the_eck) == mine, "the first pupil is unaffected"
    assert [r.getMessage() for r in audit(caplog)] == [
        "alias refused: another pupil of this school has this ECK iD"]
    [refusal, *_] = registry.audit_trail().entries("regenboog", actions=frozenset({"alias"}))
    assert refusal.after == {"outcome": "refused: another pupil of this school has this ECK iD",
                             "other_school": None}


def test_a_pupil_with_a_new_id_at_the_same_school_is_known_once_an_admin_links_them(
        world: World, registry: Registry) -> None:
    """The school moved to another login (new ids): its admin links the new id to the old."""
    old, new, the_eck = subject(), subject(), eck()
    mine = log_in(world, "regenboog", old, the_eck)
    with pytest.raises(EckIdClaimedTwice):
        log_in(world, "regenboog", new, the_eck)
    registry.add_alias(anchor(KEYS, "regenboog", new), anchor(KEYS, "regenboog", old))
    assert log_in(world, "regenboog", new, the_eck) == mine


def test_an_admins_alias_is_not_overridden_by_an_eck_id(world: World,
                                                        registry: Registry) -> None:
    old, new, the_eck = subject(), subject(), eck()
    registry.add_alias(anchor(KEYS, "lyceum", new), anchor(KEYS, "regenboog", old))
    kept = log_in(world, "regenboog", old)
    log_in(world, "regenboog", subject(), the_eck)
    assert log_in(world, "lyceum", new, the_eck) == kept


def test_loper_keeps_no_eck_id(world: World, registry: Registry, tmp_path: Path) -> None:
    the_eck = eck()
    log_in(world, "regenboog", subject(), the_eck)
    log_in(world, "lyceum", subject(), the_eck)
    database = Path(str(registry._db.sqlite_path))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert the_eck.encode() not in stored
    assert the_eck.rsplit("/", 1)[1].encode() not in stored


MOVES = [(a, b) for a in ("regenboog", "lyceum", "kompas")
         for b in ("regenboog", "lyceum", "kompas", None) if a != b]
pupils = st.lists(st.sampled_from(MOVES), min_size=1, max_size=4)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=pupils)
def test_linked_pupils_keep_pseudonyms_and_unrelated_pupils_never_collide(
        world: World, moves: list[tuple[str, str | None]]) -> None:
    """Each pupil starts at one school and may move to another: where both schools link,
    every supplier keeps its pseudonym; no two pupils ever share one; a pupil's pseudonyms at
    two suppliers differ."""
    seen: dict[str, int] = {}
    for i, (start, goes_to) in enumerate(moves):
        the_eck = eck()
        before = everywhere(world, start, subject(), the_eck)
        after = everywhere(world, goes_to, subject(), the_eck) if goes_to else before
        linked = goes_to is None or "kompas" not in (start, goes_to)
        assert (after == before) is linked
        assert len(set(before.values())) == len(SUPPLIERS), "unlinkable across suppliers"
        for pseudonym in {*before.values(), *after.values()}:
            assert seen.setdefault(pseudonym, i) == i, "two pupils share a pseudonym"
