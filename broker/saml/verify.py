"""Signatures checked, and encrypted elements decrypted, in place on one parsed tree (the `xmlsec`
binding): the hot path of a school's Response, which is parsed once and never serialised again.

The same rules as broker.saml.crypto's pysaml2 backend: the key is pinned (one of the keys
given, from the peer's metadata; KeyInfo in the message is never read), the signed element's ID
occurs once in the document, its signature is its direct child with exactly one Reference to
'#' + ID, and algorithms and transforms come from crypto_policy's allow-list. Every failure is
`Rejected`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import xmlsec

from broker.saml.crypto_decrypt import decrypt_first
from broker.saml.crypto_policy import (
    CANONICALIZATIONS,
    TRANSFORMS,
    Policy,
    Rejected,
    check_signature,
    element_by_id,
    enveloped_signature,
)
from broker.saml.xmlparse import Element
from broker.saml.xmlsec_door import TRANSFORM_BY_HREF, Transform

__all__ = ["Rejected", "decrypt_in_place", "signature_context", "verify_enveloped"]


@functools.cache
def _transforms(policy: Policy) -> tuple[list[Transform], list[Transform]]:
    signature = [TRANSFORM_BY_HREF[href]
                 for href in sorted(CANONICALIZATIONS | policy.signature_methods)]
    reference = [TRANSFORM_BY_HREF[href] for href in sorted(TRANSFORMS | policy.digest_methods)]
    return signature, reference


def signature_context(key: xmlsec.Key, policy: Policy) -> xmlsec.SignatureContext:
    """A context with the key pinned (KeyInfo is never read) and only allowed algorithms."""
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.set_enabled_key_data([])
    signature, reference = _transforms(policy)
    for transform in signature:
        ctx.enable_signature_transform(transform)
    for transform in reference:
        ctx.enable_reference_transform(transform)
    return ctx


def _node_name(tag: str) -> str:
    """lxml's '{urn:...:assertion}Assertion' as 'urn:...:assertion:Assertion'."""
    return tag[1:].replace("}", ":") if tag.startswith("{") else tag


def verify_enveloped(node: Element, keys: Sequence[xmlsec.Key], policy: Policy) -> None:
    """node's own enveloped signature verifies with one of `keys`; else Rejected."""
    node_id = node.get("ID")
    if not node_id:
        raise Rejected("the signed element has no ID")
    element_by_id(node.getroottree().getroot(), node_id, _node_name(node.tag))
    signature = enveloped_signature(node)
    check_signature(signature, node_id, policy)
    failures: list[str] = []
    for key in keys:
        ctx = signature_context(key, policy)
        try:
            ctx.register_id(node, "ID")
            ctx.verify(signature)
        except xmlsec.Error as exc:
            failures.append(str(exc))
            continue
        return
    raise Rejected("; ".join(failures) or "no key to verify the signature with")


def decrypt_in_place(wrapper: Element, private_keys: Sequence[xmlsec.Key]) -> Element:
    """Decrypt the EncryptedData inside `wrapper` (EncryptedAssertion, EncryptedID) with the
    first of `private_keys` that opens it; the decrypted element stays inside `wrapper`."""
    failures: list[str] = []
    for key in private_keys:
        try:
            decrypt_first(wrapper, key)
        except (Rejected, xmlsec.Error) as exc:
            failures.append(str(exc))
            continue
        decrypted = next((child for child in wrapper.iterchildren("*")
                          if not child.tag.startswith("{http://www.w3.org/2001/04/xmlenc#}")),
                         None)
        if decrypted is None:
            raise Rejected("the EncryptedData did not hold an XML element")
        return decrypted
    raise Rejected("; ".join(failures) or "no key to decrypt with")
