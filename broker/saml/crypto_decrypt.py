"""In-process XML decryption of the first EncryptedData in a document, as `xmlsec1 --decrypt`.

The session key is unwrapped from an EncryptedKey (inside the EncryptedData's KeyInfo, pointed
to by a RetrievalMethod, or a sibling inside EncryptedAssertion/EncryptedID/EncryptedAttribute)
with our private key only: the private key is set on the context, so xmlsec never looks a key up
from the message. RSA-1.5 key transport is refused (Bleichenbacher); see crypto_policy.
"""

from __future__ import annotations

import xmlsec
from lxml import etree

from broker.saml.crypto_policy import (
    BLOCK_CIPHERS,
    DS,
    ENC_ELEMENT,
    ENC_KEY_TYPE,
    KEY_TRANSPORTS,
    XENC,
    Rejected,
)
from broker.saml.xmlsec_door import decrypt

_NS = {"ds": DS, "xenc": XENC}
_KEY_DATA = {"aes": xmlsec.constants.KeyDataAes, "des": xmlsec.constants.KeyDataDes}


def _method(element: etree._Element) -> str:
    method = element.find(f"{{{XENC}}}EncryptionMethod")
    return "" if method is None else method.get("Algorithm", "")


def _encrypted_keys(enc_data: etree._Element) -> list[etree._Element]:
    """Candidate EncryptedKeys for enc_data, inline ones first."""
    found: list[etree._Element] = list(enc_data.iterfind("ds:KeyInfo/xenc:EncryptedKey", _NS))
    root = enc_data.getroottree().getroot()
    for retrieval in enc_data.iterfind("ds:KeyInfo/ds:RetrievalMethod", _NS):
        uri = retrieval.get("URI", "")
        if retrieval.get("Type") == ENC_KEY_TYPE and uri.startswith("#"):
            matches = root.xpath("//xenc:EncryptedKey[@Id=$v]", namespaces=_NS, v=uri[1:])
            if isinstance(matches, list):
                found.extend(m for m in matches if isinstance(m, etree._Element))
    parent = enc_data.getparent()
    if parent is not None:
        found.extend(parent.iterfind("xenc:EncryptedKey", _NS))
    unique: list[etree._Element] = []
    for key in found:
        if all(key is not seen for seen in unique):
            unique.append(key)
    return unique


def _session_key(enc_data: etree._Element, private_key: xmlsec.Key, kind: str) -> xmlsec.Key:
    """Unwrap the session key with the first EncryptedKey our private key opens."""
    errors: list[str] = []
    for encrypted_key in _encrypted_keys(enc_data):
        if _method(encrypted_key) not in KEY_TRANSPORTS:
            errors.append(f"key transport not allowed: {_method(encrypted_key)!r}")
            continue
        ctx = xmlsec.EncryptionContext()
        ctx.key = private_key
        try:
            raw = decrypt(ctx, encrypted_key)
        except xmlsec.Error as exc:
            errors.append(f"EncryptedKey: {exc}")
            continue
        if isinstance(raw, bytes):
            return xmlsec.Key.from_binary_data(_KEY_DATA[kind], raw)
    raise Rejected("; ".join(errors) or "no EncryptedKey for the EncryptedData")


def decrypt_first(root: etree._Element, private_key: xmlsec.Key) -> etree._Element:
    """Decrypt the first EncryptedData under root in place; return the (new) document root."""
    enc_data = next(root.iter(f"{{{XENC}}}EncryptedData"), None)
    if enc_data is None:
        raise Rejected("no EncryptedData in the document")
    if enc_data.get("Type", ENC_ELEMENT) != ENC_ELEMENT:
        raise Rejected(f"EncryptedData Type not allowed: {enc_data.get('Type')!r}")
    kind = BLOCK_CIPHERS.get(_method(enc_data))
    if kind is None:
        raise Rejected(f"block cipher not allowed: {_method(enc_data)!r}")
    ctx = xmlsec.EncryptionContext()
    ctx.key = _session_key(enc_data, private_key, kind)
    try:
        result = decrypt(ctx, enc_data)
    except xmlsec.Error as exc:
        raise Rejected(f"EncryptedData: {exc}") from exc
    if not isinstance(result, etree._Element):
        raise Rejected("the EncryptedData did not hold an XML element")
    return result.getroottree().getroot()
