"""A hub with two schools behind it, over real HTTP: the demo hub (a pysaml2 IdP answering for
CBS De Linde and OBS De Es, demo/hub.py) -> Loper -> SAML and OIDC suppliers.

The picker lists the schools, not the hub; the hub is told the picked school's BRIN in
Scoping/IDPList; the answer belongs to the school it names, with that school's release and
pseudonyms; an answer for the other school, or for a school Loper does not know, makes Loper ask
the hub once more for a fresh login (someone else's session at the hub, on a shared device); if
the fresh answer is such an answer too, it ends on Loper's 4xx page with nothing sent."""

from __future__ import annotations

import html
import re

import pytest

from demo.hub import HUB_PEOPLE, LINDE
from demo.people import DemoPerson
from tests.error_log import detail
from tests.flows.conftest import (
    OID_AFFILIATION,
    OID_GIVEN_NAME,
    PAIRWISE_ID,
    Federation,
    at_school_login,
    log_in_via_picker,
    saml_request_to_school,
    whoami,
)
from tests.peers.browser import Browser
from tests.wall_clock import next_second

FLEUR, JAN, MILAN, ZOE = HUB_PEOPLE
SCHOOL_ID = "urn:mace:dir:attribute-def:nlEduPersonHomeOrganizationId"


def ledger(federation: Federation, school: str) -> int:
    return len(federation.registry.ledger().entries(school, "rekenwonders"))


def test_the_picker_lists_the_schools_behind_the_hub_not_the_hub(federation: Federation,
                                                                browser: Browser) -> None:
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    assert "CBS De Linde" in browser.text and "OBS De Es" in browser.text
    assert "Entree (demo hub)" not in browser.text


def test_a_pupil_behind_the_hub_logs_in_as_a_pupil_of_her_school(federation: Federation,
                                                                 browser: Browser) -> None:
    url = federation.supplier("rekenwonders")
    browser.get(f"{url}/login")
    browser.click("CBS De Linde")
    request = saml_request_to_school(browser, federation.running.schools["entree"])
    assert re.search(rf'<(\w+:)?IDPEntry ProviderID="{LINDE}"', request), request
    names = re.findall(r'name="person" value="([0-9a-f]+)"', browser.text)
    assert names[:2] == [FLEUR.id, JAN.id]  # the hinted school's people first
    browser.login(FLEUR.id)
    me = whoami(browser, url)
    assert me["status"] == "ok", browser.text[:500]
    assert me["name_id"] == federation.pseudonym_of("de-linde", FLEUR, "rekenwonders")
    assert me["attributes"] == {OID_GIVEN_NAME: ["Fleur"], OID_AFFILIATION: ["student"],
                                SCHOOL_ID: [LINDE], PAIRWISE_ID: [f"{me['name_id']}@127.0.0.1"]}


def test_the_other_school_behind_the_hub_has_its_own_pupils(federation: Federation,
                                                            browser: Browser) -> None:
    url = federation.supplier("leesplein")
    log_in_via_picker(browser, url, MILAN, "OBS De Es")
    me = whoami(browser, url)
    assert me["status"] == "ok" and me["claims"] == {
        "given_name": "Milan", "eduperson_affiliation": ["student"],
        "nl_edu_person_home_organization_id": ["22YY04"]}


def test_the_next_pupil_at_the_other_school_logs_in_afresh_at_the_hub(
        federation: Federation, browser: Browser) -> None:
    """Fleur (De Linde) is still logged in at the hub when Milan (De Es) opens the app on the
    same device: the hub answers as Fleur, and Loper asks it again with ForceAuthn instead of
    ending on its 403 page, so Milan logs in as himself."""
    url = federation.supplier("rekenwonders")
    log_in_via_picker(browser, url, FLEUR, "CBS De Linde")
    assert whoami(browser, url)["status"] == "ok", browser.text[:500]
    before = ledger(federation, "de-linde"), ledger(federation, "de-es")
    browser.get(f"{url}/login", {"school": "de-es"})
    assert at_school_login(browser), browser.text[:500]
    assert 'ForceAuthn="true"' in saml_request_to_school(browser,
                                                         federation.running.schools["entree"])
    browser.login(MILAN.id)
    me = whoami(browser, url)
    assert me["status"] == "ok", browser.text[:500]
    assert me["name_id"] == federation.pseudonym_of("de-es", MILAN, "rekenwonders")
    assert (ledger(federation, "de-linde"), ledger(federation, "de-es")) == (
        before[0], before[1] + 1)


def typed_at_the_hub(browser: Browser, url: str, person: DemoPerson) -> None:
    """Start at the app, pick CBS De Linde and log in at the hub as `person` (a moment after
    the hub was asked: a fresh login there)."""
    browser.get(f"{url}/login")
    browser.click("CBS De Linde")
    next_second()
    browser.login(person.id)


def test_the_next_pupil_after_a_pupil_of_an_unknown_school_logs_in_afresh_at_the_hub(
        federation: Federation, browser: Browser) -> None:
    """Zoë's school is not registered behind the hub: her login ends on Loper's 403 page, but
    her session at the hub stays. Fleur, next on the device, is asked for her password."""
    url = federation.supplier("rekenwonders")
    typed_at_the_hub(browser, url, ZOE)
    assert browser.page.status_code == 403, browser.text[:500]
    browser.get(f"{url}/login", {"school": "de-linde"})
    assert at_school_login(browser), browser.text[:500]
    browser.login(FLEUR.id)
    me = whoami(browser, url)
    assert me["name_id"] == federation.pseudonym_of("de-linde", FLEUR, "rekenwonders")


@pytest.mark.parametrize("person, code, says, lead", [
    (ZOE, "no_school_behind_hub", "a school Loper does not know",
     "Je bent ingelogd bij Entree (demo hub), maar"),
    (MILAN, "other_school_behind_hub", "not for the school you picked",
     "Je koos CBS De Linde, maar volgens Entree (demo hub) logde je in bij OBS De Es."),
], ids=["unknown school", "the other school"])
def test_an_answer_for_an_unknown_or_another_school_is_refused(
        federation: Federation, browser: Browser, person: DemoPerson, code: str,
        says: str, lead: str) -> None:
    """The page names the hub, and the schools picked and logged in at."""
    url = federation.supplier("rekenwonders")
    before = ledger(federation, "de-linde"), ledger(federation, "de-es")
    typed_at_the_hub(browser, url, person)  # a fresh login: refused at once, not asked again
    assert browser.page.status_code == 403, browser.text[:500]
    assert len([r for r in browser.history if "/sso/" in r.url and r.request.method == "GET"
                and "SAMLRequest" in r.url]) == 1, "the hub was asked once"
    assert browser.url.startswith(federation.issuer) and says in detail(browser.text)
    assert code in browser.text and lead in html.unescape(browser.text)
    assert re.search(r'class="error-id">[0-9a-f]{12}<', browser.text)
    assert 'data-way="log-out"' in browser.text  # the session at the hub stays until then
    assert person.given_name not in browser.text
    assert not any(p["action"].startswith(url) for p in browser.saml_posts)
    assert (ledger(federation, "de-linde"), ledger(federation, "de-es")) == before
