"""The demo school IdP on its own, answering the demo suppliers directly."""

from __future__ import annotations

import base64
import time
import zlib
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from saml2.pack import http_redirect_message
from saml2.sigver import RSACrypto
from saml2.xmldsig import SIG_RSA_SHA256

from demo.people import DEFAULT_PEOPLE, NAME_FORMAT_URI, SAML_NAMES
from tests.peers.browser import Browser
from tests.peers.conftest import Peers
from tests.peers.saml_xml import NS, last_response, parse, start_login

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
NO_PASSIVE = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"


def test_metadata_offers_sso_over_redirect_and_post(peers: Peers) -> None:
    md = parse(requests.get(f"{peers.school}/metadata", timeout=5).text)

    assert md.get("entityID") == f"{peers.school}/metadata"
    sso = {s.get("Binding"): s.get("Location")
           for s in md.iterfind(".//md:IDPSSODescriptor/md:SingleSignOnService", NS)}
    assert sso == {
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect": f"{peers.school}/sso/redirect",
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST": f"{peers.school}/sso/post",
    }
    assert md.find(".//md:KeyDescriptor[@use='signing']//ds:X509Certificate", NS) is not None


def test_login_form_lists_the_people_and_carries_the_request(peers: Peers,
                                                             browser: Browser) -> None:
    browser.get(f"{peers.rekenwonders}/login")

    assert browser.url.startswith(f"{peers.school}/sso/redirect?")
    form = browser.form("person")
    assert form.action == f"{peers.school}/sso/login"
    assert form.choices["person"] == [p.id for p in DEFAULT_PEOPLE]
    assert {"SAMLRequest", "RelayState", "binding"} <= form.fields.keys()
    assert form.fields["binding"] == "redirect" and form.fields["RelayState"] == "/"
    assert "password" in form.visible
    assert "Sanne de Vries" in browser.text and "Bram Visser" in browser.text


def test_a_wrong_password_shows_the_form_again(peers: Peers, browser: Browser) -> None:
    browser.get(f"{peers.taalapp}/login")

    browser.login(peers.pupil.id, password="geheim")

    assert browser.url == f"{peers.school}/sso/login"
    assert "wrong password" in browser.text
    assert browser.form("person").fields["binding"] == "post"
    browser.login(peers.pupil.id)
    assert browser.get_json(f"{peers.taalapp}/whoami")["name_id"] == peers.pupil.id


def test_answers_with_a_signed_assertion_persistent_nameid_and_uri_attributes(
        peers: Peers, browser: Browser) -> None:
    request_id = start_login(browser, peers.rekenwonders).get("ID")
    browser.login(peers.teacher.id)

    response = last_response(browser)
    assert response.get("Destination") == f"{peers.rekenwonders}/acs"
    assert response.get("InResponseTo") == request_id
    assert response.find("ds:Signature", NS) is None  # the assertion is what is signed
    assertion = response.find("saml:Assertion", NS)
    signature = assertion.find("ds:Signature", NS)
    assert signature.find(".//ds:SignatureMethod", NS).get("Algorithm") == RSA_SHA256
    assert signature.find(".//ds:DigestMethod", NS).get("Algorithm") == SHA256
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    assert (name_id.get("Format"), name_id.text) == (PERSISTENT, peers.teacher.id)
    attributes = assertion.findall(".//saml:Attribute", NS)
    assert {a.get("Name") for a in attributes} == set(SAML_NAMES.values()) - {"guardianOf"}
    assert {a.get("NameFormat") for a in attributes} == {NAME_FORMAT_URI}
    audience = assertion.find(".//saml:AudienceRestriction/saml:Audience", NS).text
    assert audience == f"{peers.rekenwonders}/metadata"


def test_a_second_request_logs_in_without_the_form(peers: Peers, browser: Browser) -> None:
    browser.get(f"{peers.rekenwonders}/login")
    browser.login(peers.pupil.id)
    first = browser.get_json(f"{peers.rekenwonders}/whoami")

    browser.get(f"{peers.taalapp}/login")

    assert browser.url == f"{peers.taalapp}/"
    second = browser.get_json(f"{peers.taalapp}/whoami")
    assert second["name_id"] == peers.pupil.id
    assert second["authn_instant"] == first["authn_instant"]  # the one login at school


def test_force_authn_shows_the_form_and_reports_the_fresh_login(peers: Peers,
                                                                browser: Browser) -> None:
    browser.get(f"{peers.taalapp}/login")
    browser.login(peers.pupil.id)
    before = browser.get_json(f"{peers.taalapp}/whoami")["authn_instant"]
    time.sleep(1.1)  # AuthnInstant has whole seconds

    browser.get(f"{peers.taalapp}/login", {"force": "1"})
    assert "person" in browser.form("person").choices  # asked again despite the session
    browser.login(peers.pupil.id)

    after = browser.get_json(f"{peers.taalapp}/whoami")["authn_instant"]
    assert after > before


def test_is_passive_without_a_school_session_answers_no_passive(peers: Peers,
                                                                browser: Browser) -> None:
    for sp in (peers.rekenwonders, peers.taalapp):
        browser.get(f"{sp}/login", {"passive": "1"})

        response = last_response(browser)
        status = response.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS)
        assert status.get("Value") == NO_PASSIVE
        assert response.find("ds:Signature", NS) is not None
        assert browser.url == f"{sp}/"
        assert "not logged in (NoPassive)" in browser.text
        assert browser.get_json(f"{sp}/whoami")["status"] == "NoPassive"


def test_is_passive_with_a_school_session_logs_in(peers: Peers, browser: Browser) -> None:
    browser.get(f"{peers.taalapp}/login")
    browser.login(peers.teacher.id)

    browser.get(f"{peers.rekenwonders}/login", {"passive": "1"})

    assert browser.get_json(f"{peers.rekenwonders}/whoami")["name_id"] == peers.teacher.id


def test_logout_ends_the_school_session(peers: Peers, browser: Browser) -> None:
    browser.get(f"{peers.taalapp}/login")
    browser.login(peers.pupil.id)

    browser.post(f"{peers.school}/logout", {})
    browser.get(f"{peers.rekenwonders}/login")

    assert "person" in browser.form("person").choices


def test_refuses_a_tampered_signed_request(peers: Peers, browser: Browser) -> None:
    xml = _taalapp_request(browser, peers)
    tampered = xml.replace('AllowCreate="true"', 'AllowCreate="false"')
    assert tampered != xml

    response = _post_request(browser, peers, tampered)

    assert response.status_code == 400


def test_refuses_an_unsigned_request_from_a_supplier_that_signs(peers: Peers,
                                                                browser: Browser) -> None:
    xml = _taalapp_request(browser, peers)
    start, end = xml.index("<ds:Signature"), xml.index("</ds:Signature>") + len("</ds:Signature>")

    response = _post_request(browser, peers, xml[:start] + xml[end:])

    assert response.status_code == 400
    assert "unsigned" in response.text


def test_refuses_a_request_from_an_unknown_supplier(peers: Peers, browser: Browser) -> None:
    xml = _rekenwonders_request(browser, peers)
    forged = xml.replace(f"{peers.rekenwonders}/metadata", "https://unknown.example/sp")
    deflater = zlib.compressobj(wbits=-15)
    encoded = base64.b64encode(deflater.compress(forged.encode()) + deflater.flush()).decode()

    response = browser.get(f"{peers.school}/sso/redirect", {"SAMLRequest": encoded})

    assert response.status_code == 400


def test_checks_a_signed_redirect_request_at_each_step(peers: Peers, browser: Browser) -> None:
    """A supplier that signs may use HTTP-Redirect: the query is signed (SigAlg, Signature),
    and the login form carries both so that the school checks them again at login."""
    xml = _taalapp_request(browser, peers)
    start, end = xml.index("<ds:Signature"), xml.index("</ds:Signature>") + len("</ds:Signature>")
    unsigned = (xml[:start] + xml[end:]).replace("/sso/post", "/sso/redirect")
    key = serialization.load_pem_private_key(
        (peers.state / "taalapp" / "taalapp-sp.key").read_bytes(), password=None)
    sent = http_redirect_message(unsigned, f"{peers.school}/sso/redirect", relay_state="/",
                                 sigalg=SIG_RSA_SHA256, sign=True, backend=RSACrypto(key))
    url = dict(sent["headers"])["Location"]

    tampered = browser.get(url.replace("RelayState=%2F", "RelayState=%2Fx"))
    assert tampered.status_code == 400 and "signature" in tampered.text

    browser.get(url)
    form = browser.form("person")
    assert form.fields["binding"] == "redirect"
    assert {"SigAlg", "Signature"} <= form.fields.keys()
    forged = form.fields["Signature"][::-1]
    assert browser.submit(form, person=peers.pupil.id, password="demo",
                          Signature=forged).status_code == 400
    browser.submit(form, person=peers.pupil.id, password="demo")
    assert browser.get_json(f"{peers.taalapp}/whoami")["name_id"] == peers.pupil.id


def _taalapp_request(browser: Browser, peers: Peers) -> str:
    """Taalapp's signed AuthnRequest (HTTP-POST), as XML."""
    browser.get(f"{peers.taalapp}/login", auto_post=False)
    return base64.b64decode(browser.form("SAMLRequest").fields["SAMLRequest"]).decode()


def _post_request(browser: Browser, peers: Peers, xml: str) -> requests.Response:
    encoded = base64.b64encode(xml.encode()).decode()
    return browser.post(f"{peers.school}/sso/post", {"SAMLRequest": encoded})


def _rekenwonders_request(browser: Browser, peers: Peers) -> str:
    """Rekenwonders' unsigned AuthnRequest (HTTP-Redirect), as XML."""
    browser.get(f"{peers.rekenwonders}/login", auto_post=False)
    query = parse_qs(urlsplit(browser.url).query)
    raw = base64.b64decode(query["SAMLRequest"][0])
    return zlib.decompress(raw, -15).decode()
