"""Schools on Google Workspace and Entra ID -> Loper -> OIDC and SAML suppliers, over real HTTP.

Het Kompas is an OP with Google's claim shapes (`hd`, email_verified; the pupils' own domain
makes their role), De Esdoorn one with Entra ID's (`tid`, `oid`, app `roles`, group object ids).
Each has a third account that is not the school's (another domain, another tenant): Loper must
refuse it on its 4xx page and release nothing (demo/school_cloud.py).
"""

from __future__ import annotations

import re

import pytest

from demo.people import DemoPerson
from demo.school_cloud import ESDOORN_PEOPLE, KOMPAS_PEOPLE
from tests.error_log import detail
from tests.flows.conftest import (
    OID_AFFILIATION,
    OID_GIVEN_NAME,
    PAIRWISE_ID,
    Federation,
    at_school_login,
    log_in_via_picker,
    whoami,
)
from tests.peers.browser import Browser

KOMPAS, ESDOORN = "Het Kompas", "De Esdoorn"
SCHOOLS = {"kompas": (KOMPAS, KOMPAS_PEOPLE), "esdoorn": (ESDOORN, ESDOORN_PEOPLE)}
SCHOOL_IDS = list(SCHOOLS)


def _people(school_id: str) -> tuple[str, tuple[DemoPerson, ...]]:
    return SCHOOLS[school_id]


@pytest.mark.parametrize("school_id", SCHOOL_IDS)
def test_a_pupil_reaches_an_oidc_supplier_with_the_mapped_role(
        federation: Federation, browser: Browser, school_id: str) -> None:
    leesplein = federation.supplier("leesplein")
    name, (pupil, _, _) = _people(school_id)
    log_in_via_picker(browser, leesplein, pupil, name)
    assert browser.url == f"{leesplein}/", browser.text[:500]
    me = whoami(browser, leesplein)
    assert me["status"] == "ok"
    assert me["claims"] == {"given_name": pupil.given_name, "eduperson_affiliation": ["student"]}
    assert pupil.id not in browser.get(f"{leesplein}/whoami").text


@pytest.mark.parametrize("school_id", SCHOOL_IDS)
@pytest.mark.parametrize("supplier, who, role", [("rekenwonders", 0, "student"),
                                                 ("taalapp", 1, "employee")],
                         ids=["pupil", "teacher"])
def test_a_pupil_and_a_teacher_reach_a_saml_supplier_with_the_mapped_role(
        federation: Federation, browser: Browser, school_id: str, supplier: str, who: int,
        role: str) -> None:
    url = federation.supplier(supplier)
    name, people = _people(school_id)
    log_in_via_picker(browser, url, people[who], name)
    me = whoami(browser, url)
    assert me["status"] == "ok", browser.text[:500]
    assert me["name_id"] == federation.pseudonym_of(school_id, people[who], supplier)
    # released: given_name and role; Esdoorn's group object ids never become groups
    assert me["attributes"] == {
        OID_GIVEN_NAME: [people[who].given_name], OID_AFFILIATION: [role],
        PAIRWISE_ID: [f"{me['name_id']}@127.0.0.1"]}


@pytest.mark.parametrize("school_id, claim", [("kompas", "hd"), ("esdoorn", "tid")])
@pytest.mark.parametrize("supplier", ["leesplein", "rekenwonders"])
def test_an_account_of_another_domain_or_tenant_is_refused(
        federation: Federation, browser: Browser, school_id: str, claim: str,
        supplier: str) -> None:
    """Asked once more for a fresh login first (the wrong account may just be the one signed in
    on the device); refused when the fresh login is that account again."""
    url = federation.supplier(supplier)
    name, (_, _, stranger) = _people(school_id)
    before = len(federation.registry.ledger().entries(school_id, supplier))
    log_in_via_picker(browser, url, stranger, name)
    assert at_school_login(browser), browser.text[:500]
    browser.login(stranger.id)
    assert browser.url.startswith(federation.issuer), browser.url
    assert 400 <= browser.page.status_code < 500
    assert 'data-error-code="account_of_another_school"' in browser.text
    assert "Log in met het schoolaccount" in browser.text
    assert len(federation.registry.ledger().entries(school_id, supplier)) == before
    assert re.search(rf"has another value than the '{claim}' claim", detail(browser.text))
    assert stranger.given_name not in browser.text and not browser.saml_posts
    assert not any(r.url.startswith(url) and "/callback" in r.url for r in browser.history)


@pytest.mark.parametrize("school_id", ["kompas", "esdoorn"])
def test_a_pupil_signed_in_with_another_account_gets_to_sign_in_with_theirs(
        federation: Federation, browser: Browser, school_id: str) -> None:
    """Another domain's or tenant's account was signed in on the device: Loper asks the school
    again for a fresh login (prompt=login), where the pupil signs in with their school
    account, instead of a 403 page whose every way on ends there again."""
    url = federation.supplier("leesplein")
    name, (pupil, _, stranger) = _people(school_id)
    log_in_via_picker(browser, url, stranger, name)
    assert at_school_login(browser), browser.text[:500]
    browser.login(pupil.id)
    me = whoami(browser, url)
    assert me["status"] == "ok", browser.text[:500]
    assert me["sub"] == federation.pseudonym_of(school_id, pupil, "leesplein")
