"""The authentication context end to end, over real HTTP: a SAML supplier's
RequestedAuthnContext reaches the SAML school and is checked on its answer (the demo school
logs in with PasswordProtectedTransport); an OIDC supplier's acr_values reach the OIDC school,
and the ID token's acr is the school's."""

from __future__ import annotations

from urllib.parse import quote

from lxml import etree
from saml2.samlp import STATUS_NO_AUTHN_CONTEXT, STATUS_RESPONDER, STATUS_SUCCESS

from broker import acr
from broker.downstream.saml_kind import SamlSupplier
from tests.flows.conftest import (
    LYCEUM_ACR,
    Federation,
    oidc_request_to_school,
    saml_request_to_school,
)
from tests.flows.strict_rp import StrictRp
from tests.hostile.attacker import SAML_NS, authn_request, deflated, xml_parser
from tests.peers.browser import Browser, decode_saml

PPT = acr.AC + "PasswordProtectedTransport"


def requested(comparison: str, *classes: str) -> str:
    refs = "".join(f"<saml:AuthnContextClassRef>{c}</saml:AuthnContextClassRef>"
                   for c in classes)
    return f'<samlp:RequestedAuthnContext Comparison="{comparison}">{refs}' \
           "</samlp:RequestedAuthnContext>"


def log_in_asking(federation: Federation, browser: Browser, context: str) -> etree._Element:
    """Rekenwonders asks with `context`; the pupil logs in at De Regenboog; Loper's answer."""
    record = federation.registry.supplier("rekenwonders")
    assert record is not None and isinstance(record.config, SamlSupplier)
    xml = authn_request(record.config.entity_id, name_id_policy=context)
    sso = federation.running.broker + "/saml/idp/sso"
    browser.get(f"{sso}?SAMLRequest={quote(deflated(xml), safe='')}&school=regenboog")
    browser.login(federation.pupil.id)
    posts = [p for p in browser.saml_posts if "SAMLResponse" in p
             and p["action"].startswith(federation.supplier("rekenwonders"))]
    assert posts, browser.text[:500]
    return etree.fromstring(decode_saml(posts[-1]["SAMLResponse"]).encode(), xml_parser())


def codes(answer: etree._Element) -> list[str | None]:
    return [c.get("Value") for c in answer.iter(f"{{{SAML_NS['samlp']}}}StatusCode")]


def test_a_saml_suppliers_context_reaches_the_school_and_is_met(federation: Federation,
                                                                browser: Browser) -> None:
    answer = log_in_asking(federation, browser, requested("minimum", PPT))
    sent = etree.fromstring(saml_request_to_school(browser, federation.running.school).encode(),
                            xml_parser())
    context = sent.find("samlp:RequestedAuthnContext", SAML_NS)
    assert context is not None and context.get("Comparison") == "minimum"
    assert [r.text for r in context] == [PPT]
    assert codes(answer) == [STATUS_SUCCESS]


def test_a_login_below_the_saml_suppliers_context_gets_no_authn_context(
        federation: Federation, browser: Browser) -> None:
    before = len(federation.registry.ledger().entries("regenboog", "rekenwonders"))
    answer = log_in_asking(federation, browser, requested("minimum", acr.REFEDS_MFA))
    assert codes(answer) == [STATUS_RESPONDER, STATUS_NO_AUTHN_CONTEXT]
    assert answer.find("saml:Assertion", SAML_NS) is None
    assert answer.find("saml:EncryptedAssertion", SAML_NS) is None
    assert len(federation.registry.ledger().entries("regenboog", "rekenwonders")) == before


def test_acr_values_reach_the_oidc_school_and_the_id_token_has_its_acr(
        federation: Federation, rp: StrictRp) -> None:
    login = rp.begin(idp_hint="lyceum", acr_values=acr.REFEDS_MFA)
    with Browser() as browser:
        browser.get(login.url)
        browser.login(federation.lyceum_pupil.id)
        sent = oidc_request_to_school(browser, federation.running.schools["lyceum"])
        tokens = rp.finish(login, browser.url)
    assert sent["acr_values"] == acr.REFEDS_MFA
    assert tokens.id_token["acr"] == LYCEUM_ACR  # what the school asserted, never invented
