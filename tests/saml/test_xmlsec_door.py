"""What broker/saml/xmlsec_door.py types for the stubs: that xmlsec and lxml really behave so."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlsec
from lxml import etree

from broker.saml import xmlsec_door
from broker.saml.encrypt import Recipient
from tests.saml.conftest import Keys


def test_transforms_by_href_are_xmlsecs_constants() -> None:
    constants = xmlsec.constants
    for transform in (constants.TransformEnveloped, constants.TransformExclC14N,
                      constants.TransformRsaSha256, constants.TransformSha256,
                      constants.TransformAes256Gcm):
        assert xmlsec_door.TRANSFORM_BY_HREF[transform.href] is transform
    assert all(href == transform.href for href, transform in xmlsec_door.TRANSFORM_BY_HREF.items())


def test_libxmlsec_version() -> None:
    version = xmlsec_door.libxmlsec_version()
    assert version >= (1, 2) and all(isinstance(part, int) for part in version)


def test_decrypt_gives_bytes_for_a_key_and_the_element_for_xml(keys: Keys) -> None:
    root = etree.fromstring(b'<r xmlns="urn:t"><secret>42</secret></r>')
    encrypted = Recipient(keys.sp_encryption.cert_b64()).encrypt(root[0])
    encrypted_key = next(encrypted.iter("{http://www.w3.org/2001/04/xmlenc#}EncryptedKey"))
    context = xmlsec.EncryptionContext()
    context.key = xmlsec.Key.from_file(str(keys.sp_encryption.key),
                                       xmlsec.constants.KeyDataFormatPem)
    session_key = xmlsec_door.decrypt(context, encrypted_key)
    assert isinstance(session_key, bytes) and len(session_key) == 32
    context = xmlsec.EncryptionContext()
    context.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, session_key)
    secret = xmlsec_door.decrypt(context, encrypted)
    assert isinstance(secret, etree._Element) and secret.text == "42"
    assert secret.getparent() is root


@pytest.mark.parametrize(("xml", "expected"), [
    (b"<r/>", ""),
    (b'<!DOCTYPE r SYSTEM "r.dtd"><r/>', '<!DOCTYPE r SYSTEM "r.dtd">'),
])
def test_doctype(xml: bytes, expected: str) -> None:
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    assert xmlsec_door.doctype(etree.fromstring(xml, parser).getroottree().docinfo) == expected


class _OneFile(xmlsec_door.FileResolver):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def locate(self, url: str) -> Path:
        if url != "urn:the-one":
            raise LookupError(url)
        return self.path


def test_file_resolver_reads_the_located_file_and_refuses_by_raising(tmp_path: Path) -> None:
    included = tmp_path / "included.xml"
    included.write_bytes(b"<included/>")
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_OneFile(included))
    xinclude = "http://www.w3.org/2001/XInclude"
    document = etree.fromstring(
        f'<r xmlns:xi="{xinclude}"><xi:include href="urn:the-one"/></r>'.encode(), parser)
    document.getroottree().xinclude()
    assert document[0].tag == "included"
    refused = etree.fromstring(
        f'<r xmlns:xi="{xinclude}"><xi:include href="urn:another"/></r>'.encode(), parser)
    with pytest.raises((LookupError, etree.XIncludeError)):
        refused.getroottree().xinclude()
