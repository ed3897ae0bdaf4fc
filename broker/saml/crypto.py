"""In-process XML signatures and decryption for pysaml2, on the `xmlsec` binding.

pysaml2's default backend forks `xmlsec1` (twice) for every signature it makes or checks.
`attach(entity)` gives a pysaml2 Server or Saml2Client an `InProcessCrypto` instead: the same
three calls SecurityContext makes on its crypto object (sign_statement, validate_signature,
decrypt), with the same arguments, return values and exceptions, done in-process.

Verification is stricter than xmlsec1's: the key is pinned to the certificate pysaml2 passes
(from the peer's metadata; KeyInfo in the message is never read), the signed element's ID must
be unique, the signature must be its direct child with exactly one Reference to '#' + ID, and
algorithms and transforms come from an allow-list (see crypto_policy). Encryption is not done
here: encrypt/encrypt_assertion go to the backend that was replaced.

`attach` also installs broker.saml.schema: pysaml2's XML Schema check of every signed message,
done by libxml2 instead of the pure-Python xmlschema package (process-wide, once).
"""

from __future__ import annotations

import xmlsec
from lxml import etree

from broker.saml.compat import CryptoBackend, DecryptError, SignatureError, swap_crypto
from broker.saml.crypto_decrypt import decrypt_first
from broker.saml.crypto_keys import KEYS, KeyCache
from broker.saml.crypto_policy import (
    Policy,
    Rejected,
    check_signature,
    element_by_id,
    enveloped_signature,
    parse_xml,
)
from broker.saml.schema import install as install_schema_check
from broker.saml.verify import signature_context
from broker.saml.views import Encrypter
from broker.saml.xmlsec_door import libxmlsec_version

__all__ = ["InProcessCrypto", "attach"]

_FAILURES = (Rejected, xmlsec.Error, OSError, ValueError)


def _text(statement: object) -> str | bytes:
    """pysaml2 hands over bytes, str or a SamlBase instance (whose str() is its XML)."""
    return statement if isinstance(statement, str | bytes) else str(statement)


def _serialize(root: etree._Element) -> str:
    """The document as xmlsec1 writes it: declaration, document, newline."""
    body: str = etree.tostring(root.getroottree(), encoding="unicode")
    return f'<?xml version="1.0"?>\n{body}\n'


class InProcessCrypto(CryptoBackend):
    """A pysaml2 CryptoBackend that signs, verifies and decrypts without a subprocess."""

    def __init__(self, *, allow_sha1: bool = False, fallback: Encrypter | None = None,
                 keys: KeyCache = KEYS) -> None:
        super().__init__()
        self.policy = Policy(allow_sha1=allow_sha1)
        self.fallback = fallback
        self.keys = keys

    @property
    def version(self) -> str:
        return ".".join(str(part) for part in libxmlsec_version())

    def sign_statement(self, statement: object, node_name: str, key_file: str,
                       node_id: str | None) -> str:
        """Fill in the Signature template pysaml2 placed in the element whose ID is node_id."""
        try:
            root = parse_xml(_text(statement))
            node = element_by_id(root, node_id, node_name)
            signature = enveloped_signature(node)
            check_signature(signature, node.get("ID", ""), self.policy)
            ctx = signature_context(self.keys.private_key(key_file), self.policy)
            ctx.register_id(node, "ID")
            ctx.sign(signature)
        except _FAILURES as exc:
            raise SignatureError(f"cannot sign {node_name} {node_id}: {exc}") from exc
        return _serialize(root)

    def validate_signature(self, signedtext: str | bytes, cert_file: str, cert_type: str,
                           node_name: str, node_id: str | None) -> bool:
        """True if node_id's enveloped signature verifies with cert_file; else SignatureError."""
        try:
            root = parse_xml(signedtext)
            node = element_by_id(root, node_id, node_name)
            signature = enveloped_signature(node)
            check_signature(signature, node.get("ID", ""), self.policy)
            ctx = signature_context(self.keys.certificate(cert_file, cert_type), self.policy)
            ctx.register_id(node, "ID")
            ctx.verify(signature)
        except _FAILURES as exc:
            raise SignatureError(f"signature on {node_name} {node_id} rejected: {exc}") from exc
        return True

    def decrypt(self, enctext: object, key_file: str) -> str:
        """The document with its first EncryptedData decrypted, as `xmlsec1 --decrypt`."""
        try:
            root = decrypt_first(parse_xml(_text(enctext)), self.keys.private_key(key_file))
        except _FAILURES as exc:
            raise DecryptError(f"cannot decrypt with {key_file}: {exc}") from exc
        return _serialize(root)

    def encrypt(self, *args: object, **kwargs: object) -> object:
        return self._fallback().encrypt(*args, **kwargs)

    def encrypt_assertion(self, *args: object, **kwargs: object) -> object:
        return self._fallback().encrypt_assertion(*args, **kwargs)

    def _fallback(self) -> Encrypter:
        if self.fallback is None:
            raise NotImplementedError("encryption is not done in-process")
        return self.fallback


def attach(entity: object, *, allow_sha1: bool = False) -> None:
    """Make a pysaml2 entity (saml2.server.Server or saml2.client.Saml2Client, or anything with
    `.sec` a SecurityContext, or a SecurityContext itself) sign and verify in-process.

    allow_sha1 accepts RSA-SHA1/ECDSA-SHA1 signatures and SHA-1 digests, for a school whose
    IdP is explicitly marked legacy; MD5 and HMAC are never accepted. Calling attach again
    replaces the policy. Also forces `only_use_keys_in_metadata`: a signature is only ever
    checked against certificates from the peer's metadata.

    The first call in a process also makes pysaml2's schema check run on libxml2
    (broker.saml.schema.install: same verdicts or stricter, ~50 times cheaper).
    """
    def make(current: Encrypter) -> InProcessCrypto:
        fallback = current.fallback if isinstance(current, InProcessCrypto) else current
        return InProcessCrypto(allow_sha1=allow_sha1, fallback=fallback)

    install_schema_check()
    swap_crypto(entity, make)
