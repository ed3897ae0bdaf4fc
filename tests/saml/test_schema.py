"""broker.saml.schema (libxml2) against pysaml2's own schema check (xmlschema): the same verdict
on what pysaml2 and python3-saml produce and on broken documents, and where the verdicts differ,
ours is the one that refuses (each such case is listed in DIFFERENCES with the reason).
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import saml2.sigver
import saml2.xml.schema
from lxml import etree
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as OL
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from saml2 import BINDING_HTTP_POST
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.xml.schema import XMLSchemaError

from broker.saml import schema
from broker.saml.crypto import attach
from tests.saml import tamper
from tests.saml.conftest import Keys, MakePair
from tests.saml.pair import (
    ACS_URL,
    IDP_ID,
    SP_ID,
    SSO_URL,
    authn_request,
    idp_config,
    make_pair,
    metadata_xml,
    parse,
    signed_response,
)

SAMLP, SAML, DS = tamper.SAMLP, tamper.SAML, tamper.DS
XENC = "http://www.w3.org/2001/04/xmlenc#"


def verdict(validate: Callable[[Any], Any], doc: str | bytes) -> str | None:
    """None if doc is valid, else the error message; checks pysaml2's contract either way."""
    try:
        result = validate(doc)
    except XMLSchemaError as exc:
        (context,) = exc.args
        assert context.keys() == {"doc", "error"} and context["doc"] is doc
        assert isinstance(context["error"], str) and exc.__cause__ is not None
        return str(context["error"])
    assert result is None
    return None


def both(doc: str | bytes) -> tuple[str | None, str | None]:
    """(pysaml2's xmlschema verdict, ours)."""
    return verdict(schema.pure_python_validate, doc), verdict(schema.validate_doc_with_schema, doc)


# --- valid documents, as the libraries produce them and as pysaml2 validates them ------------

def _onelogin_settings(keys: Keys) -> OneLogin_Saml2_Settings:
    return OneLogin_Saml2_Settings({
        "strict": True,
        "sp": {"entityId": SP_ID, "NameIDFormat": NAMEID_FORMAT_PERSISTENT,
               "assertionConsumerService": {"url": ACS_URL, "binding": OL.BINDING_HTTP_POST},
               "singleLogoutService": {"url": ACS_URL, "binding": OL.BINDING_HTTP_REDIRECT},
               "x509cert": keys.sp.cert.read_text(), "privateKey": keys.sp.key.read_text()},
        "idp": {"entityId": IDP_ID,
                "singleSignOnService": {"url": SSO_URL, "binding": OL.BINDING_HTTP_REDIRECT},
                "singleLogoutService": {"url": SSO_URL, "binding": OL.BINDING_HTTP_REDIRECT},
                "x509cert": keys.idp.cert.read_text()},
        "security": {"signatureAlgorithm": OL.RSA_SHA256, "digestAlgorithm": OL.SHA256},
    })


def _onelogin_sign(xml: str | bytes, keys: Keys, which: str = "sp") -> str:
    pair = getattr(keys, which)
    signed = OneLogin_Saml2_Utils.add_sign(xml, pair.key.read_text(), pair.cert.read_text(),
                                           sign_algorithm=OL.RSA_SHA256,
                                           digest_algorithm=OL.SHA256)
    return _text(signed)


def _text(xml: str | bytes) -> str:
    return xml.decode() if isinstance(xml, bytes) else xml


@dataclass
class Corpus:
    produced: dict[str, str]
    """Messages as pysaml2 and python3-saml write them."""
    validated: list[str]
    """What pysaml2 itself passed to validate_doc_with_schema while parsing them."""


@pytest.fixture(scope="module")
def corpus(keys: Keys) -> Corpus:
    pair = make_pair(keys.idp, keys.sp, sp_encryption=keys.sp_encryption)
    attach(pair.idp)
    attach(pair.sp)
    request_id = authn_request(pair)
    signed = signed_response(pair, request_id)
    encrypted = signed_response(pair, request_id, encrypt_assertion=True,
                                encrypt_assertion_self_contained=True)
    unsigned = signed_response(pair, request_id, sign_response=False, sign_assertion=False)
    _, authn = pair.sp.create_authn_request(SSO_URL, binding=BINDING_HTTP_POST, sign=True)
    name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text="pupil1-pseudonym")
    _, logout = pair.sp.create_logout_request(SSO_URL, IDP_ID, name_id=name_id, sign=True)
    error = pair.idp.create_error_response(request_id, ACS_URL, Exception("no such pupil"))
    settings = _onelogin_settings(keys)
    onelogin_authn = OneLogin_Saml2_Authn_Request(settings).get_xml()
    onelogin_logout = OneLogin_Saml2_Logout_Request(
        settings, name_id="pupil1-pseudonym", session_index="s1").get_xml()
    onelogin_logout_response = OneLogin_Saml2_Logout_Response(settings)
    onelogin_logout_response.build("id-123")
    produced = {
        "pysaml2 Response, signed response and assertion": signed,
        "pysaml2 Response, encrypted assertion": encrypted,
        "pysaml2 Response, unsigned": unsigned,
        "pysaml2 Assertion, signed": etree.tostring(
            tamper.assertion(etree.fromstring(signed.encode())), encoding="unicode"),
        "pysaml2 AuthnRequest, signed": str(authn),
        "pysaml2 LogoutRequest, signed": str(logout),
        "pysaml2 error Response": str(error),
        "pysaml2 IdP metadata": metadata_xml(IdPConfig().load(idp_config(keys.idp))),
        "python3-saml AuthnRequest": _text(onelogin_authn),
        "python3-saml AuthnRequest, signed": _onelogin_sign(onelogin_authn, keys),
        "python3-saml LogoutRequest, signed": _onelogin_sign(onelogin_logout, keys),
        "python3-saml LogoutResponse": _text(onelogin_logout_response.get_xml()),
        "python3-saml SP metadata, signed": _text(OneLogin_Saml2_Metadata.sign_metadata(
            settings.get_sp_metadata(), keys.sp.key.read_text(), keys.sp.cert.read_text())),
        "pysaml2 Response signed by python3-saml": _onelogin_sign(unsigned, keys, "idp"),
    }
    validated: list[str] = []

    def record(doc: Any, validator: Any = None) -> None:
        validated.append(doc)
        schema.validate_doc_with_schema(doc, validator)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(saml2.sigver, "validate_doc_with_schema", record)
        for xml in (signed, encrypted):
            assert parse(pair, xml, request_id).assertion is not None
        pair.idp.parse_authn_request(base64.b64encode(str(authn).encode()).decode(),
                                     BINDING_HTTP_POST)
    return Corpus(produced, validated)


def test_what_the_libraries_produce_is_valid_for_both(corpus: Corpus) -> None:
    verdicts = {name: both(doc) for name, doc in corpus.produced.items()}
    assert verdicts == {name: (None, None) for name in corpus.produced}


def test_what_pysaml2_validates_while_parsing_is_valid_for_both(corpus: Corpus) -> None:
    """Signed Response, its Assertion, the encrypted one's decrypted Assertion, AuthnRequest."""
    roots = [etree.QName(etree.fromstring(doc.encode())).localname for doc in corpus.validated]
    assert roots == ["Response", "Assertion", "Response", "Assertion", "AuthnRequest"]
    assert all(isinstance(doc, str) for doc in corpus.validated)
    assert [both(doc) for doc in corpus.validated] == [(None, None)] * len(corpus.validated)


def test_bytes_and_str_give_the_same_verdict(corpus: Corpus) -> None:
    for doc in corpus.produced.values():
        assert both(doc.encode()) == (None, None)


# --- broken documents -----------------------------------------------------------------------

SIGNATURE = (
    '<ds:Signature><ds:SignedInfo>'
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    '<ds:Reference URI="#r1"><ds:Transforms>'
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
    '</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
    '<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>'
    '<ds:SignatureValue>AAAA</ds:SignatureValue>{more}</ds:Signature>'
)
ASSERTION = (
    '<saml:Assertion ID="a1" Version="2.0" IssueInstant="{instant}">'
    '<saml:Issuer>https://idp.example</saml:Issuer>{assertion_signature}'
    '<saml:Subject><saml:NameID>pupil1</saml:NameID></saml:Subject>'
    '<saml:AttributeStatement><saml:Attribute Name="uid">'
    '<saml:AttributeValue {value_attributes}>{value}</saml:AttributeValue>'
    '</saml:Attribute></saml:AttributeStatement></saml:Assertion>'
)
RESPONSE = (
    f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" xmlns:ds="{DS}" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'ID="r1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z" '
    'Destination="https://sp.example/acs" InResponseTo="q1">'
    '<saml:Issuer>https://idp.example</saml:Issuer>{signature}{extensions}'
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
    '</samlp:Status>{assertion}</samlp:Response>'
)
ENCRYPTED_DATA = (
    f'<xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element">'
    f'<xenc:EncryptionMethod Algorithm="{XENC}aes128-cbc"/>'
    '<xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData>'
    '</xenc:EncryptedData>'
)


def response(signature: str = "", extensions: str = "", assertion: str | None = None,
             instant: str = "2024-01-01T00:00:00Z", assertion_signature: str = "",
             value_attributes: str = 'xsi:type="xs:string"', value: str = "pupil1") -> str:
    """A small valid Response (schema-wise); each argument replaces one part of it."""
    if assertion is None:
        assertion = ASSERTION.format(instant=instant, assertion_signature=assertion_signature,
                                     value_attributes=value_attributes, value=value)
    return RESPONSE.format(signature=signature, extensions=extensions, assertion=assertion)


def edit(old: str, new: str, doc: str | None = None) -> str:
    doc = response() if doc is None else doc
    assert old in doc, old
    return doc.replace(old, new, 1)


def signature(more: str = "", **replace: str) -> str:
    text = SIGNATURE.format(more=more)
    for old, new in replace.items():
        text = edit(old.replace("_", ":", 1), new, text)
    return text


def extensions(content: str) -> str:
    return response(extensions=f"<samlp:Extensions>{content}</samlp:Extensions>")


def encrypted(content: str) -> str:
    return response(assertion=f"<saml:EncryptedAssertion>{content}</saml:EncryptedAssertion>")


def nested(depth: int) -> str:
    return extensions('<x:a xmlns:x="urn:x">' * depth + "</x:a>" * depth)


ISSUER = "<saml:Issuer>https://idp.example</saml:Issuer>"
STATUS_END = "</samlp:Status>"
SUBJECT = "<saml:Subject><saml:NameID>pupil1</saml:NameID></saml:Subject>"
STATEMENT = "<saml:AttributeStatement>"
STATEMENT_END = "</saml:AttributeStatement>"
EXTRA_ASSERTION = ('<saml:Assertion ID="{id}" Version="2.0" IssueInstant="2024-01-01T00:00:00Z">'
                   '<saml:Issuer>x</saml:Issuer></saml:Assertion></samlp:Response>')
FOREIGN = '<x:foo xmlns:x="urn:x"><y>any content</y></x:foo>'
HUGE = 10_000_001
"""One more than libxml2's limit for a text node without XML_PARSE_HUGE."""

SAME: list[tuple[str, Callable[[], str | bytes], bool]] = [
    # (name, document, valid)
    ("template", response, True),
    ("wrong order: Issuer after Status",
     lambda: edit(STATUS_END, STATUS_END + ISSUER, edit(ISSUER, "")), False),
    ("wrong order: Subject after AttributeStatement",
     lambda: edit(STATEMENT_END, STATEMENT_END + SUBJECT, edit(SUBJECT, "")), False),
    ("wrong order: Signature after Subject",
     lambda: edit(STATEMENT, signature() + STATEMENT), False),
    ("wrong order: Extensions before Issuer",
     lambda: edit("<saml:Issuer>", f"<samlp:Extensions>{FOREIGN}</samlp:Extensions><saml:Issuer>",
                  response()), False),
    ("unknown saml:Foo in Assertion", lambda: edit(STATEMENT, "<saml:Foo/>" + STATEMENT), False),
    ("unknown samlp:Foo in Response", lambda: edit("<samlp:Status>", "<samlp:Foo/><samlp:Status>"),
     False),
    ("unknown root samlp:Foo", lambda: f'<samlp:Foo xmlns:samlp="{SAMLP}"/>', False),
    ("unknown root without namespace", lambda: "<Foo/>", False),
    ("unknown saml:Foo in AttributeValue (anyType, lax)",
     lambda: response(value_attributes="", value="<saml:Foo/>"), True),
    ("known saml:Issuer with a child in AttributeValue (lax, so checked)",
     lambda: response(value_attributes="", value="<saml:Issuer><b/></saml:Issuer>"), False),
    ("element in an xs:string AttributeValue", lambda: response(value="<saml:Foo/>"), False),
    ("Response without ID", lambda: edit(' ID="r1"', ""), False),
    ("Response without Version",
     lambda: edit(' Version="2.0" IssueInstant="2024', ' IssueInstant="2024'), False),
    ("Response without IssueInstant",
     lambda: edit(' IssueInstant="2024-01-01T00:00:00Z" Destination', " Destination"), False),
    ("Assertion without ID", lambda: edit(' ID="a1"', ""), False),
    ("Assertion without Version", lambda: edit('"a1" Version="2.0"', '"a1"'), False),
    ("Assertion without IssueInstant",
     lambda: edit('Version="2.0" IssueInstant="2024-01-01T00:00:00Z"><saml:Issuer>https',
                  'Version="2.0"><saml:Issuer>https'), False),
    ("attribute unknown to the schema on Response", lambda: edit(' ID="r1"', ' ID="r1" Foo="x"'),
     False),
    ("foreign-namespace attribute on Response (no anyAttribute)",
     lambda: edit(' ID="r1"', ' ID="r1" xmlns:y="urn:y" y:Foo="x"'), False),
    ("foreign-namespace attribute on Attribute (anyAttribute ##other)",
     lambda: edit('Name="uid"', 'Name="uid" xmlns:y="urn:y" y:Foo="x"'), True),
    ("saml-namespace attribute on Attribute", lambda: edit('Name="uid"', 'Name="uid" saml:Foo="x"'),
     False),
    ("bad xml:lang", lambda: edit('Name="uid"', 'Name="uid" xml:lang="en!"'), False),
    ("ID starting with a digit", lambda: edit('ID="r1"', 'ID="1r"'), False),
    ("ID with a colon", lambda: edit('ID="r1"', 'ID="r:1"'), False),
    ("empty ID", lambda: edit('ID="r1"', 'ID=""'), False),
    ("ID with surrounding spaces (collapsed)", lambda: edit('ID="r1"', 'ID=" r1 "'), True),
    ("duplicate ID: Assertion reuses the Response's", lambda: edit('ID="a1"', 'ID="r1"'), False),
    ("duplicate ID: two Assertions", lambda: edit("</samlp:Response>",
                                                  EXTRA_ASSERTION.format(id="a1")), False),
    ("two Assertions, distinct IDs", lambda: edit("</samlp:Response>",
                                                  EXTRA_ASSERTION.format(id="a2")), True),
    ("duplicate ID: Signature Id reuses the Response's",
     lambda: response(signature=signature().replace("<ds:Signature>", '<ds:Signature Id="r1">')),
     False),
    ("ID-like attribute in foreign Extensions content is not an xs:ID",
     lambda: extensions('<x:foo xmlns:x="urn:x" ID="r1"/>'), True),
    ("xsi:type xs:integer on text", lambda: response(value_attributes='xsi:type="xs:integer"'),
     False),
    ("xsi:type with an undeclared prefix", lambda: response(value_attributes='xsi:type="foo:bar"'),
     False),
    ("xsi:type in an unknown namespace",
     lambda: response(value_attributes='xsi:type="foo:bar" xmlns:foo="urn:foo"'), False),
    ("xsi:type without prefix (no default namespace)",
     lambda: response(value_attributes='xsi:type="string"'), False),
    ("xsi:type saml:NameIDType", lambda: response(value_attributes='xsi:type="saml:NameIDType"'),
     True),
    ("xsi:type saml:AssertionType on text",
     lambda: response(value_attributes='xsi:type="saml:AssertionType"'), False),
    ("xsi:nil with content", lambda: response(value_attributes='xsi:nil="true"'), False),
    ("xsi:nil without content", lambda: response(value_attributes='xsi:nil="true"', value=""),
     True),
    ("Signature, complete", lambda: response(signature=signature()), True),
    ("Signature with KeyInfo", lambda: response(signature=signature(
        "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo>")), True),
    ("Signature with a wrong child ds:Foo", lambda: response(signature=signature("<ds:Foo/>")),
     False),
    ("Signature with a foreign child", lambda: response(signature=signature(
        '<x:Foo xmlns:x="urn:x"/>')), False),
    ("Signature with text", lambda: response(signature=signature("garbage")), False),
    ("Signature with foreign content inside ds:Object", lambda: response(signature=signature(
        f"<ds:Object>{FOREIGN}</ds:Object>")), True),
    ("Signature without SignatureValue", lambda: response(signature=signature().replace(
        "<ds:SignatureValue>AAAA</ds:SignatureValue>", "")), False),
    ("SignedInfo without Reference", lambda: response(signature=signature().replace(
        signature()[signature().index("<ds:Reference"):signature().index("</ds:SignedInfo>")],
        "")), False),
    ("Reference without DigestValue", lambda: response(signature=signature().replace(
        "<ds:DigestValue>AAAA</ds:DigestValue>", "")), False),
    ("SignatureValue not base64", lambda: response(signature=signature().replace(
        "<ds:SignatureValue>AAAA", "<ds:SignatureValue>AAA")), False),
    ("SignatureValue base64 with bad padding", lambda: response(signature=signature().replace(
        "<ds:SignatureValue>AAAA", "<ds:SignatureValue>A===")), False),
    ("SignatureValue base64 with line breaks", lambda: response(signature=signature().replace(
        "<ds:SignatureValue>AAAA", "<ds:SignatureValue>AA\nAA\n")), True),
    ("X509Certificate not base64", lambda: response(signature=signature(
        "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>not base64!</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo>")), False),
    ("EncryptedAssertion, well-formed", lambda: encrypted(ENCRYPTED_DATA.format(cipher="AAAA")),
     True),
    ("EncryptedAssertion with EncryptedKey beside", lambda: encrypted(
        ENCRYPTED_DATA.format(cipher="AAAA") + f'<xenc:EncryptedKey xmlns:xenc="{XENC}">'
        "<xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData>"
        "</xenc:EncryptedKey>"), True),
    ("EncryptedAssertion with garbage text", lambda: encrypted("garbage"), False),
    ("EncryptedAssertion with a garbage element", lambda: encrypted("<foo/>"), False),
    ("EncryptedAssertion empty", lambda: encrypted(""), False),
    ("EncryptedAssertion with CipherValue not base64",
     lambda: encrypted(ENCRYPTED_DATA.format(cipher="!!not base64!!")), False),
    ("EncryptedAssertion with KeySize not an integer", lambda: encrypted(
        ENCRYPTED_DATA.format(cipher="AAAA").replace(
            'aes128-cbc"/>', 'aes128-cbc"><xenc:KeySize>abc</xenc:KeySize>'
            "</xenc:EncryptionMethod>")), False),
    ("Extensions with foreign content (##other, lax)", lambda: extensions(FOREIGN), True),
    ("Extensions with foreign content of a bad xsi:type",
     lambda: extensions('<x:foo xmlns:x="urn:x" xsi:type="xs:integer">abc</x:foo>'), False),
    ("Extensions empty", lambda: extensions(""), False),
    ("Extensions with an unqualified element", lambda: extensions("<foo/>"), False),
    ("Extensions with a protocol-namespace element", lambda: extensions("<samlp:Foo/>"), False),
    ("Extensions with an unknown assertion-namespace element", lambda: extensions("<saml:Foo/>"),
     True),
    ("Extensions with an invalid known element", lambda: extensions(
        "<saml:Issuer><b/></saml:Issuer>"), False),
    ("Extensions with a known element deep in foreign content", lambda: extensions(
        '<x:foo xmlns:x="urn:x"><saml:Assertion/></x:foo>'), False),
    ("two Extensions", lambda: response(
        extensions=f"<samlp:Extensions>{FOREIGN}</samlp:Extensions>" * 2), False),
    ("foreign content nested 200 deep", lambda: nested(200), True),
    ("foreign content nested 300 deep (xmlschema: recursion limit; libxml2: depth limit)",
     lambda: nested(300), False),
    ("huge text, just under libxml2's limit", lambda: response(value="x" * (HUGE - 2)), True),
    ("100 000 attribute values", lambda: response(
        value="v</saml:AttributeValue><saml:AttributeValue>" * 100_000 + "v"), True),
    ("Status without StatusCode", lambda: edit(
        '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>', ""), False),
    ("unqualified NameID", lambda: edit("<saml:NameID>pupil1</saml:NameID>",
                                        "<NameID>pupil1</NameID>"), False),
    ("assertion namespace as default namespace", lambda: edit(
        ISSUER, f'<Issuer xmlns="{SAML}">https://idp.example</Issuer>'), True),
    ("comments and processing instructions", lambda: "<?xml version='1.0'?><!--c-->" + edit(
        SUBJECT, "<!--c--><?pi x?>" + SUBJECT), True),
    ("undefined entity", lambda: response(value="&e;"), False),
    ("character references", lambda: response(value="&#x41;&amp;&lt;"), True),
    ("control character", lambda: response(value="\x01"), False),
    ("lone surrogate", lambda: response(value="\ud800"), False),
    ("str declaring ISO-8859-1", lambda: "<?xml version='1.0' encoding='ISO-8859-1'?>\n"
     + response(value="Zoë"), True),
    ("bytes in ISO-8859-1 (xmlschema decodes bytes as UTF-8)", lambda: (
        "<?xml version='1.0' encoding='ISO-8859-1'?>\n" + response(value="Zoë")).encode("latin-1"),
     False),
    ("bytes in UTF-16", lambda: response(value="Zoë").encode("utf-16"), False),
    ("UTF-8 bytes with a BOM", lambda: b"\xef\xbb\xbf" + response().encode(), True),
    ("str with a BOM on one line (xmlschema opens it as a path)", lambda: "\ufeff" + response(),
     False),
    ("str with a BOM and a line break", lambda: "\ufeff" + response() + "\n", True),
    ("leading whitespace", lambda: "  \n" + response(), True),
    ("XML declaration after whitespace", lambda: "  <?xml version='1.0'?>" + response(), False),
    ("content after the root", lambda: response() + "<x/>", False),
    ("empty string", lambda: "", False),
    ("only whitespace", lambda: "   ", False),
    ("a file name (xmlschema opens it)", lambda: "xml.xsd", False),
    ("a URL (xmlschema fetches it; ours does not)", lambda: "http://127.0.0.1:9/x.xml", False),
    ("SOAP envelope", lambda: '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
     "<s:Body/></s:Envelope>", True),
    ("SOAP envelope with an unknown child", lambda: (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Foo/></s:Envelope>'),
     False),
    ("EntityDescriptor without roles", lambda: (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>'),
     False),
]
SAME += [(f"IssueInstant {instant!r}", lambda instant=instant: response(instant=instant), valid)
         for instant, valid in [
             ("yesterday", False), ("2024-13-01T00:00:00Z", False),
             ("2024-02-30T00:00:00Z", False), ("2023-02-29T00:00:00Z", False),
             ("2024-02-29T00:00:00Z", True), ("2024-01-01T24:00:00Z", True),
             ("2024-01-01T24:00:01Z", False), ("2024-01-01T25:00:00Z", False),
             ("2024-01-01T00:00:60Z", False), ("2024-01-01", False),
             ("2024-01-01T00:00:00", True), ("2024-01-01T00:00Z", False),
             ("2024-01-01 00:00:00Z", False), ("2024-1-01T00:00:00Z", False),
             ("02024-01-01T00:00:00Z", False), ("0000-01-01T00:00:00Z", False),
             ("-0001-01-01T00:00:00Z", True), ("10000-01-01T00:00:00Z", True),
             ("2024-01-01T00:00:00.123456789Z", True), ("2024-01-01T00:00:00.Z", False),
             ("2024-01-01T00:00:00z", False), ("2024-01-01T00:00:00+14:00", True),
             ("2024-01-01T00:00:00+14:01", False), ("2024-01-01T00:00:00+15:00", False),
             ("2024-01-01T00:00:00-00:00", True), ("2024-01-01T00:00:00+1:00", False),
             ("\u0662024-01-01T00:00:00Z", False),
         ]]
SAME += [(f"Destination {uri!r}", lambda uri=uri: edit('"https://sp.example/acs"', f'"{uri}"'),
          True) for uri in ["", "relative/x", "has space", "urn:x", "é", "http://x:99999/",
                            "https://sp.example/acs?x=a|b&amp;y={z}", "https://[::1]:8443/acs",
                            "https://x/ü?q=ä", "https://x/a%20b", "https://x/a b#c"]]


@pytest.mark.parametrize(("build", "valid"), [case[1:] for case in SAME],
                         ids=[case[0] for case in SAME])
def test_same_verdict(build: Callable[[], str | bytes], valid: bool) -> None:
    theirs, ours = both(build())
    assert (theirs is None, ours is None) == (valid, valid), (theirs, ours)


DIFFERENCES: list[tuple[str, Callable[[], str | bytes], str]] = [
    # (name, document, why refusing is right): pysaml2's xmlschema accepts these, we refuse.
    ("xsi:type prefix rebound to another namespace on the element",
     lambda: response(value_attributes='xsi:type="xs:string" xmlns:xs="urn:wrong"'),
     "xmlschema resolves the QName with the root's prefixes; per XSD, xs here is urn:wrong "
     "and {urn:wrong}string is no type"),
    ("text beside the foreign element in Extensions",
     lambda: extensions("text" + FOREIGN),
     "ExtensionsType is element-only (not mixed): character content is invalid"),
    ("xml:lang 'en us'", lambda: edit('Name="uid"', 'Name="uid" xml:lang="en us"'),
     "xs:language is [a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})* (or '' here): no spaces; xmlschema's "
     "check lets a space-separated list of tags through"),
    ("Destination 'http://[::1'", lambda: edit('"https://sp.example/acs"', '"http://[::1"'),
     "not a URI reference (RFC 2396/2732) even after XLink escaping: invalid xs:anyURI"),
    ("Destination 'http://x/%zz'", lambda: edit('"https://sp.example/acs"', '"http://x/%zz"'),
     "a bad %-escape: invalid xs:anyURI"),
    ("Destination 'http://x/#a#b'", lambda: edit('"https://sp.example/acs"', '"http://x/#a#b"'),
     "two fragment separators: invalid xs:anyURI"),
    ("Destination '::'", lambda: edit('"https://sp.example/acs"', '"::"'),
     "no scheme and a colon in the first path segment: invalid xs:anyURI"),
    ("Algorithm 'http://[bad'", lambda: response(signature=signature().replace(
        "http://www.w3.org/2001/10/xml-exc-c14n#", "http://[bad")),
     "invalid xs:anyURI"),
    ("IssueInstant with surrounding spaces", lambda: response(instant=" 2024-01-01T00:00:00Z "),
     "valid per XSD (dateTime collapses whitespace) but libxml2 refuses; no SAML producer "
     "writes it, and pysaml2 reads the attribute without stripping"),
    ("huge text node", lambda: response(value="x" * HUGE),
     "libxml2 refuses a text node over 10 MB without XML_PARSE_HUGE; no SAML message has one"),
    ("huge attribute", lambda: edit('Name="uid"', 'Name="' + "x" * HUGE + '"'),
     "libxml2's 10 MB limit again"),
    ("DOCTYPE without entities", lambda: "<!DOCTYPE samlp:Response>\n" + response(),
     "a DTD has no place in a SAML message (and pysaml2 never writes one)"),
    ("DOCTYPE with an internal entity", lambda: '<!DOCTYPE r [<!ENTITY e "pupil1">]>\n'
     + response(value="&e;"), "xmlschema's expat expands the entity; we refuse any DTD"),
    ("undeclared root validated by xsi:type", lambda: (
        f'<x:R xmlns:x="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:saml="{SAML}" xsi:type="saml:NameIDType">a</x:R>'),
     "xmlschema validates an unknown root against its xsi:type; libxml2 wants a global element "
     "declaration for the root, which every SAML message has"),
]


@pytest.mark.parametrize("build", [case[1] for case in DIFFERENCES],
                         ids=[case[0] for case in DIFFERENCES])
def test_where_verdicts_differ_ours_refuses(build: Callable[[], str | bytes]) -> None:
    theirs, ours = both(build())
    assert theirs is None and ours is not None, ours


# --- the contract pysaml2 relies on ---------------------------------------------------------

def test_valid_returns_none_invalid_raises_xmlschemaerror_with_doc_and_error() -> None:
    doc = edit(' ID="r1"', "")
    assert schema.validate_doc_with_schema(response()) is None
    with pytest.raises(XMLSchemaError) as caught:
        schema.validate_doc_with_schema(doc)
    assert caught.value.args == ({"doc": doc, "error": caught.value.args[0]["error"]},)
    assert "'ID' is required but missing" in caught.value.args[0]["error"]
    assert isinstance(caught.value.__cause__, etree.DocumentInvalid)


def test_an_explicit_validator_is_used_as_pysaml2_would() -> None:
    calls: list[object] = []

    class Validator:
        def validate(self, doc: object) -> None:
            calls.append(doc)
            raise ValueError("refused by the caller's validator")

    with pytest.raises(XMLSchemaError, match="refused by the caller's validator"):
        schema.validate_doc_with_schema(response(), Validator())
    assert calls == [response()]


@pytest.fixture
def uninstalled(monkeypatch: pytest.MonkeyPatch) -> None:
    """pysaml2 as it comes (monkeypatch puts back whatever was installed before)."""
    monkeypatch.setattr(saml2.sigver, "validate_doc_with_schema", schema.pure_python_validate)
    monkeypatch.setattr(saml2.xml.schema, "validate", schema.pure_python_validate)


@pytest.mark.usefixtures("uninstalled")
def test_attach_installs_it_where_pysaml2_looks_it_up(make: MakePair) -> None:
    assert not schema.installed()
    make(idp_backend="xmlsec1", sp_backend="inprocess")
    assert schema.installed()
    assert saml2.sigver.validate_doc_with_schema is schema.validate_doc_with_schema
    assert saml2.xml.schema.validate is schema.validate_doc_with_schema


@pytest.mark.usefixtures("uninstalled")
def test_install_is_idempotent_and_covers_every_saml2_module(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import saml2.response

    monkeypatch.setattr(saml2.response, "validate_doc_with_schema", schema.pure_python_validate,
                        raising=False)
    schema.install()
    schema.install()
    assert schema.installed()
    assert saml2.response.validate_doc_with_schema is schema.validate_doc_with_schema  # type: ignore[attr-defined]
    assert schema.pure_python_validate is not schema.validate_doc_with_schema


def test_pysaml2_rejects_an_invalid_signed_response_through_it(make: MakePair) -> None:
    """End to end: a signed Response whose Assertion lost its Version fails the schema check."""
    pair = make()
    request_id = authn_request(pair)
    root = etree.fromstring(signed_response(pair, request_id).encode())
    del tamper.assertion(root).attrib["Version"]
    seen: list[str] = []
    original = schema._check

    def spy(doc: str | bytes) -> None:
        seen.append(str(doc))
        original(doc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "_check", spy)
        with pytest.raises(saml2.sigver.SignatureError, match="Invalid document format"):
            parse(pair, etree.tostring(root, encoding="unicode"), request_id)
    assert seen, "pysaml2 did not go through broker.saml.schema"


def test_a_process_running_loper_has_it_installed(tmp_path: Path) -> None:
    """What a gunicorn worker does: create_app() in a fresh interpreter."""
    import subprocess
    import sys

    from broker.instance import initialise
    from broker.settings import load_settings

    folder = tmp_path / "instance"
    for _ in initialise(load_settings({"instance": folder}, environ={})):
        pass
    code = ("import saml2.sigver, saml2.xml.schema\n"
            "from broker.saml import schema\n"
            "assert not schema.installed()\n"
            "from app import create_app\n"
            f"create_app({{'instance': {str(folder)!r}}})\n"
            "print(schema.installed())\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=root,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


# --- no network, threads ----------------------------------------------------------------------

@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A TCP port that counts as 'the network': nothing may connect to it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server, f"http://127.0.0.1:{server.getsockname()[1]}"


def _connected(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def test_documents_never_make_it_fetch_anything(listener: tuple[socket.socket, str]) -> None:
    server, url = listener
    hints = edit(' ID="r1"', f' ID="r1" xsi:schemaLocation="{SAMLP} {url}/evil.xsd"')
    documents = [
        hints,
        f'<!DOCTYPE r SYSTEM "{url}/evil.dtd">\n' + response(),
        f'<!DOCTYPE r [<!ENTITY e SYSTEM "{url}/evil">]>\n' + response(value="&e;"),
        extensions(f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}/x"/>'),
        f"{url}/response.xml",
    ]
    valid = [verdict(schema.validate_doc_with_schema, doc) is None for doc in documents]
    # Hints and XInclude are only attributes and lax content to a validator: valid, not followed.
    assert valid == [True, False, False, True, False]
    assert not _connected(server)


def test_schema_locations_outside_the_bundle_are_refused(
        listener: tuple[socket.socket, str]) -> None:
    server, url = listener
    driver = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">'
              f'<xs:import namespace="urn:evil" schemaLocation="{url}/evil.xsd"/></xs:schema>')
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(schema._BundledOnly(schema._folder()))
    with pytest.raises((XMLSchemaError, etree.XMLSchemaParseError)):
        etree.XMLSchema(etree.fromstring(driver.encode(), parser))
    assert not _connected(server)


def test_threads_get_their_own_verdicts_and_messages() -> None:
    cases = [(response(), None), (edit(' ID="r1"', ""), "'ID' is required"),
             (response(value_attributes='xsi:type="xs:integer"'), "xs:integer"),
             (encrypted("garbage"), "Character content")]
    start = threading.Barrier(8)

    def run(index: int) -> bool:
        start.wait()
        for round_ in range(300):
            doc, expected = cases[(index + round_) % len(cases)]
            error = verdict(schema.validate_doc_with_schema, doc)
            if (error is None) != (expected is None) or (expected and expected not in error):
                return False
        return True

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(run, range(8)))
