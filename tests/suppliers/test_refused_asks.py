"""SAML software that asks for what Loper cannot give: a NameID format Loper does not offer, or an
authentication context no school's login can meet. Loper answers at the SP's ACS with a signed
error Response (Requester / InvalidNameIDPolicy or NoAuthnContext), and the pupil sees the
software's own error (tests/suppliers/error_pages.py), never a Loper page or a login that
hangs.

Shibboleth and SimpleSAMLphp are asked per login (Shibboleth's Login handler parameters,
SimpleSAMLphp's login parameters); mellon asks only what its configuration says
(MellonAuthnContextClassRef, MellonAuthnContextComparisonType), in an instance of its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from lxml import etree

from broker.acr import REFEDS_MFA
from tests.flows.conftest import Federation
from tests.peers.browser import Browser
from tests.suppliers.error_pages import assert_shows_saml_error, mark_logs
from tests.suppliers.journey import open_app
from tests.suppliers.slo import saml_messages
from tests.suppliers.software import Asks, SupplierSoftware

EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BETTER_THAN_MFA = (REFEDS_MFA, "better")
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
REFUSALS = [pytest.param(Asks(name_id_format=EMAIL), "InvalidNameIDPolicy", id="email-nameid"),
            pytest.param(Asks(authn_context=BETTER_THAN_MFA), "NoAuthnContext",
                         id="better-than-mfa")]


def asked(browser: Browser, loper: Federation) -> Asks:
    """What the one AuthnRequest the software sent Loper asked for."""
    [request] = saml_messages(browser, (0, 0), f"{loper.issuer}/saml/idp/sso", "SAMLRequest")
    root = etree.fromstring(request.encode(), etree.XMLParser(resolve_entities=False,
                                                              no_network=True))
    policy = root.find("samlp:NameIDPolicy", NS)
    context = root.find("samlp:RequestedAuthnContext", NS)
    classes = root.findall("samlp:RequestedAuthnContext/saml:AuthnContextClassRef", NS)
    return Asks(policy.get("Format") if policy is not None else None,
                (classes[0].text or "", context.get("Comparison", "exact"))
                if context is not None and len(classes) == 1 else None)


def assert_refused_by_the_software(loper: Federation, software: SupplierSoftware,
                                   browser: Browser) -> None:
    """The only Loper address on the way was its SSO endpoint (no Loper page), and the app
    made no session: its page sends the browser to Loper for a login again."""
    at_loper = {urlsplit(r.url).path for r in browser.history if r.url.startswith(loper.issuer)}
    assert at_loper == {"/saml/idp/sso"}, at_loper
    before = len(browser.history)
    browser.get(software.app_url)
    assert open_app(browser, software) is None, "the app let the pupil in"
    assert [r.url for r in browser.history[before:] if r.url.startswith(loper.issuer)]


@pytest.mark.parametrize("software", ["shibboleth", "simplesamlphp"], indirect=True)
@pytest.mark.parametrize(("asks", "second"), REFUSALS)
def test_the_software_shows_its_error_when_loper_cannot_give_what_a_login_asks(
        loper: Federation, software: SupplierSoftware, browser: Browser, asks: Asks,
        second: str) -> None:
    assert software.asking is not None
    marks = mark_logs(software)

    browser.get(software.asking(asks))

    sent = asked(browser, loper)
    assert asks.name_id_format in (None, sent.name_id_format)
    assert asks.authn_context in (None, sent.authn_context)
    assert_shows_saml_error(browser, software, marks, "Requester", second)
    assert_refused_by_the_software(loper, software, browser)


@pytest.mark.parametrize("software", ["mellon_strict"], indirect=True)
def test_mellon_shows_its_error_when_no_school_can_meet_its_authn_context(
        loper: Federation, software: SupplierSoftware, browser: Browser) -> None:
    marks = mark_logs(software)

    browser.get(software.app_url)

    assert asked(browser, loper).authn_context == BETTER_THAN_MFA
    assert_shows_saml_error(browser, software, marks, "Requester", "NoAuthnContext")
    assert_refused_by_the_software(loper, software, browser)
