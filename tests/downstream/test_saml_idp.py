"""Loper's SAML IdP, accepted by real SP libraries (pysaml2 and python3-saml) playing suppliers."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import xmlsec
from lxml import etree  # type: ignore[import-untyped]
from saml2.response import StatusNoPassive
from saml2.samlp import IDPEntry, IDPList, Scoping

from broker import codec
from broker.attributes import PAIRWISE_ID
from broker.downstream.saml_config import PERSISTENT
from broker.downstream.saml_request import StoredRequest
from broker.errors import BadRequest
from broker.saml.signer import signer
from tests.downstream.saml_world import AUTHN_INSTANT, SESSION, SamlWorld, response_xml

NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "md": "urn:oasis:names:tc:SAML:2.0:metadata",
      "ds": "http://www.w3.org/2000/09/xmldsig#",
      "xenc": "http://www.w3.org/2001/04/xmlenc#"}
GIVEN_NAME, AFFILIATION = "urn:oid:2.5.4.42", "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
EXPECTED = {PAIRWISE_ID: ["v1-4f2a9c@loper.example"], GIVEN_NAME: ["Jan"],
            AFFILIATION: ["student", "member"]}
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ODD_RELAY = "a b&c=d/é%20+?#<>\"'\t~"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SamlWorld:
    return SamlWorld(tmp_path_factory.mktemp("saml-idp"))


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False))


def _assert_encrypted(raw: bytes, cipher: str) -> None:
    doc = _xml(raw)
    assert doc.xpath("saml:Assertion", namespaces=NS) == []
    method = doc.xpath("saml:EncryptedAssertion/xenc:EncryptedData/xenc:EncryptionMethod/"
                       "@Algorithm", namespaces=NS)
    assert method == [cipher]
    assert b">Jan<" not in raw and b"v1-4f2a9c" not in raw


def test_metadata_offers_both_bindings_both_keys_and_formats(world: SamlWorld) -> None:
    doc = _xml(world.idp.metadata_xml().encode())
    idp = doc.find("md:IDPSSODescriptor", NS)
    assert doc.get("entityID") == world.config.entity_id
    assert idp.get("WantAuthnRequestsSigned") == "false"
    sso = {(s.get("Binding").rsplit(":", 1)[1], s.get("Location"))
           for s in idp.findall("md:SingleSignOnService", NS)}
    assert sso == {("HTTP-Redirect", world.config.sso_url), ("HTTP-POST", world.config.sso_url)}
    certs = [kd.findtext(".//ds:X509Certificate", namespaces=NS)
             for kd in idp.findall("md:KeyDescriptor[@use='signing']", NS)]
    expected = [_pem_body(world.config.signing.cert), _pem_body(world.config.next_signing.cert)]
    assert certs == expected
    formats = [f.text for f in idp.findall("md:NameIDFormat", NS)]
    assert formats == ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                       "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"]


def _pem_body(path: Path | None) -> str:
    assert path is not None
    return "".join(line for line in path.read_text().splitlines() if "-----" not in line)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_pysaml2_sp_accepts_encrypted_answer(world: SamlWorld, binding: str, signed: bool) -> None:
    sp = world.pysaml_sp(f"py{binding[0]}{int(signed)}", sign_requests=signed)
    sent, out = world.login(sp, binding, relay_state="back-to/lesson-3")
    assert out.url == sp.acs_url
    assert out.form is not None and out.form["RelayState"] == "back-to/lesson-3"
    _assert_encrypted(response_xml(out), "http://www.w3.org/2009/xmlenc11#aes256-gcm")
    answer = sp.accept(dict(out.form), sent.request_id)
    name_id = answer.assertion.subject.name_id
    assert (name_id.text, name_id.format) == ("v1-4f2a9c", PERSISTENT)
    assert (name_id.name_qualifier, name_id.sp_name_qualifier) == (world.config.entity_id,
                                                                    sp.entity_id)
    received = {a.name: [v.text for v in a.attribute_value]
                for s in answer.assertion.attribute_statement for a in s.attribute}
    assert received == EXPECTED
    assert answer.ava["pairwise-id"] == ["v1-4f2a9c@loper.example"]


def test_encrypted_assertion_decrypts_into_a_self_contained_document(world: SamlWorld) -> None:
    """FACTS.md: an assertion that leans on the Response's namespace declarations meets
    "unbound prefix" once decrypted on its own (pysaml2's SP does exactly that)."""
    sp = world.pysaml_sp("pyalone")
    _sent, out = world.login(sp, "post")
    encrypted = _xml(response_xml(out)).find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_file(str(sp.keys.key), xmlsec.constants.KeyDataFormatPem))
    assertion = xmlsec.EncryptionContext(manager).decrypt(_xml(etree.tostring(encrypted)))
    assert assertion.tag == "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
    assert assertion.getparent() is None
    assert {"saml", "ds", "xs", "xsi"} <= set(assertion.nsmap)
    assert assertion.find("ds:Signature", NS) is not None


@pytest.mark.parametrize(("signed", "encrypt"), [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_python3_saml_sp_accepts(world: SamlWorld, binding: str, signed: bool,
                                 encrypt: bool) -> None:
    sp = world.onelogin_sp(f"ol{binding[0]}{int(signed)}{int(encrypt)}",
                           sign_requests=signed, encrypt=encrypt)
    sent, out = world.login(sp, binding)
    assert out.form is not None
    assert out.form.get("RelayState") == sent.params.get("RelayState")
    if encrypt:
        _assert_encrypted(response_xml(out), "http://www.w3.org/2009/xmlenc11#aes256-gcm")
    auth = sp.accept(dict(out.form), sent.request_id)
    assert auth.get_nameid() == "v1-4f2a9c"
    assert auth.get_nameid_format() == PERSISTENT
    assert auth.get_nameid_spnq() == sp.entity_id
    assert auth.get_attributes() == EXPECTED
    assert auth.get_friendlyname_attributes()["givenName"] == ["Jan"]


@pytest.mark.parametrize("cipher", ["aes128-gcm", "aes256-cbc", "aes128-cbc"])
def test_other_ciphers_decrypt_at_both_sps(tmp_path: Path, cipher: str) -> None:
    world = SamlWorld(tmp_path, encryption=cipher)
    href = ("http://www.w3.org/2009/xmlenc11#" if "gcm" in cipher
            else "http://www.w3.org/2001/04/xmlenc#") + cipher
    pysaml, onelogin = world.pysaml_sp("pyc"), world.onelogin_sp("olc", encrypt=True)
    for sp in (pysaml, onelogin):
        sent, out = world.login(sp, "post")
        _assert_encrypted(response_xml(out), href)
        assert out.form is not None
        sp.accept(dict(out.form), sent.request_id)


def test_response_and_assertion_are_signed_sha256_exclusive_c14n(world: SamlWorld) -> None:
    sp = world.onelogin_sp("olsig")
    sent, out = world.login(sp, "redirect")
    doc = _xml(response_xml(out))
    assertion = doc.find("saml:Assertion", NS)
    for signed in (doc, assertion):
        sig = signed.find("ds:Signature", NS)
        assert sig.find("ds:SignedInfo/ds:Reference", NS).get("URI") == "#" + signed.get("ID")
        algorithms = {e.get("Algorithm") for e in sig.iter() if e.get("Algorithm")}
        assert algorithms == {"http://www.w3.org/2001/10/xml-exc-c14n#",
                              "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                              "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                              "http://www.w3.org/2001/04/xmlenc#sha256"}
    assert (doc.get("Destination"), doc.get("InResponseTo")) == (sp.acs_url, sent.request_id)
    data = assertion.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
    assert (data.get("Recipient"), data.get("InResponseTo")) == (sp.acs_url, sent.request_id)
    audiences = assertion.xpath("saml:Conditions/saml:AudienceRestriction/saml:Audience/text()",
                                namespaces=NS)
    assert audiences == [sp.entity_id]
    statement = assertion.find("saml:AuthnStatement", NS)
    assert statement.get("AuthnInstant") == AUTHN_INSTANT.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert statement.get("SessionIndex") == SESSION  # what a LogoutRequest names
    assert statement.findtext(".//saml:AuthnContextClassRef", namespaces=NS) == (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified")


def test_the_answer_keeps_the_shape_every_sp_library_reads(world: SamlWorld) -> None:
    """Element order (SAML core 3.2.2, 2.3.3), namespace declarations (the Assertion declares
    what it uses beyond its Response: it can be encrypted and read on its own) and typed
    values, as the SPs in tests/suppliers accept them."""
    sp = world.onelogin_sp("olshape")
    _, out = world.login(sp, "post")
    raw = response_xml(out)
    doc = _xml(raw)
    assert raw.startswith(b'<samlp:Response xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
                          b'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
                          b'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="')
    assert [etree.QName(e).localname for e in doc] == [
        "Issuer", "Signature", "Status", "Assertion"]
    assertion = doc.find("saml:Assertion", NS)
    assert [etree.QName(e).localname for e in assertion] == [
        "Issuer", "Signature", "Subject", "Conditions", "AuthnStatement", "AttributeStatement"]
    assert b'<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' \
           b'xmlns:xs="http://www.w3.org/2001/XMLSchema" Version="2.0" ID="' in raw
    values = assertion.findall(".//saml:AttributeValue", NS)
    assert values and {v.get(f"{{{XSI}}}type") for v in values} == {"xs:string"}
    assert doc.findtext("saml:Issuer", namespaces=NS) == world.config.entity_id


def test_authn_context_class_ref_is_passed_on(world: SamlWorld) -> None:
    sp = world.onelogin_sp("olctx")
    sent = sp.request("post")
    request = world.parse(sent)
    mfa = "https://refeds.org/profile/mfa"
    out = world.idp.respond(request.supplier, request.request,
                            world.released(request, class_ref=mfa))
    assert out.form is not None
    assert sp.accept(dict(out.form), sent.request_id).get_last_authn_contexts() == [mfa]


def test_a_tampered_answer_is_refused_by_the_sp(world: SamlWorld) -> None:
    """The peers really check Loper's signatures (so their acceptance above means something)."""
    sp = world.onelogin_sp("oltamper")
    sent, out = world.login(sp, "post")
    forged = response_xml(out).replace(b">Jan<", b">Eve<")
    with pytest.raises(AssertionError, match="Signature validation failed"):
        sp.accept({"SAMLResponse": base64.b64encode(forged).decode()}, sent.request_id)


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_relay_state_comes_back_unchanged(world: SamlWorld, binding: str) -> None:
    sp = world.pysaml_sp("pyrelay", encrypt=False)
    sent, out = world.login(sp, binding, relay_state=ODD_RELAY)
    assert sent.params["RelayState"] == ODD_RELAY
    assert out.form is not None and out.form["RelayState"] == ODD_RELAY
    sp.accept(dict(out.form), sent.request_id)


def test_force_authn_is_passive_scoping_and_school_hint(world: SamlWorld) -> None:
    sp = world.pysaml_sp("pyflags")
    scoping = Scoping(idp_list=IDPList(idp_entry=[
        IDPEntry(provider_id="https://idp.regenboog.example"), IDPEntry(provider_id="lyceum")]))
    sent = sp.request("redirect", force_authn=True, is_passive="true", scoping=scoping)
    request = world.parse(sent)
    assert (request.force_authn, request.passive) == (True, True)
    assert request.school_hints == ("https://idp.regenboog.example", "lyceum")
    assert world.parse(sent, school="regenboog").school_hints[0] == "regenboog"
    assert world.parse(sent, idp_hint="de-linde").school_hints[0] == "de-linde"
    plain = world.parse(sp.request("redirect"))
    assert (plain.force_authn, plain.passive, plain.school_hints) == (False, False, ())


def test_the_kept_request_is_small(world: SamlWorld) -> None:
    sp = world.onelogin_sp("olsmall")
    request = world.parse(sp.request("redirect", "x" * 80))
    assert len(request.request) < 400
    stored = StoredRequest.read(request.request)
    assert stored.acs == sp.acs_url and stored.relay_state == "x" * 80


@pytest.mark.parametrize("relay_state", [
    "https://rekenwonders.example/module.php/core/as_login.php?AuthId=default-sp&ReturnTo="
    "https%3A%2F%2Frekenwonders.example%2Fles%2Fbreuken%2F3%3Fgroep%3D7a%26opdracht%3D12",
    "x" * 1024])
def test_a_deep_link_as_relay_state_is_kept_whole(world: SamlWorld, relay_state: str) -> None:
    """SimpleSAMLphp and python3-saml send the page to return to: often over the 80 bytes
    the bindings ask of senders. Up to relay_state_max (1024) it comes back unchanged."""
    request = world.parse(world.onelogin_sp("oldeep").request("redirect", relay_state))
    assert StoredRequest.read(request.request).relay_state == relay_state


def test_a_damaged_kept_request_is_refused(world: SamlWorld) -> None:
    sp = world.pysaml_sp("pydamaged")
    request = world.parse(sp.request("post"))
    for damaged in (b"", request.request[:-3], codec.encode({"id": "x"})):
        with pytest.raises(BadRequest, match="incomplete"):
            world.idp.respond(request.supplier, damaged, world.released(request))


@pytest.mark.parametrize("status", ["NoPassive", "AuthnFailed", "RequestDenied"])
def test_error_response_carries_second_level_status(world: SamlWorld, status: str) -> None:
    sp = world.pysaml_sp("pyerr")
    sent = sp.request("post", "keep")
    request = world.parse(sent)
    out = world.idp.respond_error(request.supplier, request.request, status)
    assert out.form is not None and out.form["RelayState"] == "keep"
    doc = _xml(response_xml(out))
    codes = doc.xpath("samlp:Status//samlp:StatusCode/@Value", namespaces=NS)
    assert codes == ["urn:oasis:names:tc:SAML:2.0:status:Responder",
                     f"urn:oasis:names:tc:SAML:2.0:status:{status}"]
    assert doc.find("ds:Signature", NS) is not None
    assert doc.xpath("saml:Assertion|saml:EncryptedAssertion", namespaces=NS) == []
    if status == "NoPassive":
        with pytest.raises(StatusNoPassive):
            sp.accept(dict(out.form), sent.request_id)


def test_unknown_status_and_foreign_release_are_programming_errors(world: SamlWorld) -> None:
    sp = world.pysaml_sp("pyprog")
    request = world.parse(sp.request("post"))
    with pytest.raises(ValueError, match="second-level"):
        world.idp.respond_error(request.supplier, request.request, "Oops")
    other = world.released(request)
    foreign = type(other)(other.school_id, "someone-else", other.subject, other.attributes,
                          other.authn)
    with pytest.raises(ValueError, match="another supplier"):
        world.idp.respond(request.supplier, request.request, foreign)


def test_signing_key_is_loaded_once_per_process(world: SamlWorld) -> None:
    assert signer(world.config.signing) is signer(world.config.signing)


def test_attach_reaches_each_supplier_server(tmp_path: Path) -> None:
    """Each supplier's pysaml2 Server verifies in process; Loper's own signatures never go
    through pysaml2 (broker/saml/signer.py signs with the xmlsec binding)."""
    attached: list[object] = []
    world = SamlWorld(tmp_path, attach=attached.append)
    sp = world.onelogin_sp("olattach")
    sent, out = world.login(sp, "post")
    assert out.form is not None
    sp.accept(dict(out.form), sent.request_id)
    assert [type(obj).__name__ for obj in attached] == ["Server"]
