"""Reading the SAML messages a test saw go by (namespaces, decoding, request ids)."""

from __future__ import annotations

from lxml import etree

from tests.peers.browser import Browser, decode_saml

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
}


def parse(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False))


def last_response(browser: Browser) -> etree._Element:
    """The last SAMLResponse the browser carried in an auto-POST."""
    posted = [p for p in browser.saml_posts if "SAMLResponse" in p]
    return parse(decode_saml(posted[-1]["SAMLResponse"]))


def start_login(browser: Browser, sp: str, **params: str) -> etree._Element:
    """Start a login at a supplier and stop before anything is posted; the AuthnRequest."""
    browser.get(f"{sp}/login", params, auto_post=False)
    return parse(decode_saml(browser.form("SAMLRequest").fields["SAMLRequest"]))


def pending_request_id(browser: Browser, sp: str) -> str:
    return str(start_login(browser, sp).get("ID"))
