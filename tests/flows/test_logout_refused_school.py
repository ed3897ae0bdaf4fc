"""A login Loper refused after the pupil really logged in at school, on a shared device.

Milan (OBS De Es) picks CBS De Linde behind the demo hub "Entree" and logs in there: the hub
answers for De Es (after asking once more for a fresh login, if the answer came from an
earlier session), and Loper refuses on its 403 page. Loper keeps no session, but Milan's
session at the hub lives, and the hub would answer the next pupil who picks OBS De Es as
Milan. "Log out everywhere" in that browser now asks the
hub to end it (one LogoutRequest naming Milan) and lists the school as logged out, instead of
saying that nobody was logged in; the next pupil types a password. The same for a teacher whose
login is too weak for the app at a plain SAML school (De Regenboog).

The LogoutRequests are counted as the browser carried them (tests/flows/test_logout_hub.py,
tests/flows/test_logout_earlier_schools.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from broker.acr import REFEDS_MFA
from broker.logout import refused
from demo.hub import HUB_PEOPLE
from demo.people import DemoPerson
from tests.flows.conftest import (
    REGENBOOG,
    Federation,
    at_school_login,
    log_in_via_picker,
    log_out,
)
from tests.flows.test_logout_earlier_schools import asked, schools_listed
from tests.flows.test_logout_hub import asked_at_hub, logged_in_at_hub
from tests.peers.browser import Browser

FLEUR, _JAN, MILAN, ZOE = HUB_PEOPLE
LINDE, ES = "CBS De Linde", "OBS De Es"
NOBODY = "Er was op dit apparaat niemand ingelogd"


@pytest.fixture(scope="module", autouse=True)
def taalapp_wants_mfa_of_teachers(federation: Federation) -> None:
    """Taalapp requires MFA of employees; De Regenboog's logins are passwords."""
    broker = federation.broker
    exported = broker.registry.export_federation()
    strict = tuple(replace(s, employee_acr=REFEDS_MFA) if s.id == "taalapp" else s
                   for s in exported.suppliers)
    broker.registry.import_federation(replace(exported, suppliers=strict),
                                      key_version=broker.pseudonym_keys.current)


def refused_behind_the_hub(browser: Browser, federation: Federation,
                           person: DemoPerson = MILAN, school: str = LINDE) -> None:
    """`person` picks `school` at Rekenwonders and logs in at the hub, which answers for
    another school (or none): Loper refuses it, at once or (when the hub answered from an
    earlier session) after asking once more for a fresh login."""
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    browser.click(school)
    logins = 0
    while logins < 3 and at_school_login(browser):  # twice; once, if the hub answered first
        browser.login(person.id)
        logins += 1
    assert browser.page.status_code == 403 and 0 < logins <= 2, browser.text[:500]


def picks_es_at_leesplein(browser: Browser, federation: Federation) -> bool:
    """The next pupil opens Leesplein and picks OBS De Es: is a password asked?"""
    browser.get(f"{federation.supplier('leesplein')}/login")
    browser.click(ES)
    return at_school_login(browser)


def test_log_out_everywhere_ends_the_hub_session_of_a_refused_pupil(
        federation: Federation, browser: Browser) -> None:
    refused_behind_the_hub(browser, federation)
    assert logged_in_at_hub(browser, federation)  # Loper kept nothing; the hub did

    log_out(browser, federation.issuer)

    assert asked_at_hub(browser, federation) == [MILAN.id]  # once, naming Milan
    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert NOBODY not in browser.text
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [LINDE]
    assert not logged_in_at_hub(browser, federation)
    assert picks_es_at_leesplein(browser, federation)  # the next pupil types a password


def test_it_is_asked_once_and_then_forgotten(federation: Federation, browser: Browser) -> None:
    refused_behind_the_hub(browser, federation)
    log_out(browser, federation.issuer)
    carried = len(asked_at_hub(browser, federation))

    log_out(browser, federation.issuer)

    assert len(asked_at_hub(browser, federation)) == carried == 1
    assert NOBODY in browser.text


def test_with_a_session_of_loper_it_is_asked_after_it(federation: Federation,
                                                      browser: Browser) -> None:
    """Fleur is logged in (a Loper session at De Linde); then, at another app that asks for a
    fresh login, Milan is refused in the same browser: one logout asks the hub for both
    sessions, Fleur's first."""
    log_in_via_picker(browser, federation.supplier("leesplein"), FLEUR, LINDE)
    browser.get(f"{federation.supplier('rekenwonders')}/login",
                {"school": "de-linde", "force": "1"})
    assert at_school_login(browser), browser.text[:500]
    browser.login(MILAN.id)  # the hub answers for De Es, to a fresh login already: refused
    assert browser.page.status_code == 403, browser.text[:500]

    log_out(browser, federation.issuer)

    assert asked_at_hub(browser, federation) == [FLEUR.id, MILAN.id]
    assert schools_listed(browser, "done") == [LINDE]
    assert picks_es_at_leesplein(browser, federation)


def test_a_teacher_too_weak_for_the_app_is_logged_out_at_her_school(
        federation: Federation, browser: Browser) -> None:
    teacher = federation.teacher
    browser.get(f"{federation.supplier('taalapp')}/login", {"school": "regenboog"})
    assert at_school_login(browser), browser.text[:500]
    browser.login(teacher.id)
    assert browser.page.status_code == 403 and "login_too_weak" in browser.text
    assert 'data-way="log-out"' in browser.text  # the page's way on: log out everywhere

    log_out(browser, federation.issuer)

    logouts = asked(browser, federation)
    assert [(school, named.split()[0]) for school, named in logouts] == [
        ("regenboog", teacher.id)]
    assert NOBODY not in browser.text
    assert schools_listed(browser, "done") == [REGENBOOG]
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
    assert at_school_login(browser)  # nobody is logged in at De Regenboog here any more


# -- hostile -------------------------------------------------------------------------------

@pytest.fixture
def other() -> Iterator[Browser]:
    """Another browser (another device, or a private window)."""
    with Browser() as b:
        yield b


def test_another_browsers_logout_does_not_touch_it(federation: Federation, browser: Browser,
                                                   other: Browser) -> None:
    refused_behind_the_hub(browser, federation)

    log_out(other, federation.issuer)

    assert asked_at_hub(other, federation) == []
    assert NOBODY in other.text
    assert logged_in_at_hub(browser, federation)
    log_out(browser, federation.issuer)  # still there for its own browser
    assert asked_at_hub(browser, federation) == [MILAN.id]


def test_many_refused_logins_leave_one_session_per_login_service(
        federation: Federation, browser: Browser) -> None:
    """Each login at the hub in this browser replaced the session the browser had there: the
    last one is the one that lives, and the only one asked."""
    for person, school in ((MILAN, LINDE), (ZOE, LINDE), (MILAN, LINDE), (ZOE, LINDE),
                           (FLEUR, ES)):
        refused_behind_the_hub(browser, federation, person, school)

    log_out(browser, federation.issuer)

    assert asked_at_hub(browser, federation) == [FLEUR.id]
    assert schools_listed(browser, "done") == [ES]
    assert not logged_in_at_hub(browser, federation)


class _Later:
    """The clock of broker/logout/refused.py, a month on."""

    @staticmethod
    def time() -> float:
        return time.time() + 30 * 24 * 3600


def test_a_session_left_long_ago_asks_nothing(federation: Federation, browser: Browser,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    refused_behind_the_hub(browser, federation)
    monkeypatch.setattr(refused, "time", _Later)

    log_out(browser, federation.issuer)

    assert asked_at_hub(browser, federation) == []
    assert NOBODY in browser.text
