"""Each piece of supplier software logs a pupil in through Loper and sees exactly the release;
a second app needs no second login at school."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from demo.people import SAML_NAMES
from tests.flows.conftest import PAIRWISE_ID, REGENBOOG, Federation
from tests.peers.browser import Browser, decode_saml
from tests.suppliers.conftest import SOFTWARE
from tests.suppliers.journey import log_in, open_app
from tests.suppliers.loper import SCHOOL
from tests.suppliers.software import Sent, SupplierSoftware

PSEUDONYM = re.compile(r"^v1-[a-z2-7]{52}$")
SAML_SOFTWARE = [name for name in SOFTWARE if name != "openidc"]
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "xenc": "http://www.w3.org/2001/04/xmlenc#"}


def sent_to(loper: Federation, software: SupplierSoftware) -> Sent:
    """What Loper sends `software` about the pupil: the release of tests/suppliers/loper.py."""
    pupil = loper.pupil
    pseudonym = loper.pseudonym_of(SCHOOL, pupil, software.name)
    saml = {SAML_NAMES["givenName"]: [pupil.given_name],
            SAML_NAMES["eduPersonAffiliation"]: list(pupil.affiliation),
            SAML_NAMES["schacHomeOrganization"]: [pupil.school_domain],
            PAIRWISE_ID: [f"{pseudonym}@127.0.0.1"]}
    claims = {"given_name": [pupil.given_name], "eduperson_affiliation": list(pupil.affiliation),
              "schac_home_organization": [pupil.school_domain]}
    return Sent(pseudonym, saml, claims)


def test_the_app_sees_exactly_the_release(loper: Federation, software: SupplierSoftware,
                                          browser: Browser) -> None:
    seen = log_in(browser, software, loper.pupil)

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
    before = len(browser.history)

    browser.get(software.app_url)
    seen = open_app(browser, software)

    assert seen is not None, "expected single sign-on, got " + browser.url
    assert seen == software.expect(sent_to(loper, software))
    assert not [r.url for r in browser.history[before:] if r.url.startswith(loper.running.school)]


@pytest.mark.parametrize("software", SAML_SOFTWARE, indirect=True)
def test_the_assertion_arrives_encrypted_with_aes_gcm(loper: Federation,
                                                      software: SupplierSoftware,
                                                      browser: Browser) -> None:
    log_in(browser, software, loper.pupil)  # the software decrypted it: the app saw the pupil

    posted = [p["SAMLResponse"] for p in browser.saml_posts
              if p["action"].startswith(software.base_url) and "SAMLResponse" in p]
    assert len(posted) == 1
    response = etree.fromstring(decode_saml(posted[0]).encode(),
                                etree.XMLParser(resolve_entities=False, no_network=True))
    assert response.find("saml:Assertion", NS) is None
    encrypted = response.find("saml:EncryptedAssertion", NS)
    assert encrypted is not None
    method = encrypted.find("xenc:EncryptedData/xenc:EncryptionMethod", NS)
    assert method is not None and method.get("Algorithm") == AES256_GCM
    transport = encrypted.find(".//xenc:EncryptedKey/xenc:EncryptionMethod", NS)
    assert transport is not None and transport.get("Algorithm") == RSA_OAEP
