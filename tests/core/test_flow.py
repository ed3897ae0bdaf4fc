"""Every branch of the login journey (broker/flow.py), with a fake school and a fake supplier.

The supplier's school hints (SAML `school=`, OIDC `school=`/`idp_hint=`, Scoping/IDPList
entity ids) reach the flow as DownstreamRequest.school_hints; the adapters' own tests check
that each spelling ends up there.
"""

from __future__ import annotations

import pytest

from broker.downstream import NO_PASSIVE
from broker.errors import (
    LoginExpired,
    LoginTooOld,
    SupplierSuspended,
    TooManyRequests,
    UnknownSchool,
    UnknownSupplier,
    UpstreamRejected,
)
from broker.flow import StartLimit, still_open
from tests.core.flow_world import REGENBOOG_IDP, World, picker_login


# -- the first login: picker or hint, school, release ------------------------------------------
def test_without_hint_or_session_the_pupil_picks_a_school(world: World) -> None:
    picker = world.ask()
    assert world.upstream.sent == []
    sent = world.pick(picker, "regenboog")
    assert sent.url == "https://regenboog.school.example/login"
    outgoing, session = world.answer(sent)
    assert outgoing.url == "https://taalapp.example/callback"
    assert outgoing.form is not None
    assert outgoing.form["school"] == "regenboog"
    assert outgoing.form["attributes"] == "given_name,role"  # family_name is not released
    assert session is not None and session.ttl == world.broker.settings.sso_lifetime
    found = world.flow.session(session.id)
    assert found is not None and found.person == session.person


@pytest.mark.parametrize("hints", [
    ("regenboog",), (REGENBOOG_IDP,), ("nobody", "regenboog"), ("regenboog", "lyceum"),
], ids=["school id", "entity id", "first known", "first wins"])
def test_a_hint_skips_the_picker(world: World, hints: tuple[str, ...]) -> None:
    sent = world.ask(hints=hints)
    assert sent.url == "https://regenboog.school.example/login"
    assert [login.school_id for login in world.upstream.sent] == [None]
    assert world.answer(sent)[0].url == "https://taalapp.example/callback"


@pytest.mark.parametrize("hints", [(), ("regenboog",)], ids=["picker", "hint"])
def test_a_start_over_the_limit_is_refused_and_leaves_nothing(world: World,
                                                             hints: tuple[str, ...]) -> None:
    """Straight to the picker, the start is counted with its pending login (one round trip),
    which the refusal takes back; to the school, the start is counted first."""
    limit = StartLimit("192.0.2.9", 2)
    world.ask(hints=hints, limit=limit)
    world.ask(hints=hints, limit=limit)
    kept = dict(world.store._records.values)  # white-box: every record of the store
    with pytest.raises(TooManyRequests):
        world.ask(hints=hints, limit=limit)
    assert world.store._records.values == kept
    assert len(world.upstream.sent) == (2 if hints else 0)  # refused before the school
    world.ask(hints=hints, limit=StartLimit("192.0.2.10", 2))  # another address starts


@pytest.mark.parametrize("school", [None, "regenboog"], ids=["picker", "school"])
def test_an_own_page_start_over_the_limit_is_refused_and_leaves_nothing(
        world: World, school: str | None) -> None:
    limit = StartLimit("192.0.2.9", 1)
    world.flow.start_own_page("/me", school, "browser-1", limit)
    kept = dict(world.store._records.values)  # white-box: every record of the store
    with pytest.raises(TooManyRequests):
        world.flow.start_own_page("/me", school, "browser-1", limit)
    assert world.store._records.values == kept


def test_a_start_served_from_the_session_is_counted_before_it(world: World) -> None:
    session = world.logged_in()
    limit = StartLimit("192.0.2.9", 0)
    kept = dict(world.store._records.values)
    with pytest.raises(TooManyRequests):
        world.ask(session=session, limit=limit)
    assert world.store._records.values == kept


def test_an_unknown_hint_leads_to_the_picker(world: World) -> None:
    picker_login(world.ask(hints=("nobody",)))
    assert world.upstream.sent == []


def test_the_session_lasts_as_long_as_its_school_says(world: World) -> None:
    _, session = world.answer(world.ask(hints=("lyceum",)))
    assert session is not None and session.ttl == 600


def test_one_pupil_keeps_one_pseudonym_per_supplier(world: World) -> None:
    first, _ = world.answer(world.ask(hints=("regenboog",)))
    again, _ = world.answer(world.ask(hints=("regenboog",)))
    other, _ = world.answer(world.ask(hints=("regenboog",)), subject="pupil-2")
    assert first.form and again.form and other.form
    assert first.form["sub"] == again.form["sub"] != other.form["sub"]


# -- single sign-on --------------------------------------------------------------------------
def test_a_second_login_is_served_from_the_session(world: World) -> None:
    session = world.logged_in(age=30)
    outgoing = world.ask(session=session)
    assert outgoing.url == "https://taalapp.example/callback"
    assert outgoing.form is not None and outgoing.form["school"] == "regenboog"
    assert len(world.upstream.sent) == 1  # the school saw only the first login


def test_a_hint_for_the_sessions_school_is_served_from_the_session(world: World) -> None:
    session = world.logged_in()
    assert world.ask(hints=(REGENBOOG_IDP,), session=session).form is not None
    assert len(world.upstream.sent) == 1


def test_a_hint_for_another_school_than_the_sessions_goes_there(world: World) -> None:
    session = world.logged_in()
    sent = world.ask(hints=("lyceum",), session=session)
    assert sent.url == "https://lyceum.school.example/login"
    assert world.upstream.sent[-1].force_authn is False  # a first login at that school


def test_passive_login_is_served_from_the_session(world: World) -> None:
    session = world.logged_in()
    outgoing = world.ask(session=session, passive=True)
    assert outgoing.form is not None and "sub" in outgoing.form


@pytest.mark.parametrize("hints", [(), ("regenboog",)])
def test_passive_login_without_session_fails_at_once(world: World,
                                                     hints: tuple[str, ...]) -> None:
    outgoing = world.ask(hints=hints, passive=True)
    assert outgoing.form == {"error": NO_PASSIVE}
    assert world.upstream.sent == []


def test_force_authn_sends_the_pupil_back_to_school(world: World) -> None:
    session = world.logged_in()
    sent = world.ask(session=session, force_authn=True)
    assert sent.url == "https://regenboog.school.example/login"
    assert world.upstream.sent[-1].force_authn is True


# -- max_age (OIDC Core 3.1.2.1) ---------------------------------------------------------------
def test_a_session_young_enough_for_max_age_serves(world: World) -> None:
    session = world.logged_in(age=30)
    assert world.ask(session=session, max_age=60).form is not None
    assert len(world.upstream.sent) == 1


def test_a_session_too_old_for_max_age_makes_the_school_log_in_again(world: World) -> None:
    session = world.logged_in(age=120)
    sent = world.ask(session=session, max_age=60)
    assert sent.url == "https://regenboog.school.example/login"
    assert world.upstream.sent[-1].force_authn is True
    assert world.upstream.sent[-1].max_age == 60


def test_without_a_session_max_age_is_left_to_the_school(world: World) -> None:
    """Loper cannot know how old the school's own session is: the upstream turns max_age into
    its protocol's terms (OIDC max_age, SAML ForceAuthn; see tests/upstream)."""
    world.ask(hints=("regenboog",), max_age=300)
    assert (world.upstream.sent[-1].max_age, world.upstream.sent[-1].force_authn) == (300, False)


def released_count(world: World) -> int:
    return len(world.broker.registry.ledger().entries("regenboog", "taalapp"))


def test_a_school_login_young_enough_for_max_age_is_released(world: World) -> None:
    outgoing, session = world.answer(world.ask(hints=("regenboog",), max_age=300), age=100)
    assert outgoing.url == "https://taalapp.example/callback" and session is not None
    assert [login.force_authn for login in world.upstream.sent] == [False]


def test_a_school_login_too_old_for_max_age_is_asked_again_with_force(world: World) -> None:
    """Asked without ForceAuthn first, the school answered from an old session: the pupil goes
    back once, now with ForceAuthn, and only the fresh answer is released."""
    before = released_count(world)
    again, session = world.answer(world.ask(hints=("regenboog",), max_age=300), age=1000)
    assert again.url == "https://regenboog.school.example/login" and session is None
    assert [login.force_authn for login in world.upstream.sent] == [False, True]
    assert world.upstream.sent[-1].max_age == 300
    assert released_count(world) == before and world.store.sessions_put == 0
    outgoing, session = world.answer(again, age=5)
    assert outgoing.url == "https://taalapp.example/callback" and session is not None
    assert released_count(world) == before + 1


def test_a_forced_school_login_still_too_old_is_refused(world: World) -> None:
    before = released_count(world)
    again, _ = world.answer(world.ask(hints=("regenboog",), max_age=300), age=1000)
    with pytest.raises(LoginTooOld) as caught:
        world.answer(again, age=1000)
    assert caught.value.status == 403 and caught.value.back_url == "https://taalapp.example"
    assert len(world.upstream.sent) == 2  # asked again once, not in a loop
    assert released_count(world) == before and world.store.sessions_put == 0


def test_an_explicit_force_is_not_asked_again(world: World) -> None:
    sent = world.ask(hints=("regenboog",), max_age=300, force_authn=True)
    with pytest.raises(LoginTooOld):
        world.answer(sent, age=1000)
    assert len(world.upstream.sent) == 1


@pytest.mark.parametrize("school", ["regenboog", "lyceum"])
def test_max_age_zero_survives_the_school_picker(world: World, school: str) -> None:
    """max_age=0 (log in now) is falsy, and once vanished in the stored pending login."""
    world.pick(world.ask(max_age=0), school)
    assert world.upstream.sent[-1].max_age == 0


def test_everything_the_supplier_asked_survives_the_school_picker(world: World) -> None:
    world.pick(world.ask(max_age=0, force_authn=True, passive=False), "regenboog")
    login = world.upstream.sent[-1]
    assert (login.max_age, login.force_authn, login.passive) == (0, True, False)
    assert login.browser == "browser-1" and login.supplier_id == "taalapp"


# -- what ends a login ---------------------------------------------------------------------------
def test_a_suspended_supplier_gets_nothing(world: World) -> None:
    with pytest.raises(SupplierSuspended) as caught:
        world.answer(world.ask("leesplein", hints=("regenboog",)))
    assert caught.value.reason == "contract under review"
    assert caught.value.back_url == "https://leesplein.example"


def test_a_suspended_supplier_gets_nothing_from_the_session_either(world: World) -> None:
    session = world.logged_in()
    with pytest.raises(SupplierSuspended):
        world.ask("leesplein", session=session)


def test_still_open_follows_the_release_policy(world: World) -> None:
    assert still_open(world.broker, "regenboog", "taalapp") is True
    assert still_open(world.broker, "regenboog", "leesplein") is False
    assert still_open(world.broker, "nobody", "taalapp") is False
    assert still_open(world.broker, "regenboog", "nobody") is False


def test_a_replayed_school_answer_is_refused(world: World) -> None:
    world.answer(world.ask(hints=("regenboog",)), answer="assertion-1")
    with pytest.raises(UpstreamRejected, match="already used"):
        world.answer(world.ask(hints=("regenboog",)), answer="assertion-1")


def test_a_second_answer_to_one_login_is_refused(world: World) -> None:
    sent = world.ask(hints=("regenboog",))
    world.answer(sent)
    with pytest.raises(UpstreamRejected, match="does not belong"):
        world.answer(sent)


def test_a_refused_answer_leads_back_to_the_supplier(world: World) -> None:
    sent = world.ask(hints=("regenboog",))
    with pytest.raises(UpstreamRejected) as caught:
        world.answer(sent, subject="")
    assert caught.value.back_url == "https://taalapp.example"
    assert caught.value.supplier_name == "Taalapp"


def test_picking_an_unknown_school(world: World) -> None:
    picker = world.ask()
    with pytest.raises(UnknownSchool) as caught:
        world.pick(picker, "nobody")
    assert caught.value.back_url == world.broker.settings.url(
        f"/discovery?login={picker_login(picker)}")


def test_a_school_whose_protocol_is_not_enabled(world: World) -> None:
    del world.broker.upstreams["oidc"]
    with pytest.raises(UnknownSchool, match="is not enabled"):
        world.ask(hints=("lyceum",))


def test_a_supplier_that_is_no_longer_registered(world: World,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sent = world.ask(hints=("regenboog",))
    monkeypatch.setattr(world.broker.registry, "supplier", lambda supplier_id: None)
    with pytest.raises(UnknownSupplier):
        world.answer(sent)


def test_another_browser_does_not_find_the_pending_login(world: World) -> None:
    picker = world.ask()
    with pytest.raises(LoginExpired):
        world.pick(picker, "regenboog", browser="browser-2")
    world.pick(picker, "regenboog")  # its own browser still can


def test_an_answer_in_another_browser_burns_nobodys_login(world: World) -> None:
    sent = world.ask(hints=("regenboog",))
    with pytest.raises(UpstreamRejected, match="this browser"):
        world.answer(sent, browser="browser-2")
    world.answer(sent)  # the browser that started it still finishes


def test_an_expired_pending_login(world: World) -> None:
    picker = world.ask()
    sent = world.ask(hints=("regenboog",))
    world.clock.now += world.broker.settings.pending_ttl + 1
    with pytest.raises(LoginExpired):
        world.pick(picker, "regenboog")
    with pytest.raises(UpstreamRejected, match="expired"):
        world.answer(sent)


@pytest.mark.parametrize("session_id", [None, "", "unknown"])
def test_no_session(world: World, session_id: str | None) -> None:
    assert world.flow.session(session_id) is None


def test_a_damaged_session_record_is_no_session(world: World) -> None:
    world.store.put_session("damaged", b"\x00not a session", 60)
    assert world.flow.session("damaged") is None
