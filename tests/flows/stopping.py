"""Helpers for the tests of a pupil who stops a login (broker/flow_cancel.py): the way out on
Loper's pages, and the answer the app received, read as the app would read it."""

from __future__ import annotations

import re
import textwrap

import lxml.html
import requests
from lxml import etree

from tests.flows.conftest import SAML, Federation
from tests.peers.browser import Browser, decode_saml
from tests.xml_signatures import verify_enveloped

DS = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
ERROR_ID = re.compile(r'<span class="error-id">[0-9a-f]{12}</span>')
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def stop_link(browser: Browser) -> tuple[str, str]:
    """The way out on this page (its link marked data-way="stop"): (absolute URL, words)."""
    doc = lxml.html.fromstring(browser.page.content, base_url=browser.url)
    doc.make_links_absolute(browser.url)
    links = doc.xpath('//a[@data-way="stop"]')
    assert len(links) == 1, f"{len(links)} ways out on {browser.url}"
    return str(links[0].get("href")), str(links[0].text_content())


def assert_loper_error(browser: Browser, status: int, code: str) -> None:
    """Loper's own error page with this status and code, and an error id for the helpdesk."""
    assert browser.page.status_code == status, browser.text[:400]
    assert f'data-error-code="{code}"' in browser.text, browser.text[:400]
    assert ERROR_ID.search(browser.text), "the page must show an error id"
    assert 'data-way="stop"' not in browser.text, "no way out of a login that is gone"


def saml_answers_to(browser: Browser, acs_prefix: str) -> list[str]:
    return [p["SAMLResponse"] for p in browser.saml_posts
            if "SAMLResponse" in p and p["action"].startswith(acs_prefix)]


def authn_request_id(browser: Browser, loper: str) -> str:
    """The ID of the last AuthnRequest the app posted to Loper."""
    sent = [p["SAMLRequest"] for p in browser.saml_posts
            if "SAMLRequest" in p and p["action"].startswith(loper)]
    assert sent, "the app posted no AuthnRequest to Loper"
    return str(etree.fromstring(decode_saml(sent[-1]).encode(), PARSER).get("ID"))


def published_certs(federation: Federation) -> set[str]:
    """The certificates of Loper's SAML IdP metadata (base64, without whitespace)."""
    answer = requests.get(f"{federation.issuer}/saml/idp/metadata", timeout=10)
    answer.raise_for_status()
    root = etree.fromstring(answer.content, PARSER)
    return {"".join(c.split()) for c in root.xpath("//ds:X509Certificate/text()",
                                                    namespaces=DS)}


def verified_failure(federation: Federation, raw: str) -> etree._Element:
    """A posted SAMLResponse after xmlsec verified its enveloped signature with the certificate
    it names, which must be one that Loper's IdP metadata publishes."""
    root = etree.fromstring(decode_saml(raw).encode(), PARSER)
    signature = root.find("ds:Signature", DS)
    assert signature is not None, "the Response must be signed"
    body = "".join(signature.findtext(".//ds:X509Certificate", "", DS).split())
    assert body in published_certs(federation)
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(textwrap.wrap(body, 64)) + \
        "\n-----END CERTIFICATE-----\n"
    verify_enveloped(root, pem.encode())
    assert root.xpath("saml:Assertion|saml:EncryptedAssertion", namespaces=SAML) == []
    return root


def status_codes(root: etree._Element) -> list[str]:
    return [str(v) for v in root.xpath("samlp:Status//samlp:StatusCode/@Value",
                                       namespaces=SAML)]


def assert_stopped_answer(federation: Federation, browser: Browser, app: str) -> None:
    """The app received exactly one answer: a signed Responder/AuthnFailed failure to its own
    AuthnRequest, which it read as such."""
    answers = saml_answers_to(browser, app)
    assert len(answers) == 1, f"{len(answers)} answers posted to {app}"
    root = verified_failure(federation, answers[0])
    assert status_codes(root) == [f"{STATUS}Responder", f"{STATUS}AuthnFailed"]
    assert root.get("InResponseTo") == authn_request_id(browser, federation.issuer)
    assert root.get("Destination", "").startswith(app)
    assert browser.url.startswith(app) and "AuthnFailed" in browser.text, "the app read it"
