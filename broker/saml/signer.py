"""Loper's enveloped XML signatures (RSA-SHA256, SHA-256 digests, exclusive c14n), through
pysaml2's security context: its answers, metadata and logout messages."""

from __future__ import annotations

import functools

from saml2.config import Config
from saml2.sigver import pre_signature_part, read_cert_from_file, security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from broker.errors import ResponseFailed
from broker.keys import KeyPair
from broker.saml.frames import release_frames
from broker.saml.xmlparse import Element, parse, to_text


class Signer:
    """Loper's SAML signing key, loaded once per process (see signer())."""

    def __init__(self, signing: KeyPair) -> None:
        conf = Config().load({"key_file": str(signing.key), "cert_file": str(signing.cert)})
        self.security = security_context(conf)
        self._cert = read_cert_from_file(str(signing.cert))

    def template(self, ident: str) -> object:
        return pre_signature_part(ident, self._cert, digest_alg=DIGEST_SHA256,
                                  sign_alg=SIG_RSA_SHA256)

    def sign(self, element: Element, ident: str) -> Element:
        xml = to_text(element)
        node_name = element.tag.replace("}", ":")[1:]  # pysaml2 names "{ns}Tag" "ns:Tag"
        try:
            signed = self.security.sign_statement(xml, node_name=node_name, node_id=ident)
        except Exception as exc:  # pysaml2's exceptions share no base class
            release_frames(exc)
            raise ResponseFailed(f"Loper could not sign its message ({type(exc).__name__})") \
                from exc
        return parse(signed)


@functools.cache
def signer(signing: KeyPair) -> Signer:
    return Signer(signing)


