"""Hostile answers while a logout goes to an app whose LogoutRequest is made when the browser is
sent there (broker/logout/apps.py). The request the fan-out made at the start, never sent
because the school went first, is answered by nothing: an answer to it is refused, signed with
the app's own key or not. So is an answer while the logout waits for the school (no app step
in flight), the real answer in another browser, and the same answer again while the logout
goes on; the logout still finishes with the real answer, in its own browser.

A pupil of Het Lyceum (OIDC) at Taalapp (the attacker holds its signing key, tests/hostile/
test_logout.py `Attacker`), then a second pupil of Het Lyceum at Taalapp on the same device:
two Taalapp steps, one after the other.
"""

from __future__ import annotations

import pytest

from demo.school_op import LYCEUM_PEOPLE
from tests.flows.conftest import Federation, whoami
from tests.flows.test_logout_earlier_schools import log_in
from tests.flows.test_logout_fresh_requests import Made, press_log_out, request_of, watch_made
from tests.flows.test_logout_saml import listed
from tests.hostile.attacker import StateWatch, query_of, refused, send
from tests.hostile.test_logout import Attacker
from tests.peers.browser import Browser

TAALAPP_SLO = "/slo?SAMLRequest="


@pytest.fixture(scope="module")
def attacker(federation: Federation) -> Attacker:
    return Attacker(federation)


def at_school(federation: Federation, browser: Browser, monkeypatch: pytest.MonkeyPatch
              ) -> tuple[str, Made]:
    """Two pupils of Het Lyceum at Taalapp on this device, one after the other, and "log out
    everywhere": the browser's redirect to the school (not followed), and the requests made."""
    log_in(browser, federation, "taalapp", "lyceum", LYCEUM_PEOPLE[0].id)
    log_in(browser, federation, "taalapp", "lyceum", LYCEUM_PEOPLE[1].id, force="1")
    made = watch_made(federation, monkeypatch)
    location = press_log_out(browser, federation).headers["Location"]
    assert location.startswith(f"{federation.running.schools['lyceum']}/logout?")
    assert [app for app, _ in made.requests] == ["taalapp", "taalapp"]  # at the start
    return location, made


def answer(attacker: Attacker, request_id: str, relay: str) -> str:
    """Taalapp's LogoutResponse (signed with its key) to `request_id`, with `relay`."""
    xml = attacker.message("", kind="LogoutResponse", in_response_to=request_id)
    return attacker.url(xml, relay_state=relay)


def test_no_app_answer_passes_while_the_school_is_waited_for(
        federation: Federation, browser: Browser, attacker: Attacker,
        monkeypatch: pytest.MonkeyPatch, state: StateWatch) -> None:
    to_school, made = at_school(federation, browser, monkeypatch)
    run_id = query_of(to_school)["state"].partition(".")[0]
    for _, request_id in made.requests:  # made at the start, never sent
        with state.unchanged():
            refused(send(browser, "GET", answer(attacker, request_id, run_id)), 403,
                    "logout_rejected", "asked no learning app")

    browser.get(to_school)  # the school answers: the logout goes on and finishes

    assert "Je bent overal uitgelogd." in browser.text
    assert listed(browser, "done") == ["Taalapp"]
    assert whoami(browser, federation.supplier("taalapp")) is None


def test_only_the_answer_to_the_request_sent_passes(
        federation: Federation, browser: Browser, attacker: Attacker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    to_app, made = at_school(federation, browser, monkeypatch)
    lyceum = federation.running.schools["lyceum"]
    while to_app.startswith(lyceum):  # each pupil's session at the school, one by one
        back = send(browser, "GET", to_app).headers["Location"]  # the school's answer
        to_app = send(browser, "GET", back).headers["Location"]
    assert to_app.startswith(federation.supplier("taalapp") + TAALAPP_SLO)
    sent = str(request_of(to_app).get("ID"))
    relay = query_of(to_app)["RelayState"]
    assert sent == made.requests[2][1]  # made as it was sent, not at the start
    for _, stale in made.requests[:2]:
        refused(send(browser, "GET", answer(attacker, stale, relay)), 403,
                "answers no LogoutRequest")
    real = answer(attacker, sent, relay)
    with Browser() as other:  # another browser: its logout is not there
        refused(send(other, "GET", real), 403, "belongs to no logout")

    to_next = send(browser, "GET", real)  # taken: on to the second pupil's Taalapp

    assert to_next.headers["Location"].startswith(federation.supplier("taalapp") + TAALAPP_SLO)
    second = str(request_of(to_next.headers["Location"]).get("ID"))
    assert second == made.requests[3][1] != sent
    refused(send(browser, "GET", real), 403, "still going on")  # the same answer again
    browser.get(answer(attacker, second, relay))
    assert "Je bent overal uitgelogd." in browser.text, browser.text[:300]
    assert listed(browser, "done") == ["Taalapp"]
