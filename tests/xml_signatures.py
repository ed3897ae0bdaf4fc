"""Checking a signature of Loper's the way a peer would: xmlsec, one certificate, nothing else."""

from __future__ import annotations

import xmlsec
from lxml import etree

DS = {"ds": "http://www.w3.org/2000/09/xmldsig#"}


def verify_enveloped(root: etree._Element, cert_pem: bytes) -> etree._Element:
    """xmlsec verifies `root`'s enveloped signature, which must reference `root` by its ID, with
    the certificate `cert_pem` alone (raises xmlsec.Error if not); the signature element."""
    signature = root.find("ds:Signature", DS)
    assert signature is not None, "not signed"
    reference = signature.find("ds:SignedInfo/ds:Reference", DS)
    assert reference is not None and reference.get("URI") == "#" + root.get("ID", "?")
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(cert_pem, xmlsec.constants.KeyDataFormatCertPem)
    ctx.register_id(root, "ID")
    ctx.verify(signature)
    return signature
