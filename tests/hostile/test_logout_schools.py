"""Hostile answers while a logout goes from school to school (broker/logout/schools.py).

Pupil A logged in at Het Lyceum (OIDC), then pupil B afresh at De Regenboog (SAML) in the same
browser; B presses "log out everywhere", and Loper asks De Regenboog first, then Het Lyceum,
each with a relay state of its own. An answer that is not the one Loper waits for is refused:
another school's (even one signed with that school's real key), a replayed one, one with a
made-up relay state. Nothing is ended by it, nothing new is stored, no peer is called, and the
logout still finishes when the real answer comes.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from demo.people import DEFAULT_PEOPLE
from demo.school_op import LYCEUM_PEOPLE
from tests.flows.conftest import LYCEUM, REGENBOOG, Federation, whoami
from tests.flows.test_logout_earlier_schools import log_in, schools_listed, schools_listed_in
from tests.flows.test_logout_saml import listed
from tests.hostile.attacker import (
    SchoolSide,
    StateWatch,
    Traffic,
    deflated,
    query_of,
    refused,
    send,
    signed_query,
)
from tests.hostile.test_logout import Attacker
from tests.peers.browser import Browser, decode_saml

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
APPS = ("rekenwonders", "taalapp")


@dataclass(frozen=True)
class AtRegenboog:
    """The logout waiting for De Regenboog: Loper's LogoutRequest there, and its answer."""

    request_url: str
    answer_url: str

    @property
    def relay(self) -> str:
        return query_of(self.request_url)["RelayState"]

    @property
    def request_id(self) -> str:
        xml = decode_saml(query_of(self.request_url)["SAMLRequest"])
        return str(etree.fromstring(xml.encode(), PARSER).get("ID"))


def logging_out(federation: Federation, browser: Browser) -> AtRegenboog:
    """A at Rekenwonders through Het Lyceum, B afresh at Taalapp through De Regenboog, then
    "log out everywhere": stopped at De Regenboog, which has answered (its answer not yet
    delivered to Loper)."""
    log_in(browser, federation, "rekenwonders", "lyceum", LYCEUM_PEOPLE[0].id)
    log_in(browser, federation, "taalapp", "regenboog", DEFAULT_PEOPLE[0].id)
    page = send(browser, "GET", federation.issuer + "/logout")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    step = send(browser, "POST", federation.issuer + "/logout", data={"csrf_token": token})
    assert step.status_code == 303, step.text[:300]
    request_url = step.headers["Location"]
    assert request_url.startswith(f"{federation.running.school}/slo?SAMLRequest=")
    answer = send(browser, "GET", request_url)  # the school ends B's session, answers
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(f"{federation.issuer}/saml/sp/slo?")
    return AtRegenboog(request_url, answer.headers["Location"])


def assert_apps_still_logged_in(federation: Federation, browser: Browser) -> None:
    for app in APPS:  # SAML apps: logged out by redirects after the schools, not yet
        assert whoami(browser, federation.supplier(app))["status"] == "ok", app


def test_while_loper_waits_for_one_school_no_other_answer_passes_for_it(
        federation: Federation, browser: Browser, state: StateWatch, traffic: Traffic) -> None:
    regenboog = logging_out(federation, browser)
    run = regenboog.relay.partition(".")[0]
    logged_out = f"{federation.issuer}/oidc/logged-out"
    with state.unchanged(), traffic.none():
        # the OIDC school's way back, with De Regenboog's relay state (seen in the URL)
        refused(send(browser, "GET", logged_out, params={"state": regenboog.relay}), 403,
                "no logout answer of regenboog")
        for forged in (run, f"{run}.made-up", f"{run}.{regenboog.relay}"):
            refused(send(browser, "GET", logged_out, params={"state": forged}), 403,
                    "not the school's answer that this browser's logout waits for")
    assert_apps_still_logged_in(federation, browser)

    to_lyceum = send(browser, "GET", regenboog.answer_url)  # the real answer goes on
    assert to_lyceum.status_code == 303
    assert to_lyceum.headers["Location"].startswith(
        f"{federation.running.schools['lyceum']}/logout?")


def test_an_answer_of_the_school_before_is_refused_and_the_logout_waits(
        federation: Federation, browser: Browser, school: SchoolSide, state: StateWatch,
        traffic: Traffic) -> None:
    regenboog = logging_out(federation, browser)
    to_lyceum = send(browser, "GET", regenboog.answer_url).headers["Location"]
    lyceum_relay = query_of(to_lyceum)["state"]
    slo = federation.issuer + "/saml/sp/slo"
    # De Regenboog, signing with its own key, answers its request again, now with Het
    # Lyceum's relay state: a real school's message, but not the answer Loper waits for
    fresh = Attacker(federation).message("", kind="LogoutResponse", destination=slo,
                                         issuer=school.entity_id,
                                         in_response_to=regenboog.request_id)
    forged = signed_query({"SAMLResponse": deflated(fresh), "RelayState": lyceum_relay},
                          school.keys.key)
    with state.unchanged(), traffic.none():
        refused(send(browser, "GET", regenboog.answer_url), 403, "used once already")
        refused(send(browser, "GET", f"{slo}?{forged}"), 403,
                "does not belong to this logout")
        refused(send(browser, "GET", f"{federation.issuer}/oidc/logged-out",
                     params={"state": regenboog.relay}), 403,
                "not the school's answer that this browser's logout waits for")
    assert_apps_still_logged_in(federation, browser)

    browser.get(to_lyceum)  # Het Lyceum's real answer: the logout goes on to the apps

    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [REGENBOOG, LYCEUM]
    assert sorted(listed(browser, "done")) == ["Rekenwonders", "Taalapp"]
    for app in APPS:
        assert whoami(browser, federation.supplier(app)) is None, app
    with state.unchanged(), traffic.none():  # a school's answer again, once it is all over
        again = send(browser, "GET", regenboog.answer_url)
    assert again.status_code == 200 and "Je bent overal uitgelogd." in again.text
    assert schools_listed_in(again.text, "done") == [REGENBOOG, LYCEUM]
