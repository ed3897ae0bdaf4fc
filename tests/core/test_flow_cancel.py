"""The pupil stops a login (broker/flow_cancel.py), with a fake school and a fake supplier: the
app is answered once, by its own protocol's error answer, and every stray or stale link gets
a clear error instead of a second answer."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from broker import flow_cancel, metrics
from broker.downstream import STOPPED
from broker.errors import (
    LoginCancelled,
    LoginExpired,
    NoLoginStarted,
    UnknownSupplier,
)
from broker.flow import OWN_PAGES
from broker.outgoing import Outgoing
from tests.core.flow_world import LIMIT, PROTOCOL, World, picker_login

ANSWERED = {"upstream": "none", "downstream": PROTOCOL, "outcome": "answered_error"}


def stop(world: World, login_id: str, browser: str = "browser-1") -> Outgoing:
    return flow_cancel.cancel(world.flow, login_id, browser)


def cancelled_at_school(world: World, sent: Outgoing,
                        monkeypatch: pytest.MonkeyPatch) -> LoginCancelled:
    """The school answers that the pupil pressed Cancel there."""
    def cancelled(*_: object) -> None:
        raise LoginCancelled("the pupil pressed Cancel at the school")

    monkeypatch.setattr(world.upstream, "handle_callback", cancelled)
    with pytest.raises(LoginCancelled) as caught:
        world.answer(sent)
    return caught.value


def answered() -> float:
    return metrics.REGISTRY.get_sample_value("loper_logins_total", ANSWERED) or 0.0


def test_stopping_at_the_picker_answers_the_app_once(world: World,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    login_id = picker_login(world.ask())
    before = answered()
    with caplog.at_level(logging.INFO, logger="loper.flow"):
        outgoing = stop(world, login_id)
    assert outgoing == Outgoing("https://taalapp.example/callback",
                                {"error": STOPPED})
    assert answered() == before + 1
    lines = [r for r in caplog.records if r.getMessage() == "pupil stopped the login"]
    assert len(lines) == 1
    assert (lines[0].__dict__["login"], lines[0].__dict__["school"]) == (login_id, "-")
    with pytest.raises(LoginExpired):  # the reload: the app is not answered twice
        stop(world, login_id)
    assert answered() == before + 1


def test_stopping_after_cancel_at_school_uses_the_fresh_login(world: World,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              ) -> None:
    """The cancelled page's way out stops the login it saved for another try, and says which
    school the pupil was at in the log."""
    exc = cancelled_at_school(world, world.pick(world.ask(), "regenboog"), monkeypatch)
    assert exc.cancel_url is not None and exc.other_school_url is not None
    again = parse_qs(urlsplit(exc.cancel_url).query)["login"][0]
    assert urlsplit(exc.cancel_url).path == "/discovery/cancel"
    assert exc.other_school_url.endswith(f"/discovery?login={again}")
    assert stop(world, again).form == {"error": "AuthnFailed"}
    with pytest.raises(LoginExpired):  # nor can "another school" use it after that
        world.flow.pending(again, "browser-1")


def test_the_school_chosen_is_logged(world: World, caplog: pytest.LogCaptureFixture) -> None:
    sent = world.pick(world.ask(), "regenboog")
    assert sent.form is not None
    with caplog.at_level(logging.INFO, logger="loper.flow"):
        stop(world, sent.form["relay"])  # the pupil came back from the school's page
    line = next(r for r in caplog.records if r.getMessage() == "pupil stopped the login")
    assert line.__dict__["school"] == "regenboog"
    assert "sub" not in line.__dict__ and "pupil-1" not in str(line.__dict__)


@pytest.mark.parametrize(("login_id", "error"), [
    ("", NoLoginStarted), ("no-such-login", LoginExpired), ("x" * 64, LoginExpired)])
def test_a_missing_or_unknown_login(world: World, login_id: str,
                                    error: type[Exception]) -> None:
    with pytest.raises(error):
        stop(world, login_id)


def test_an_expired_login(world: World) -> None:
    login_id = picker_login(world.ask())
    world.clock.now += world.broker.settings.pending_ttl + 1
    with pytest.raises(LoginExpired):
        stop(world, login_id)


def test_another_browsers_link_burns_nothing(world: World) -> None:
    login_id = picker_login(world.ask())
    with pytest.raises(LoginExpired):
        stop(world, login_id, browser="browser-2")
    assert stop(world, login_id).form == {"error": "AuthnFailed"}  # its own browser still can


def test_a_supplier_removed_meanwhile(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    login_id = picker_login(world.ask())
    monkeypatch.setattr(world.broker.registry, "supplier", lambda supplier_id: None)
    before = metrics.REGISTRY.get_sample_value("loper_logins_total", {
        **ANSWERED, "outcome": "unknown_supplier"}) or 0.0
    with pytest.raises(UnknownSupplier):
        stop(world, login_id)
    assert metrics.REGISTRY.get_sample_value("loper_logins_total", {
        **ANSWERED, "outcome": "unknown_supplier"}) == before + 1
    monkeypatch.undo()
    with pytest.raises(LoginExpired):  # taken: the app that comes back is not answered late
        stop(world, login_id)


def test_a_login_for_lopers_own_page_goes_back_to_it(world: World) -> None:
    """No app waits: back to the page, which shows itself to nobody logged in (/me)."""
    login_id = picker_login(world.flow.start_own_page("/me", None, "browser-1", LIMIT))
    assert world.flow.pending(login_id, "browser-1").supplier_id == OWN_PAGES
    assert stop(world, login_id) == Outgoing(world.broker.settings.url("/me"))
    with pytest.raises(LoginExpired):
        stop(world, login_id)


def test_own_page_cancelled_at_school_offers_no_app_to_stop(world: World,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    sent = world.flow.start_own_page("/me", "regenboog", "browser-1", LIMIT)
    exc = cancelled_at_school(world, sent, monkeypatch)
    assert exc.cancel_url is None and exc.other_school_url is not None
