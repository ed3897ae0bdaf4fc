"""A hub (one school login answering for many schools, e.g. Entree) through the real Flow: the
picker's schools behind it, the hub's answer found as the one school it names, and every answer
that names none, two, or another school refused before anything is stored or released (once the
hub, asked once more for a fresh login, answers so again)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker import flow_pending, hubs
from broker.errors import NoSchoolBehindHub, OtherSchoolBehindHub, UnknownSchool
from broker.identity import AuthnContext, Identity, PendingLogin
from broker.portal.discovery import listed, pickable
from broker.registry import Registry
from tests.core.flow_world import FEDERATION, LIMIT, World, build_registry, picker_login
from tests.registry.test_federation_hubs import HUB

HUBS = FEDERATION + "\n" + HUB + """
[[releases]]
school = "de-linde"
supplier = "taalapp"
attributes = ["role", "given_name"]

[[releases]]
school = "de-es"
supplier = "taalapp"
attributes = ["role"]
"""
DE_LINDE = {"school_id": ["11ZZ03"]}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = build_registry(tmp_path_factory.mktemp("registry"), HUBS)
    yield registry
    registry.close()


def released(world: World, school: str) -> int:
    return len(world.broker.registry.ledger().entries(school, "taalapp"))


def test_a_pupil_picking_a_school_behind_a_hub_logs_in_at_the_hub_as_that_school(
        world: World) -> None:
    before = released(world, "de-linde")
    sent = world.pick(world.ask(), "de-linde")
    assert sent.url == "https://entree.school.example/login"  # the hub's adapter, the hub
    assert [login.school_id for login in world.upstream.sent] == ["de-linde"]
    assert [login.school_hint for login in world.upstream.sent] == ["11ZZ03"]  # hint = true
    outgoing, session = world.answer(sent, attributes=DE_LINDE)
    assert outgoing.form is not None and outgoing.form["school"] == "de-linde"
    assert outgoing.form["attributes"] == "given_name,role"  # De Linde's release, not De Es'
    assert session is not None and session.person.school_id == "de-linde"
    assert released(world, "de-linde") == before + 1


def test_schools_behind_one_hub_get_their_own_pseudonyms_and_sessions(world: World) -> None:
    linde = world.answer(world.ask(hints=("de-linde",)), attributes=DE_LINDE)
    es = world.answer(world.ask(hints=("de-es",)), attributes={"school_id": ["22YY04"]})
    assert linde[0].form is not None and es[0].form is not None
    assert es[0].form["school"] == "de-es" and es[0].form["attributes"] == "role"
    assert linde[0].form["sub"] != es[0].form["sub"]  # same hub subject, another school
    assert es[1] is not None and es[1].ttl == 300  # the school's own sso_lifetime


def test_a_session_at_a_school_behind_a_hub_serves_its_next_login(world: World) -> None:
    _, session = world.answer(world.ask(hints=("de-linde",)), attributes=DE_LINDE)
    again = world.ask(hints=("de-linde",), session=world.flow.session(session.id if session
                                                                       else None))
    assert again.form is not None and again.form["school"] == "de-linde"
    assert len(world.upstream.sent) == 1


EARLIER = 600
"""Seconds before the login was sent to the hub that an answer's session began: someone's
earlier login there (the previous pupil's, on a shared device)."""


@pytest.mark.parametrize("attributes", [
    {"school_id": ["99XX99"]}, {}, {"school_id": ["11ZZ03", "22YY04"]},
], ids=["no school matches", "school attribute missing", "two schools match"])
def test_a_hub_answer_for_no_single_school_is_refused(world: World,
                                                      attributes: dict[str, list[str]]) -> None:
    """Asked once more with ForceAuthn first (someone else's session at the hub, a pupil of a
    school Loper does not know); refused when the fresh answer names no single school too."""
    before = released(world, "de-linde"), released(world, "de-es")
    again, session = world.answer(world.ask(hints=("de-linde",)), attributes=attributes,
                                  age=EARLIER)
    assert session is None and [s.force_authn for s in world.upstream.sent] == [False, True]
    with pytest.raises(NoSchoolBehindHub) as caught:
        world.answer(again, attributes=attributes)
    assert caught.value.status == 403 and caught.value.code == "no_school_behind_hub"
    assert caught.value.back_url == "https://taalapp.example"
    assert (released(world, "de-linde"), released(world, "de-es")) == before
    assert world.store.sessions_put == 0


def test_a_hub_answer_for_another_school_asks_the_hub_again_with_force(world: World) -> None:
    """Someone else's session at the hub (the previous pupil's): the hub is asked once more,
    now with ForceAuthn, and only the fresh answer for the picked school is released."""
    before = released(world, "de-es"), released(world, "de-linde")
    again, session = world.answer(world.ask(hints=("de-linde",)),
                                  attributes={"school_id": ["22YY04"]}, age=EARLIER)
    assert session is None and [s.force_authn for s in world.upstream.sent] == [False, True]
    assert world.upstream.sent[-1].school_id == "de-linde"
    assert (released(world, "de-es"), released(world, "de-linde")) == before
    assert world.store.sessions_put == 0
    _, session = world.answer(again, attributes=DE_LINDE)
    assert session is not None and session.person.school_id == "de-linde"


def test_a_fresh_hub_answer_for_another_school_behind_it_is_refused(world: World) -> None:
    before = released(world, "de-es")
    again, _ = world.answer(world.ask(hints=("de-linde",)), attributes={"school_id": ["22YY04"]},
                            age=EARLIER)
    with pytest.raises(OtherSchoolBehindHub):
        world.answer(again, attributes={"school_id": ["22YY04"]})
    assert released(world, "de-es") == before and world.store.sessions_put == 0


@pytest.mark.parametrize("attributes", [{"school_id": ["22YY04"]}, {"school_id": ["99XX99"]}],
                         ids=["another school", "no school"])
def test_a_hub_login_made_after_the_pupil_was_sent_there_is_not_asked_again(
        world: World, attributes: dict[str, list[str]]) -> None:
    """The pupil typed their password at the hub for this login: a fresh login already, so the
    refusal comes at once instead of a second password form that reads as a wrong password."""
    with pytest.raises((OtherSchoolBehindHub, NoSchoolBehindHub)):
        world.answer(world.ask(hints=("de-linde",)), attributes=attributes)
    assert [s.force_authn for s in world.upstream.sent] == [False]
    assert world.store.sessions_put == 0


def test_the_picker_lists_the_schools_behind_a_hub_not_the_hub(world: World) -> None:
    schools = pickable(world.broker.registry.schools())
    assert [s.id for s in schools] == ["de-linde", "lyceum", "de-es", "regenboog"]
    assert [s.id for s in listed(schools, "linde")[0]] == ["de-linde"]
    assert listed(schools, "entree") == ([], False)


def test_the_hub_itself_is_never_picked_nor_hinted(world: World) -> None:
    picker_login(world.ask(hints=("entree", "https://hub.example")))  # to the picker instead
    with pytest.raises(UnknownSchool):
        world.pick(world.ask(), "entree")
    assert world.upstream.sent == []


def test_a_login_for_own_pages_through_a_hub(world: World) -> None:
    sent = world.flow.start_own_page("/me", "de-es", "browser-1", LIMIT)
    _, session = world.answer(sent, attributes={"school_id": ["22YY04"]})
    assert session is not None and session.person.school_id == "de-es"


def test_a_hub_is_hinted_only_with_hint_on_and_a_value_for_the_school(tmp_path: Path) -> None:
    """`hint_value` wins over the one `match` value; a hub without `hint` hears nothing."""
    (tmp_path / "hinted").mkdir()
    (tmp_path / "quiet").mkdir()
    hinted = build_registry(tmp_path / "hinted", HUBS.replace(
        'via = "entree"\nsso_lifetime', 'via = "entree"\nhint_value = "https://idp.de-es.nl"'
        "\nsso_lifetime"))
    quiet = build_registry(tmp_path / "quiet", HUBS.replace("hint = true", "hint = false"))
    for registry, expected in ((hinted, "https://idp.de-es.nl"), (quiet, None)):
        other = World(registry, tmp_path)
        other.pick(other.ask(), "de-es")
        assert [login.school_hint for login in other.upstream.sent] == [expected]
        registry.close()


@pytest.mark.parametrize("stated", [True, False], ids=["says when", "does not say when"])
def test_a_hub_that_does_not_say_when_the_pupil_logged_in_is_asked_again(
        world: World, stated: bool) -> None:
    """An OIDC hub without auth_time: its answer may well be the previous pupil's session, so
    the refusal carries no time and the hub is asked for a fresh login as before."""
    hub = world.broker.registry.school("entree")
    assert hub is not None
    now = datetime.now(UTC)
    identity = Identity("entree", "someone", {"school_id": ("22YY04",)},
                        AuthnContext(now, stated=stated))
    with pytest.raises(OtherSchoolBehindHub) as caught:
        hubs.school_of(hub, identity, world.broker.registry.schools_behind("entree"),
                       "de-linde")
    assert caught.value.logged_in_at == (now.timestamp() if stated else None)
    sent = PendingLogin("login", "taalapp", "saml", b"", sent_at=now.timestamp() - 1)
    assert flow_pending.fresh_already(sent, caught.value) is stated
