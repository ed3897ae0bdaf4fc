"""Edits an attacker could make to a signed SAML Response, for the tampering tests."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from collections.abc import Callable

from lxml import etree

from tests.saml.pair import KeyFiles

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"saml": SAML, "samlp": SAMLP, "ds": DS}

Edit = Callable[[etree._Element], None]


def edit(xml: str, change: Edit) -> str:
    root = etree.fromstring(xml.encode())
    change(root)
    return str(etree.tostring(root, encoding="unicode"))


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, NS)
    assert found is not None, path
    return found


def assertion(root: etree._Element) -> etree._Element:
    return one(root, "saml:Assertion")


def ids(xml: str) -> tuple[str, str]:
    """(Response ID, Assertion ID)."""
    root = etree.fromstring(xml.encode())
    return root.get("ID"), assertion(root).get("ID")


def change_attribute(root: etree._Element) -> None:
    value = next(v for v in root.iterfind(".//saml:AttributeValue", NS) if v.text == "pupil1")
    value.text = "headteacher"


def change_name_id(root: etree._Element) -> None:
    one(root, ".//saml:Subject/saml:NameID").text = "someone-else"


def move_signature_to_response(root: etree._Element) -> None:
    """The assertion's signature, lifted to the (unsigned) Response after its Issuer."""
    signature = one(assertion(root), "ds:Signature")
    one(root, "saml:Issuer").addnext(signature)


def _evil_in_place(root: etree._Element, keep_id: bool) -> tuple[etree._Element, etree._Element]:
    original = assertion(root)
    evil = copy.deepcopy(original)
    change_name_id(evil)
    if not keep_id:
        evil.set("ID", "id-evil")
    original.addprevious(evil)
    root.remove(original)
    return original, evil


def wrap_in_extensions(root: etree._Element) -> None:
    """XSW: the signed assertion hidden in samlp:Extensions, an evil copy (same ID, copied
    signature, other NameID) where the assertion belongs."""
    original, _evil = _evil_in_place(root, keep_id=True)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    one(root, "saml:Issuer").addnext(extensions)
    extensions.append(original)


def wrap_unsigned_in_extensions(root: etree._Element) -> None:
    """XSW: the signed assertion in samlp:Extensions, an unsigned evil one in its place."""
    original, evil = _evil_in_place(root, keep_id=False)
    evil.remove(one(evil, "ds:Signature"))
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    one(root, "saml:Issuer").addnext(extensions)
    extensions.append(original)


def wrap_with_foreign_reference(root: etree._Element) -> None:
    """XSW: an evil assertion (new ID) carrying the original signature, whose Reference still
    points at the original - now unsigned, in samlp:Extensions."""
    original, _evil = _evil_in_place(root, keep_id=False)
    original.remove(one(original, "ds:Signature"))
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    one(root, "saml:Issuer").addnext(extensions)
    extensions.append(original)


def wrap_in_object(root: etree._Element) -> None:
    """XSW: an evil assertion (new ID) carrying the original signature, whose ds:Object holds
    the signed original; the Reference still points at the original's ID."""
    original, evil = _evil_in_place(root, keep_id=False)
    holder = etree.SubElement(one(evil, "ds:Signature"), f"{{{DS}}}Object")
    holder.append(original)
    original.remove(one(original, "ds:Signature"))


def replace_key_info(cert: KeyFiles) -> Edit:
    """Swap the certificate in every KeyInfo (not covered by the signature) for cert."""
    def change(root: etree._Element) -> None:
        for element in root.iterfind(".//ds:X509Certificate", NS):
            element.text = cert.cert_b64()
    return change


def drop_key_info(root: etree._Element) -> None:
    for key_info in list(root.iterfind(".//ds:KeyInfo", NS)):
        key_info.getparent().remove(key_info)


def hmac_resign(secret: bytes) -> Edit:
    """Key confusion: the assertion's SignatureMethod set to HMAC-SHA256, the SignatureValue
    recomputed with secret (a verifier using the public certificate as HMAC key accepts it)."""
    def change(root: etree._Element) -> None:
        signature = one(assertion(root), "ds:Signature")
        signed_info = one(signature, "ds:SignedInfo")
        method = one(signed_info, "ds:SignatureMethod")
        method.set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
        canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
        mac = hmac.new(secret, canonical, hashlib.sha256).digest()
        one(signature, "ds:SignatureValue").text = base64.b64encode(mac).decode()
    return change


def set_algorithm(path: str, algorithm: str) -> Edit:
    """Set an algorithm inside the assertion's signature (breaks nothing before the check)."""
    def change(root: etree._Element) -> None:
        one(one(assertion(root), "ds:Signature"), path).set("Algorithm", algorithm)
    return change


def add_reference(root: etree._Element) -> None:
    signed_info = one(one(assertion(root), "ds:Signature"), "ds:SignedInfo")
    reference = one(signed_info, "ds:Reference")
    reference.addnext(copy.deepcopy(reference))
