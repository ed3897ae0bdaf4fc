"""What the in-process SAML crypto backend accepts: parsing, algorithms and signature shape.

Everything here is pure lxml and raises `Rejected`; broker/saml/crypto.py turns that into the
exception pysaml2 expects (SignatureError or DecryptError).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from broker.saml.xmlparse import NotXml, parse

DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
MORE = "http://www.w3.org/2001/04/xmldsig-more#"

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
ENVELOPED = DS + "enveloped-signature"
CANONICALIZATIONS = frozenset({EXC_C14N, C14N_10, C14N_11})
TRANSFORMS = CANONICALIZATIONS | {ENVELOPED}

SIGNATURES = frozenset({MORE + "rsa-sha256", MORE + "rsa-sha384", MORE + "rsa-sha512",
                        MORE + "ecdsa-sha256", MORE + "ecdsa-sha384", MORE + "ecdsa-sha512"})
SIGNATURES_SHA1 = frozenset({DS + "rsa-sha1", MORE + "ecdsa-sha1"})
DIGESTS = frozenset({XENC + "sha256", MORE + "sha384", XENC + "sha512"})
DIGESTS_SHA1 = frozenset({DS + "sha1"})

KEY_TRANSPORTS = frozenset({XENC + "rsa-oaep-mgf1p", XENC11 + "rsa-oaep"})
BLOCK_CIPHERS = {
    XENC11 + "aes128-gcm": "aes", XENC11 + "aes192-gcm": "aes", XENC11 + "aes256-gcm": "aes",
    XENC + "aes128-cbc": "aes", XENC + "aes192-cbc": "aes", XENC + "aes256-cbc": "aes",
    XENC + "tripledes-cbc": "des",
}
ENC_ELEMENT = XENC + "Element"
ENC_KEY_TYPE = XENC + "EncryptedKey"


class Rejected(Exception):
    """The document or a signature in it is outside what this backend accepts."""


@dataclass(frozen=True)
class Policy:
    allow_sha1: bool = False

    @property
    def signature_methods(self) -> frozenset[str]:
        return SIGNATURES | SIGNATURES_SHA1 if self.allow_sha1 else SIGNATURES

    @property
    def digest_methods(self) -> frozenset[str]:
        return DIGESTS | DIGESTS_SHA1 if self.allow_sha1 else DIGESTS


def parse_xml(data: str | bytes) -> etree._Element:
    """Parse a SAML document; no DTD (so no entities), no network, no huge trees."""
    try:
        return parse(data)
    except NotXml as exc:
        raise Rejected(str(exc)) from exc


def split_node_name(node_name: str) -> str:
    """pysaml2's 'urn:...:assertion:Assertion' as lxml's '{urn:...:assertion}Assertion'."""
    namespace, _, local = node_name.rpartition(":")
    return f"{{{namespace}}}{local}" if namespace else local


_BY_ID = etree.XPath("//@ID[.=$v]/.. | //@Id[.=$v]/.. | //@id[.=$v]/.. | //@xml:id[.=$v]/..")
"""The elements with an ID, Id, id or xml:id attribute of value $v, in document order: found
through the attributes (four times faster than testing four attributes of every element)."""


def element_by_id(root: etree._Element, node_id: str | None, node_name: str) -> etree._Element:
    """The one element whose ID is node_id, which must be a node_name; the root if no id."""
    tag = split_node_name(node_name)
    if node_id is None:
        if root.tag != tag or not root.get("ID"):
            raise Rejected(f"the document root is not an identified {node_name}")
        node_id = root.get("ID", "")
    found = _BY_ID(root, v=node_id)
    if not isinstance(found, list) or len(found) != 1:
        raise Rejected(f"the id {node_id!r} must occur exactly once in the document")
    node = found[0]
    if not isinstance(node, etree._Element) or node.tag != tag or node.get("ID") != node_id:
        raise Rejected(f"the id {node_id!r} does not belong to a {node_name}")
    return node


def enveloped_signature(node: etree._Element) -> etree._Element:
    """The single ds:Signature that is a direct child of node."""
    signatures = node.findall(f"{{{DS}}}Signature")
    if len(signatures) != 1:
        raise Rejected(f"expected one Signature in the signed element, found {len(signatures)}")
    return signatures[0]


def _one(parent: etree._Element, path: str) -> etree._Element:
    found = parent.findall(path, namespaces={"ds": DS})
    if len(found) != 1:
        raise Rejected(f"expected exactly one {path}, found {len(found)}")
    return found[0]


def _algorithm(parent: etree._Element, path: str, allowed: frozenset[str]) -> None:
    algorithm = _one(parent, path).get("Algorithm", "")
    if algorithm not in allowed:
        raise Rejected(f"algorithm not allowed: {path} {algorithm[:120]!r}")


def check_signature(signature: etree._Element, node_id: str, policy: Policy) -> None:
    """Enforce the SAML XML Signature profile (saml-core 5.4) and the algorithm allow-list."""
    if signature.find(f"{{{DS}}}Object") is not None:
        raise Rejected("a ds:Object is not allowed in a SAML signature")
    signed_info = _one(signature, "ds:SignedInfo")
    _algorithm(signed_info, "ds:CanonicalizationMethod", CANONICALIZATIONS)
    _algorithm(signed_info, "ds:SignatureMethod", policy.signature_methods)
    reference = _one(signed_info, "ds:Reference")
    if reference.get("URI") != f"#{node_id}":
        raise Rejected(f"the Reference URI {reference.get('URI', '')[:120]!r} is not '#{node_id}'")
    _algorithm(reference, "ds:DigestMethod", policy.digest_methods)
    transforms = [t.get("Algorithm", "") for t in reference.findall("ds:Transforms/ds:Transform",
                                                                   namespaces={"ds": DS})]
    if ENVELOPED not in transforms or len(transforms) > 2 or len(set(transforms)) < len(transforms):
        raise Rejected(f"transforms must be enveloped-signature and one c14n: {transforms!s:.240}")
    if not set(transforms) <= TRANSFORMS:
        raise Rejected(f"transform not allowed: {sorted(set(transforms) - TRANSFORMS)!s:.240}")
