"""broker.saml.crypto_keys.certificate_key: a metadata certificate's public key, for pinning."""

from __future__ import annotations

import base64

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from broker.saml.crypto_keys import certificate_key
from broker.saml.crypto_policy import Policy, Rejected
from broker.saml.verify import signature_context, verify_enveloped
from tests.certs import PrivateKey, cert_b64, new_key, self_signed


def signed_by(key: PrivateKey) -> etree._Element:
    root = etree.fromstring(b'<r xmlns="urn:t" ID="x1"><v>signed</v></r>')
    template = xmlsec.template.create(root, xmlsec.constants.TransformExclC14N,
                                      xmlsec.constants.TransformRsaSha256)
    root.append(template)
    ref = xmlsec.template.add_reference(template, xmlsec.constants.TransformSha256, uri="#x1")
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    ctx = signature_context(xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatPem),
                            Policy())
    ctx.register_id(root, "ID")
    ctx.sign(template)
    return etree.fromstring(etree.tostring(root))  # as it arrives: parsed from bytes


def test_a_certificate_pins_its_own_key_and_no_other() -> None:
    school, stranger = new_key(), new_key()
    pinned = certificate_key(cert_b64(self_signed(school, "school")))
    verify_enveloped(signed_by(school), [pinned], Policy())
    with pytest.raises(Rejected):
        verify_enveloped(signed_by(stranger), [pinned], Policy())


@pytest.mark.parametrize("value", [
    "not base64!", base64.b64encode(b"not a certificate").decode(), ""])
def test_what_is_not_a_certificate_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="unusable certificate"):
        certificate_key(value)
