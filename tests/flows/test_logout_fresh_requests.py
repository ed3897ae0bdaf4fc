"""An app's LogoutRequest is made when the browser is sent there, not when the logout began
(broker/logout/apps.py): the school goes first, and the pupil may stay at its logout page for
minutes, longer than an app takes a LogoutRequest for (its freshness window; Loper's own
requests say NotOnOrAfter, which Taalapp's python3-saml checks in strict mode).

The time the pupil spends at the school is the clock moved on: Loper's for its SAML messages
and Taalapp's python3-saml, both; Het Lyceum (OIDC) is the school. The real demo federation
over HTTP, state in Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import pytest
import requests
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from broker.downstream import LogoutSent
from broker.records import Supplier
from broker.saml import logout_messages, sending
from demo.school_op import LYCEUM_PEOPLE
from tests.flows.conftest import LYCEUM, SAML, Federation, whoami
from tests.flows.strict_rp import query_of
from tests.flows.test_logout_earlier_schools import log_in, schools_listed
from tests.flows.test_logout_saml import listed
from tests.hostile.attacker import send
from tests.peers.browser import Browser, decode_saml

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
AT_SCHOOL = 2 * logout_messages.LIFETIME
"""Seconds the pupil stays at the school's logout: a request made at the start is stale."""


class Clock:
    """Loper's clock for SAML messages and Taalapp's, moved on together."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.ahead)

    def move_on(self, seconds: float) -> None:
        self.ahead += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()

    class Later(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + timedelta(seconds=moved.ahead)

    for module in (sending, logout_messages):
        monkeypatch.setattr(module, "datetime", Later)
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(
        lambda: int(moved.now().timestamp())))
    return moved


@dataclass(frozen=True)
class Made:
    """The LogoutRequests Loper's SAML IdP made, as (app, request ID), sent or not."""

    requests: list[tuple[str, str]]


def watch_made(federation: Federation, monkeypatch: pytest.MonkeyPatch) -> Made:
    """Every LogoutRequest Loper's SAML IdP makes from now on (until the test ends)."""
    idp = federation.broker.downstreams["saml"]
    real = idp.logout  # type: ignore[attr-defined]
    seen = Made([])

    def logout(supplier: Supplier, *args: str) -> LogoutSent | None:
        sent = real(supplier, *args)
        if sent is not None and sent.outgoing is not None:
            seen.requests.append((supplier.id, request_of(sent.outgoing.url).get("ID", "")))
        return sent

    monkeypatch.setattr(idp, "logout", logout)
    return seen


@pytest.fixture
def made(federation: Federation, monkeypatch: pytest.MonkeyPatch) -> Made:
    return watch_made(federation, monkeypatch)


def request_of(url: str) -> etree._Element:
    return etree.fromstring(decode_saml(query_of(url)["SAMLRequest"]).encode(), PARSER)


def sent_to(browser: Browser, app_url: str) -> list[etree._Element]:
    """The LogoutRequests this browser carried to the app, in order."""
    return [request_of(r.url) for r in browser.history
            if r.url.startswith(f"{app_url}/slo?SAMLRequest=")]


def issued(request: etree._Element) -> datetime:
    return datetime.strptime(str(request.get("IssueInstant")),
                             "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def press_log_out(browser: Browser, federation: Federation) -> requests.Response:
    """"Log out everywhere", its first redirect not followed (to the school)."""
    page = send(browser, "GET", federation.issuer + "/logout")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return send(browser, "POST", federation.issuer + "/logout", data={"csrf_token": token})


def to_school(browser: Browser, federation: Federation, *apps: str) -> str:
    """A pupil of Het Lyceum at `apps` presses "log out everywhere": the browser's redirect to
    the school's logout, not followed yet."""
    for app in apps:
        log_in(browser, federation, app, "lyceum", LYCEUM_PEOPLE[0].id)
    location = press_log_out(browser, federation).headers["Location"]
    assert location.startswith(f"{federation.running.schools['lyceum']}/logout?")
    return location


def test_an_app_takes_the_request_made_after_the_pupil_left_the_school(
        federation: Federation, browser: Browser, clock: Clock, made: Made) -> None:
    at_school = to_school(browser, federation, "taalapp")
    clock.move_on(AT_SCHOOL)  # the school's logout page waits for the pupil
    school_answered = clock.now().replace(microsecond=0)

    browser.get(at_school)

    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert "Je bent overal uitgelogd." in browser.text
    assert listed(browser, "done") == ["Taalapp"]
    assert schools_listed(browser, "done") == [LYCEUM]
    assert whoami(browser, federation.supplier("taalapp")) is None
    received = sent_to(browser, federation.supplier("taalapp"))
    assert len(received) == 1
    assert issued(received[0]) >= school_answered  # made after the school answered
    assert received[0].findtext("saml:NameID", namespaces=SAML)  # the pupil, named
    assert [app for app, _ in made.requests] == ["taalapp", "taalapp"]  # at the start, sent
    assert received[0].get("ID") == made.requests[1][1] != made.requests[0][1]


def test_each_app_is_sent_a_request_of_its_own_made_as_it_goes(
        federation: Federation, browser: Browser, made: Made) -> None:
    at_school = to_school(browser, federation, "taalapp", "rekenwonders")

    browser.get(at_school)

    assert "Je bent overal uitgelogd." in browser.text
    assert sorted(listed(browser, "done")) == ["Rekenwonders", "Taalapp"]
    sent = [r.get("ID") for app in ("taalapp", "rekenwonders")
            for r in sent_to(browser, federation.supplier(app))]
    assert len(sent) == len(set(sent)) == 2
    assert len(made.requests) == 4  # two at the start (not sent: the school went first), two
    assert sorted(ident for _, ident in made.requests[2:]) == sorted(sent)


def test_an_app_sent_at_once_gets_the_request_made_at_the_start(
        federation: Federation, browser: Browser, made: Made) -> None:
    log_in(browser, federation, "taalapp", "regenboog", federation.pupil.id)
    log_in(browser, federation, "rekenwonders", "regenboog", federation.pupil.id)
    school = federation.running.school

    browser.post(f"{school}/logout", {})  # the school asks: no school goes before the apps

    assert "You are logged out at school and everywhere." in browser.text
    assert len(made.requests) == 3  # the first app's made once, the second's again
    at_start = dict(made.requests[:2])  # made side by side, in either order
    second, made_again = made.requests[2]
    first = next(app for app in at_start if app != second)
    assert [r.get("ID") for r in sent_to(browser, federation.supplier(first))] == [
        at_start[first]]
    assert [r.get("ID") for r in sent_to(browser, federation.supplier(second))] == [
        made_again]
