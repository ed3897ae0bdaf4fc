"""A school's SAML identity provider for the tests: a real pysaml2 `Server` with its own keys,
which reads Loper's SP metadata and answers the AuthnRequest that Loper's login_redirect sent.

For the malformed answers pysaml2 cannot produce, `Tamper` edits the XML of an unsigned
response and signs it afterwards with the `xmlsec` binding.
"""

from __future__ import annotations

import base64
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import xmlsec
from cryptography.utils import CryptographyDeprecationWarning
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from broker.identity import PendingLogin
from broker.keys import KeyPair
from broker.outgoing import Outgoing
from broker.records import School
from broker.upstream import Callback
from broker.upstream.saml import SamlUpstream
from broker.upstream.saml_kind import SamlSchool
from tests.certs import write_pair

with warnings.catch_warnings():
    # saml2.server imports saml2.cryptography.symmetric, which touches cryptography's
    # deprecated CFB mode at import time (CryptographyDeprecationWarning "CFB has been moved
    # to cryptography.hazmat.decrepit..."). Loper's SP side never imports it.
    warnings.filterwarnings("ignore", "CFB has been moved", CryptographyDeprecationWarning)
    from saml2.server import Server

XMLSEC1 = "/usr/bin/xmlsec1"
BASE = "https://loper.example"
SCHOOL_IDP = "https://idp.regenboog.example/saml"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
NS = {"saml": SAML, "samlp": SAMLP, "ds": "http://www.w3.org/2000/09/xmldsig#"}
PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
IDENTITY = {
    "givenName": ["Sanne"],
    "sn": ["de Vries"],
    "eduPersonAffiliation": ["student", "member"],
    "telephoneNumber": ["0612345678"],  # known to pysaml2, outside Loper's vocabulary
}


def make_keypair(folder: Path, name: str) -> KeyPair:
    """A fresh RSA-2048 key and a self-signed certificate, written into folder."""
    return KeyPair(*write_pair(folder, name))


def encode(xml: str | bytes | etree._Element) -> str:
    """The SAMLResponse form field (HTTP-POST binding) for a response."""
    if isinstance(xml, etree._Element):
        xml = etree.tostring(xml)
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    return base64.b64encode(raw).decode("ascii")


def sign(element: etree._Element, keys: KeyPair, sha1: bool = False) -> None:
    """An enveloped signature over element (an Assertion or Response), placed after Issuer."""
    method, digest = ((xmlsec.Transform.RSA_SHA1, xmlsec.Transform.SHA1) if sha1
                      else (xmlsec.Transform.RSA_SHA256, xmlsec.Transform.SHA256))
    signature = xmlsec.template.create(element, xmlsec.Transform.EXCL_C14N, method, ns="ds")
    element.find("saml:Issuer", NS).addnext(signature)
    ref = xmlsec.template.add_reference(signature, digest, uri="#" + element.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(str(keys.key), xmlsec.KeyFormat.PEM)
    ctx.key.load_cert_from_file(str(keys.cert), xmlsec.KeyFormat.PEM)
    ctx.register_id(element, "ID")
    ctx.sign(signature)


def assertions(root: etree._Element) -> list[etree._Element]:
    return root.findall("saml:Assertion", NS)


class SchoolIdp:
    """One school's IdP: a pysaml2 Server with its own keys and entity id."""

    def __init__(self, entity_id: str, keys: KeyPair, sp_metadata: str, *,
                 bindings: tuple[str, ...] = (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)) -> None:
        self.entity_id = entity_id
        self.keys = keys
        self.sso_url = entity_id.rstrip("/") + "/sso"
        self.config = IdPConfig().load({
            "entityid": entity_id,
            "key_file": str(keys.key),
            "cert_file": str(keys.cert),
            "xmlsec_binary": XMLSEC1,
            "metadata": {"inline": [sp_metadata]},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, b) for b in bindings]},
                "want_authn_requests_signed": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
            }},
        })
        self.server = Server(config=self.config)

    def metadata_xml(self) -> str:
        return str(entity_descriptor(self.config))

    def school(self, school_id: str = "regenboog", **saml: Any) -> School:
        return School(school_id, "OBS De Regenboog",
                      SamlSchool(self.metadata_xml(), self.entity_id, **saml))

    def parse(self, outgoing: Outgoing) -> Any:
        """The AuthnRequest as this IdP receives it; its signature is checked (else it raises)."""
        if outgoing.form is not None:
            assert outgoing.url == self.sso_url
            return self.server.parse_authn_request(outgoing.form["SAMLRequest"],
                                                   BINDING_HTTP_POST)
        url = urlsplit(outgoing.url)
        assert f"{url.scheme}://{url.netloc}{url.path}" == self.sso_url
        query = dict(parse_qsl(url.query))
        return self.server.parse_authn_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=query.get("RelayState"),
            sigalg=query["SigAlg"], signature=query["Signature"])

    def respond(self, request: Any, *, name_id: str = "pupil-4711",
                name_format: str = NAMEID_FORMAT_PERSISTENT,
                identity: dict[str, list[str]] | None = None, sign_assertion: bool = True,
                sign_response: bool = False, encrypt: bool = False, sha1: bool = False,
                authn_instant: float | None = None, issuer: str | None = None,
                **extra: Any) -> str:
        """The Response XML this IdP sends for request (pysaml2 decides everything else)."""
        message = request.message
        algorithms = ({"sign_alg": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                       "digest_alg": "http://www.w3.org/2000/09/xmldsig#sha1"} if sha1 else {})
        response = self.server.create_authn_response(
            dict(IDENTITY if identity is None else identity), message.id,
            message.assertion_consumer_service_url, message.issuer.text,
            name_id=NameID(format=name_format, text=name_id),
            authn={"class_ref": PASSWORD, "authn_instant": authn_instant or time.time()},
            sign_assertion=sign_assertion, sign_response=sign_response,
            encrypt_assertion=encrypt, issuer=issuer, **{
                "encrypt_assertion_self_contained": True, **algorithms, **extra})
        return str(response)


class Tamper:
    """Edit an unsigned response from the IdP, then sign it: the answers pysaml2 won't write."""

    def __init__(self, idp: SchoolIdp, request: Any, **respond: Any) -> None:
        xml = idp.respond(request, sign_assertion=False, **respond)
        self.root = etree.fromstring(xml.encode("utf-8"))
        self.keys = idp.keys

    @property
    def assertion(self) -> etree._Element:
        return assertions(self.root)[0]

    def find(self, path: str) -> etree._Element:
        found = self.root.find(path, NS)
        assert found is not None, path
        return found

    def edit(self, change: Callable[[etree._Element], object]) -> Tamper:
        change(self.root)
        return self

    def signed(self, *, keys: KeyPair | None = None, sha1: bool = False,
               response: bool = False) -> str:
        """Sign every assertion (and the response if asked), return the SAMLResponse field."""
        for assertion in assertions(self.root):
            sign(assertion, keys or self.keys, sha1)
        if response:
            sign(self.root, keys or self.keys, sha1)
        return encode(self.root)


def pending_login(**options: Any) -> PendingLogin:
    return PendingLogin(id="p1", supplier_id="rekenwonders", protocol="saml", request=b"",
                        **options)


@dataclass
class Login:
    """One pupil's trip: Loper's AuthnRequest to the school's IdP, and back with an answer."""

    upstream: SamlUpstream
    idp: SchoolIdp
    school: School

    def start(self, **pending: Any) -> tuple[Any, bytes]:
        """The AuthnRequest as the IdP parsed it, and the state Loper keeps."""
        outgoing, state = self.upstream.login_redirect(self.school, pending_login(**pending),
                                                       "relay-1")
        return self.idp.parse(outgoing), state

    def finish(self, saml_response: str, state: bytes,
               school: School | None = None) -> Callback:
        return self.upstream.handle_callback(school or self.school,
                                             {"SAMLResponse": saml_response}, state)
