"""select_school (OIDC prompt=select_account) in the login journey, with a fake school and a
fake supplier: the pupil picks the school again on the picker, whatever the SSO session or the
app's school hint would have answered (on a shared device: another pupil's school)."""

from __future__ import annotations

import pytest

from broker.errors import TooManyRequests
from broker.flow import StartLimit
from tests.core.flow_world import World, picker_login


@pytest.mark.parametrize("hints", [(), ("regenboog",), ("lyceum",)])
def test_select_school_shows_the_picker_despite_session_and_hint(
        world: World, hints: tuple[str, ...]) -> None:
    session = world.logged_in()
    picker = world.ask(hints=hints, session=session, select_school=True)
    picker_login(picker)
    assert len(world.upstream.sent) == 1  # only the first login went to a school
    sent = world.pick(picker, "lyceum")  # another school's login on a shared device
    assert sent.url == "https://lyceum.school.example/login"
    outgoing, new = world.answer(sent)
    assert outgoing.form is not None and outgoing.form["school"] == "lyceum"
    assert new is not None and new.person.school_id == "lyceum"


def test_select_school_may_pick_the_sessions_school_again(world: World) -> None:
    session = world.logged_in()
    sent = world.pick(world.ask(session=session, select_school=True), "regenboog")
    assert sent.url == "https://regenboog.school.example/login"
    assert world.upstream.sent[-1].force_authn is False  # the school decides on a password


def test_select_school_counts_its_start_with_the_pending_login(world: World) -> None:
    session = world.logged_in()
    kept = dict(world.store._records.values)
    with pytest.raises(TooManyRequests):
        world.ask(session=session, select_school=True, limit=StartLimit("192.0.2.9", 0))
    assert world.store._records.values == kept


def test_a_passive_login_never_shows_the_picker(world: World) -> None:
    session = world.logged_in()
    outgoing = world.ask(session=session, passive=True, select_school=True)
    assert outgoing.form is not None and "sub" in outgoing.form
