"""School sessions that refused logins leave behind (broker/logout/refused.py): kept for their
browser alone, one per login service, at most `MAX`, newest first, for as long as a session of
the school would last; taken once by the next logout in that browser, with or without a Loper
session (broker/logout/journey.py), and asked after the sessions it ends, each once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import msgspec
import pytest

from broker import sso
from broker.errors import LoginTooWeak
from broker.logout import refused
from broker.logout.journey import Finished, Logouts
from broker.logout.run import Initiator, Outcome, SchoolStep, browser_key
from broker.logout.schools import SchoolLogouts
from broker.registry import Registry
from broker.store import MemoryStore
from tests.core.flow_world import FEDERATION, World, build_registry
from tests.core.test_codec import PERSON
from tests.core.test_flow_acr import PPT, STRICT


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = build_registry(tmp_path_factory.mktemp("registry"), FEDERATION + STRICT)
    yield registry
    registry.close()


def left(service: str, session: bytes, school: str = "", ttl: int = 600) -> refused.Left:
    return refused.Left(school or service, service, session, int(time.time()) + ttl)


class _Later:
    """The module's clock, an hour on."""

    @staticmethod
    def time() -> float:
        return time.time() + 3600


def test_taken_once_newest_first_by_its_own_browser_alone() -> None:
    store = MemoryStore()
    refused.remember(store, "browser-1", left("regenboog", b"A at De Regenboog"))
    refused.remember(store, "browser-1", left("hub", b"B at the hub", school="de-linde"))
    assert refused.take(store, "browser-2") == ()
    assert refused.take(store, "browser-1") == (SchoolStep("de-linde", b"B at the hub"),
                                                SchoolStep("regenboog", b"A at De Regenboog"))
    assert refused.take(store, "browser-1") == ()  # forgotten once taken


def test_one_per_login_service_and_a_flood_stays_bounded() -> None:
    store = MemoryStore()
    refused.remember(store, "browser-1", left("hub", b"Milan", school="de-linde"))
    refused.remember(store, "browser-1", left("hub", b"Zoe", school="de-es"))
    for n in range(50):
        refused.remember(store, "browser-1", left(f"school-{n}", f"pupil {n}".encode()))
    taken = refused.take(store, "browser-1")
    assert taken == tuple(SchoolStep(f"school-{n}", f"pupil {n}".encode())
                          for n in (49, 48, 47, 46))
    assert len(taken) == refused.MAX
    refused.remember(store, "browser-1", left("hub", b"Milan", school="de-linde"))
    refused.remember(store, "browser-1", left("hub", b"Zoe", school="de-es"))
    assert refused.take(store, "browser-1") == (SchoolStep("de-es", b"Zoe"),)


def test_a_session_whose_time_is_up_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    refused.remember(store, "browser-1", left("regenboog", b"long ago", ttl=60))
    refused.remember(store, "browser-1", left("lyceum", b"still on", ttl=7200))
    refused.remember(store, "", left("lyceum", b"no browser"))  # no cookie: nothing to bind
    monkeypatch.setattr(refused, "time", _Later)
    assert refused.take(store, "browser-1") == (SchoolStep("lyceum", b"still on"),)
    assert refused.take(store, "") == ()


def test_a_refused_answer_leaves_its_school_session_for_the_browser(world: World) -> None:
    sent = world.ask("toetsplein", hints=("regenboog",))
    with pytest.raises(LoginTooWeak):
        world.answer(sent, subject="teacher-1", acr=PPT, attributes={"role": ["employee"]})
    kept = msgspec.msgpack.decode(world.store.get_token(refused.KIND, browser_key("browser-1"))
                                  or b"")
    # what the school's logout needs, and nothing of the pupil: no pseudonym, no attributes
    assert [sorted(each) for each in kept["left"]] == [
        ["school_id", "service_id", "session", "until"]]
    assert kept["left"][0]["session"] == b"at-school:teacher-1"
    assert refused.take(world.store, "browser-1") == (
        SchoolStep("regenboog", b"at-school:teacher-1"),)


def test_a_released_answer_leaves_nothing(world: World) -> None:
    world.answer(world.ask("toetsplein", hints=("regenboog",)), acr=PPT)
    assert refused.take(world.store, "browser-1") == ()


def test_the_next_logout_without_a_session_asks_that_school(world: World) -> None:
    refused.remember(world.store, "browser-1", left("regenboog", b"at-school:teacher-1"))
    logouts = Logouts(world.broker)
    assert isinstance(other := logouts.begin(None, "browser-2", Initiator("pupil")), Finished)
    assert not other.run.had_session and other.run.outcomes == ()

    done = logouts.begin(None, "browser-1", Initiator("pupil"))

    assert isinstance(done, Finished)  # the fake school has no logout: over at once, said so
    assert done.run.had_session
    assert done.run.outcomes == (Outcome("regenboog", "none", "school"),)
    again = logouts.begin(None, "browser-1", Initiator("pupil"))
    assert isinstance(again, Finished) and not again.run.had_session


@pytest.mark.parametrize("initiator", [Initiator("school", "regenboog"),
                                       Initiator("supplier", "taalapp")])
def test_an_app_or_school_logging_out_nobody_here_leaves_them(world: World,
                                                                initiator: Initiator) -> None:
    """Without a Loper session here, only the pupil's "log out everywhere" takes them: an
    app's or a school's logout of someone not logged in here may come to another pupil's
    browser."""
    refused.remember(world.store, "browser-1", left("regenboog", b"at-school:teacher-1"))
    done = Logouts(world.broker).begin(None, "browser-1", initiator)
    assert isinstance(done, Finished) and not done.run.had_session
    assert refused.take(world.store, "browser-1") == (
        SchoolStep("regenboog", b"at-school:teacher-1"),)


def test_the_school_that_logs_out_itself_is_not_asked_back(world: World) -> None:
    current = sso.begin(replace(PERSON, school_id="lyceum"), b"id token of B", 600)
    left_behind = (SchoolStep("regenboog", b"A's NameID"),)
    asked = SchoolLogouts(world.broker).to_ask((current,), Initiator("school", "regenboog"),
                                               left_behind)
    assert asked == (SchoolStep("lyceum", b"id token of B"),)


def test_asked_after_the_sessions_a_logout_ends_and_once(world: World) -> None:
    current = sso.begin(replace(PERSON, school_id="lyceum"), b"id token of B", 600)
    left_behind = (SchoolStep("regenboog", b"A's NameID"), SchoolStep("lyceum", b"id token of B"))
    asked = SchoolLogouts(world.broker).to_ask((current,), Initiator("pupil"), left_behind)
    assert asked == (SchoolStep("lyceum", b"id token of B"),
                     SchoolStep("regenboog", b"A's NameID"))
