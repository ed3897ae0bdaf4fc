"""Which school sessions a logout asks to end (broker/logout/schools.py): the current session's
school first, then those of the sessions it replaced, newest first; the same session at the
same school once, two sessions at one school each; none at the school that started it."""

from __future__ import annotations

from dataclasses import replace

from broker import sso
from broker.logout.run import Initiator, LogoutRun, Outcome, SchoolStep
from broker.logout.schools import SchoolLogouts
from tests.core.flow_world import World
from tests.core.test_codec import PERSON


def session(school_id: str, at_school: bytes) -> sso.SsoSession:
    return sso.begin(replace(PERSON, school_id=school_id), at_school, 600)


def test_every_school_session_is_asked_once_current_first(world: World) -> None:
    current = session("lyceum", b"id token of B")
    earlier = (session("regenboog", b"A's NameID"), session("lyceum", b"id token of B"),
               session("regenboog", b"C's NameID"), session("regenboog", b"A's NameID"))
    asked = SchoolLogouts(world.broker).to_ask((current, *earlier), Initiator("pupil"))
    assert asked == (SchoolStep("lyceum", b"id token of B"),
                     SchoolStep("regenboog", b"A's NameID"),
                     SchoolStep("regenboog", b"C's NameID"))


def test_the_school_that_started_the_logout_is_not_asked_back(world: World) -> None:
    ended = (session("regenboog", b"B's NameID"), session("lyceum", b"id token of A"),
             session("regenboog", b"A's NameID"))
    asked = SchoolLogouts(world.broker).to_ask(ended, Initiator("school", "regenboog"))
    assert asked == (SchoolStep("lyceum", b"id token of A"),)
    by_app = SchoolLogouts(world.broker).to_ask(ended, Initiator("supplier", "regenboog"))
    assert len(by_app) == 3  # an app's id is no school's


def test_a_school_without_a_logout_is_over_at_once_and_said_so(world: World) -> None:
    schools = SchoolLogouts(world.broker)
    ended = (session("gone", b"x"), session("gone", b"x"), session("regenboog", b"y"))
    run = LogoutRun("run-1", "browser-1", Initiator("pupil"),
                    schools.to_ask(ended, Initiator("pupil")))
    assert len(run.schools) == 2
    while run.schools:  # no longer registered; an upstream without the Logout interface
        run, outgoing = schools.ask(run)
        assert outgoing is None
    assert not run.complete
    assert run.outcomes == (Outcome("gone", "none", "school"),
                            Outcome("regenboog", "none", "school"))
