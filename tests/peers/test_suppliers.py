"""The demo suppliers on their own: a whole login at the school IdP, what they show after."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from demo.people import SAML_NAMES
from tests.peers.browser import Browser
from tests.peers.conftest import Peers
from tests.peers.saml_xml import NS, parse, start_login

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


@pytest.mark.parametrize("supplier", ["rekenwonders", "taalapp"])
def test_a_login_shows_the_nameid_and_every_attribute(peers: Peers, browser: Browser,
                                                      supplier: str) -> None:
    sp = getattr(peers, supplier)
    person = peers.teacher

    browser.get(f"{sp}/login")
    browser.login(person.id)

    assert browser.url == f"{sp}/"
    assert f'Logged in as <code class="name-id">{person.id}</code>' in browser.text
    for friendly, values in person.saml_attributes().items():
        assert SAML_NAMES[friendly] in browser.text
        assert ", ".join(values) in browser.text
    result = browser.get_json(f"{sp}/whoami")
    assert result["status"] == "ok"
    assert (result["name_id"], result["name_id_format"]) == (person.id, PERSISTENT)
    assert result["attributes"] == {SAML_NAMES[k]: v for k, v in person.saml_attributes().items()}
    assert result["issuer"] == f"{peers.school}/metadata"


@pytest.mark.parametrize("supplier", ["rekenwonders", "taalapp"])
def test_logging_out_at_the_supplier_forgets_the_login(peers: Peers, browser: Browser,
                                                       supplier: str) -> None:
    sp = getattr(peers, supplier)
    browser.get(f"{sp}/login")
    browser.login(peers.pupil.id)

    browser.post(f"{sp}/logout", {})

    # the school's IdP offers single logout: the SP's LogoutRequest went there and back
    assert browser.url.startswith(f"{sp}/slo")
    assert "You are logged out everywhere." in browser.text
    assert browser.get_json(f"{sp}/whoami") is None


def test_rekenwonders_redirects_an_unsigned_request_for_a_persistent_nameid(
        peers: Peers, browser: Browser) -> None:
    request = start_login(browser, peers.rekenwonders, school="regenboog", force="1")

    sent = urlsplit(browser.history[0].headers["Location"])
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == f"{peers.school}/sso/redirect"
    query = parse_qs(sent.query)
    assert query["school"] == ["regenboog"] and "Signature" not in query
    assert request.get("Destination") == f"{peers.school}/sso/redirect"  # the hint is URL-only
    assert request.get("ForceAuthn") == "true" and request.get("IsPassive") is None
    assert request.find("samlp:NameIDPolicy", NS).get("Format") == PERSISTENT
    assert request.find("ds:Signature", NS) is None


def test_taalapp_posts_a_signed_request(peers: Peers, browser: Browser) -> None:
    request = start_login(browser, peers.taalapp, school="regenboog", passive="1")

    form = browser.form("SAMLRequest")
    assert form.action == f"{peers.school}/sso/post?school=regenboog"
    assert request.get("Destination") == f"{peers.school}/sso/post"
    assert request.get("IsPassive") == "true" and request.get("ForceAuthn") is None
    assert request.get("ProtocolBinding") == POST
    method = request.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS)
    assert method.get("Algorithm") == RSA_SHA256


def test_rekenwonders_metadata_wants_signed_assertions_and_offers_an_encryption_key(
        peers: Peers) -> None:
    md = parse(requests.get(f"{peers.rekenwonders}/metadata", timeout=5).text)

    sp = md.find("md:SPSSODescriptor", NS)
    assert sp.get("WantAssertionsSigned") == "true"
    assert {k.get("use") for k in sp.iterfind("md:KeyDescriptor", NS)} == {"signing",
                                                                            "encryption"}
    assert [n.text for n in sp.iterfind("md:NameIDFormat", NS)] == [PERSISTENT]
    acs = sp.find("md:AssertionConsumerService", NS)
    assert (acs.get("Binding"), acs.get("Location")) == (POST, f"{peers.rekenwonders}/acs")
    requested = [a.get("Name") for a in sp.iterfind(".//md:RequestedAttribute", NS)]
    assert requested == [SAML_NAMES["givenName"]]


def test_taalapp_metadata_signs_requests_and_has_no_encryption_key(peers: Peers) -> None:
    md = parse(requests.get(f"{peers.taalapp}/metadata", timeout=5).text)

    sp = md.find("md:SPSSODescriptor", NS)
    assert sp.get("AuthnRequestsSigned") == "true"
    assert sp.get("WantAssertionsSigned") == "true"
    assert {k.get("use") for k in sp.iterfind("md:KeyDescriptor", NS)} == {"signing"}
    assert md.get("validUntil") is None
    requested = {a.get("Name") for a in sp.iterfind(".//md:RequestedAttribute", NS)}
    assert requested == {SAML_NAMES[n] for n in ("givenName", "eduPersonAffiliation",
                                                 "isMemberOf")}


@pytest.mark.parametrize("supplier", ["rekenwonders", "taalapp"])
def test_a_post_without_a_pending_request_is_refused(peers: Peers, browser: Browser,
                                                     supplier: str) -> None:
    sp = getattr(peers, supplier)
    junk = base64.b64encode(b"<samlp:Response/>").decode()

    response = browser.post(f"{sp}/acs", {"SAMLResponse": junk})

    assert response.status_code == 400
    assert "Login failed" in response.text
