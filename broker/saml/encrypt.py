"""XML Encryption of an element (a SAML Assertion) for the holder of a certificate.

pysaml2 hard-codes 3DES-CBC for assertion encryption, so Loper encrypts with the `xmlsec`
binding itself: a fresh AES session key (GCM by default, CBC for older SPs) wrapped with
RSA-OAEP (xmlenc#rsa-oaep-mgf1p, the transport every SAML library decrypts).

libxmlsec serialises the element on its own, without the namespace declarations of its
ancestors: the element must declare every namespace it uses itself, or the SP meets
"unbound prefix" when it parses the decrypted assertion on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import xmlsec
from lxml import etree

from broker.saml.crypto_keys import certificate_key
from broker.saml.xmlsec_door import Transform

CIPHERS: Mapping[str, tuple[Transform, int]] = {
    "aes256-gcm": (xmlsec.constants.TransformAes256Gcm, 256),
    "aes128-gcm": (xmlsec.constants.TransformAes128Gcm, 128),
    "aes256-cbc": (xmlsec.constants.TransformAes256Cbc, 256),
    "aes128-cbc": (xmlsec.constants.TransformAes128Cbc, 128),
}
"""Block ciphers by their configuration name: (xmlsec transform, key size in bits)."""


class EncryptionFailed(Exception):
    """The certificate cannot be used for encryption, or libxmlsec failed."""


def _certificate_key(cert_b64: str) -> xmlsec.Key:
    """The base64 DER of a metadata X509Certificate -> an xmlsec key for key transport."""
    try:
        return certificate_key(cert_b64)
    except ValueError as exc:
        raise EncryptionFailed(f"the encryption certificate: {exc}") from exc


class Recipient:
    """The holder of one encryption certificate, in a ready xmlsec keys manager.

    Building a keys manager costs about 10 ms (libxmlsec loads the default X509 trust store),
    so one is kept per recipient and shared under a lock (an encryption takes well under 1 ms).
    """

    def __init__(self, cert_b64: str) -> None:
        self._manager = xmlsec.KeysManager()
        self._manager.add_key(_certificate_key(cert_b64))
        self._lock = threading.Lock()

    def encrypt(self, element: etree._Element, cipher: str = "aes256-gcm") -> etree._Element:
        """Replace `element` in its tree by its xenc:EncryptedData for this recipient."""
        if cipher not in CIPHERS:
            raise EncryptionFailed(f"unknown cipher {cipher!r}; expected one of {sorted(CIPHERS)}")
        transform, bits = CIPHERS[cipher]
        template = xmlsec.template.encrypted_data_create(
            element, transform, type=xmlsec.constants.TypeEncElement, ns="xenc")
        xmlsec.template.encrypted_data_ensure_cipher_value(template)
        key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
        encrypted_key = xmlsec.template.add_encrypted_key(key_info,
                                                          xmlsec.constants.TransformRsaOaep)
        xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
        try:
            with self._lock:
                context = xmlsec.EncryptionContext(self._manager)
                context.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, bits,
                                                  xmlsec.constants.KeyDataTypeSession)
                encrypted: etree._Element = context.encrypt_xml(template, element)
        except xmlsec.Error as exc:
            raise EncryptionFailed(f"encryption failed: {exc}") from exc
        return encrypted
