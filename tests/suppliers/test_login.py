"""Each piece of supplier software logs a pupil in through Loper and sees exactly the release;
a second app needs no second login at school."""

from __future__ import annotations

import re

from demo.people import SAML_NAMES
from tests.flows.conftest import PAIRWISE_ID, REGENBOOG, Federation
from tests.peers.browser import Browser
from tests.suppliers.software import Seen, Sent, SupplierSoftware, open_app

PSEUDONYM = re.compile(r"^v1-[a-z2-7]{52}$")


def sent_to(loper: Federation, software: SupplierSoftware) -> Sent:
    """What Loper sends `software` about the pupil: the release of tests/suppliers/loper.py."""
    pupil = loper.pupil
    pseudonym = loper.pseudonym_of("regenboog", pupil, software.name)
    saml = {SAML_NAMES["givenName"]: [pupil.given_name],
            SAML_NAMES["eduPersonAffiliation"]: list(pupil.affiliation),
            SAML_NAMES["schacHomeOrganization"]: [pupil.school_domain],
            PAIRWISE_ID: [f"{pseudonym}@127.0.0.1"]}
    claims = {"given_name": [pupil.given_name], "eduperson_affiliation": list(pupil.affiliation),
              "schac_home_organization": [pupil.school_domain]}
    return Sent(pseudonym, saml, claims)


def log_in(browser: Browser, software: SupplierSoftware, loper: Federation) -> Seen:
    """Open the app, pick the school in Loper's picker, log in at school."""
    browser.get(software.app_url)
    assert "/discovery" in browser.url, browser.text[:500]
    browser.click(REGENBOOG)
    browser.login(loper.pupil.id)
    seen = open_app(browser, software)
    assert seen is not None, f"not back in the app: {browser.url}\n{browser.text[:500]}"
    return seen


def test_the_app_sees_exactly_the_release(loper: Federation, software: SupplierSoftware,
                                          browser: Browser) -> None:
    seen = log_in(browser, software, loper)

    assert PSEUDONYM.match(seen.subject)
    assert seen == software.expect(sent_to(loper, software))
    assert loper.pupil.id not in browser.text


def test_a_second_app_needs_no_second_school_login(loper: Federation,
                                                   software: SupplierSoftware,
                                                   browser: Browser) -> None:
    rekenwonders = loper.supplier("rekenwonders")
    browser.get(f"{rekenwonders}/login")
    browser.click(REGENBOOG)
    browser.login(loper.pupil.id)
    assert browser.url.startswith(rekenwonders)

    browser.get(software.app_url)
    seen = open_app(browser, software)

    assert seen is not None, "expected single sign-on, got " + browser.url
    assert seen == software.expect(sent_to(loper, software))
