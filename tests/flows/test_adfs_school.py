"""A school on ADFS, over real HTTP: the demo IdP "De Wilg" sends what an ADFS relying party
trust sends (Microsoft's claim URIs without a NameFormat, the school's own role values and
group names, demo/school_adfs.py) -> Loper -> SAML and OIDC suppliers.

Loper reads the claims through De Wilg's `[schools.claims]` and `[schools.roles]`: suppliers
get `student` / `employee`, never "Leerlingen"; a role that maps to nothing gives no role; a
given name sent under both urn:oid and Microsoft's claim with different values gives the urn:oid
one, and the log names the claim, never a value."""

from __future__ import annotations

import logging

import pytest

from demo.people import DemoPerson
from demo.school_adfs import OTHER_GIVEN_NAME, WILG_PEOPLE
from tests.flows.conftest import (
    OID_AFFILIATION,
    OID_GIVEN_NAME,
    PAIRWISE_ID,
    Federation,
    log_in_via_picker,
    whoami,
)
from tests.peers.browser import Browser

LOTTE, KEES, NOAH, EVA = WILG_PEOPLE
OID_MAIL = "urn:oid:0.9.2342.19200300.100.1.3"


@pytest.mark.parametrize("person, role", [(LOTTE, "student"), (KEES, "employee")],
                         ids=["pupil", "teacher"])
def test_adfs_claims_reach_a_saml_supplier_as_the_vocabulary(
        federation: Federation, browser: Browser, person: DemoPerson, role: str) -> None:
    url = federation.supplier("rekenwonders")
    log_in_via_picker(browser, url, person, "De Wilg")
    me = whoami(browser, url)
    assert me["status"] == "ok", browser.text[:500]
    assert me["name_id"] == federation.pseudonym_of("wilg", person, "rekenwonders")
    assert me["attributes"] == {OID_GIVEN_NAME: [person.given_name], OID_AFFILIATION: [role],
                                OID_MAIL: [person.email],  # the UPN, by [schools.claims]
                                PAIRWISE_ID: [f"{me['name_id']}@127.0.0.1"]}


def test_the_upn_becomes_the_email_for_an_oidc_supplier(federation: Federation,
                                                       browser: Browser) -> None:
    url = federation.supplier("leesplein")
    log_in_via_picker(browser, url, LOTTE, "De Wilg")
    me = whoami(browser, url)
    assert me["claims"] == {"given_name": "Lotte", "eduperson_affiliation": ["student"],
                            "email": "lotte.vos@wilg.example"}


def test_a_role_that_maps_to_nothing_is_never_passed_on(federation: Federation,
                                                       browser: Browser) -> None:
    url = federation.supplier("rekenwonders")
    log_in_via_picker(browser, url, NOAH, "De Wilg")
    me = whoami(browser, url)
    attributes = me["attributes"]
    assert me["status"] == "ok" and isinstance(attributes, dict)
    assert OID_AFFILIATION not in attributes
    assert "Beheerders" not in browser.get(f"{url}/whoami").text


def test_the_urn_oid_given_name_wins_over_microsofts(federation: Federation, browser: Browser,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="loper.attributes")
    url = federation.supplier("rekenwonders")
    log_in_via_picker(browser, url, EVA, "De Wilg")
    me = whoami(browser, url)
    attributes = me["attributes"]
    assert isinstance(attributes, dict) and attributes[OID_GIVEN_NAME] == ["Eva"]
    conflicts = [r for r in caplog.records if "attribute conflict" in r.getMessage()]
    assert conflicts and all(getattr(r, "attribute", None) == "given_name" for r in conflicts)
    assert OTHER_GIVEN_NAME not in caplog.text and "Eva" not in caplog.text
