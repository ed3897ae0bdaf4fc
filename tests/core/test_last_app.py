"""The app an error page links back to once a login's state is gone (broker/web/last_app.py)."""

from __future__ import annotations

from broker.web import last_app

WINDOW = 900


def test_one_app_is_sure() -> None:
    value = last_app.started("", "rekenwonders", 1000)
    assert last_app.sure(value, WINDOW) == "rekenwonders"
    again = last_app.started(value, "rekenwonders", 1100)  # the same app in two tabs
    assert last_app.sure(again, WINDOW) == "rekenwonders"


def test_two_apps_started_close_together_are_not() -> None:
    value = last_app.started(last_app.started("", "rekenwonders", 1000), "leesplein", 1200)
    assert last_app.sure(value, WINDOW) is None


def test_an_app_started_long_after_the_other_is() -> None:
    value = last_app.started(last_app.started("", "rekenwonders", 1000), "leesplein", 5000)
    assert last_app.sure(value, WINDOW) == "leesplein"
    assert value.count("/") == 1  # two apps kept, never more
    assert last_app.started(value, "taalapp", 9000).count("/") == 1


def test_a_value_from_an_earlier_release_or_garbage() -> None:
    assert last_app.sure("rekenwonders", WINDOW) == "rekenwonders"  # one id, no time
    for junk in ("", "/", "Evil App~1", "~~~", "a" * 100, "x~999999999999999"):
        assert last_app.sure(junk, WINDOW) is None
