"""Loper's enveloped XML signatures (RSA-SHA256, SHA-256 digests, exclusive c14n).

`sign_in_place` signs an lxml element where it stands, with the `xmlsec` binding and no
serialisation: the answers to suppliers, the messages sent over HTTP-POST (broker/saml/sending.py)
and the IdP metadata. The template is pysaml2's pre_signature_part, with Loper's certificate
in KeyInfo.
"""

from __future__ import annotations

import copy
import functools

import xmlsec

from broker.errors import ResponseFailed
from broker.keys import KeyPair
from broker.saml.compat import read_pem_cert, signature_template
from broker.saml.crypto_keys import KEYS
from broker.saml.crypto_policy import DS, Policy
from broker.saml.verify import signature_context
from broker.saml.xmlparse import Element, parse

_PLACEHOLDER = "_template"


class Signer:
    """Loper's SAML signing key, loaded once per process (see signer())."""

    def __init__(self, signing: KeyPair) -> None:
        self._cert = read_pem_cert(str(signing.cert))
        self._key_file = str(signing.key)
        self._template = parse(str(self.template(_PLACEHOLDER)))

    def template(self, ident: str) -> object:
        return signature_template(ident, self._cert)

    def template_element(self, ident: str) -> Element:
        """The ds:Signature template for the element whose ID is `ident`, to be placed in it
        (after its Issuer) before sign_in_place."""
        signature = copy.deepcopy(self._template)
        reference = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
        if reference is None:
            raise ValueError("pysaml2's signature template has no Reference")
        reference.set("URI", f"#{ident}")
        return signature

    def sign_in_place(self, element: Element) -> None:
        """Fill in the ds:Signature template that is a direct child of `element`."""
        signature = element.find(f"{{{DS}}}Signature")
        try:
            if signature is None:
                raise ValueError("no ds:Signature template in the element")
            ctx = signature_context(KEYS.private_key(self._key_file), Policy())
            ctx.register_id(element, "ID")
            ctx.sign(signature)
        except (xmlsec.Error, OSError, ValueError) as exc:
            raise ResponseFailed(f"Loper could not sign its message ({type(exc).__name__})") \
                from exc


@functools.cache
def signer(signing: KeyPair) -> Signer:
    return Signer(signing)
