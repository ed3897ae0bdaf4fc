"""EncryptedAssertion decryption in-process: pysaml2's own 3DES output, AES-GCM, key transport
and EncryptedKey placement; refusal of RSA-1.5 and of keys that do not fit."""

from __future__ import annotations

import pytest
import xmlsec
from lxml import etree
from saml2.sigver import CryptoBackendXmlSec1, DecryptError

from broker.saml.crypto import InProcessCrypto
from broker.saml.crypto_policy import XENC, XENC11
from tests.saml import tamper
from tests.saml.conftest import Keys, MakePair
from tests.saml.pair import IDENTITY, XMLSEC1, authn_request, parse, signed_response
from tests.saml.test_crypto import c14n, summary
from tests.saml.test_crypto_tamper import ACCEPTED, world

SESSION_KEYS = {
    xmlsec.constants.TransformAes128Gcm: (xmlsec.constants.KeyDataAes, 128),
    xmlsec.constants.TransformAes256Gcm: (xmlsec.constants.KeyDataAes, 256),
    xmlsec.constants.TransformAes256Cbc: (xmlsec.constants.KeyDataAes, 256),
    xmlsec.constants.TransformDes3Cbc: (xmlsec.constants.KeyDataDes, 192),
}
ENCRYPTED = {"encrypt_assertion": True, "encrypt_assertion_self_contained": True}


def encrypt_assertion(xml: str, cert: str, cipher: object = xmlsec.constants.TransformAes256Gcm,
                      transport: object = xmlsec.constants.TransformRsaOaep,
                      sibling_key: bool = False) -> str:
    """The Response's Assertion as saml:EncryptedAssertion, as another IdP would send it."""
    root = etree.fromstring(xml.encode())
    assertion = tamper.assertion(root)
    # Self-contained, as other IdPs send it: the namespaces it uses declared on the Assertion.
    plaintext = etree.tostring(assertion)
    template = xmlsec.template.encrypted_data_create(
        root, cipher, type=xmlsec.EncryptionType.ELEMENT, ns="xenc")
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, transport)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_file(cert, xmlsec.constants.KeyDataFormatCertPem))
    ctx = xmlsec.EncryptionContext(manager)
    kind, size = SESSION_KEYS[cipher]
    ctx.key = xmlsec.Key.generate(kind, size, xmlsec.constants.KeyDataTypeSession)
    encrypted = ctx.encrypt_binary(template, plaintext)
    wrapper = etree.Element(f"{{{tamper.SAML}}}EncryptedAssertion")
    assertion.addprevious(wrapper)
    root.remove(assertion)
    wrapper.append(encrypted)
    if sibling_key:
        _move_key_to_sibling(wrapper, encrypted)
    return str(etree.tostring(root, encoding="unicode"))


def _move_key_to_sibling(wrapper: etree._Element, encrypted: etree._Element) -> None:
    """EncryptedKey beside the EncryptedData, found through a ds:RetrievalMethod."""
    # lxml's find() misses nodes that xmlsec's template functions created: compare tags.
    key_info = next(child for child in encrypted if child.tag == f"{{{tamper.DS}}}KeyInfo")
    encrypted_key = next(child for child in key_info if child.tag == f"{{{XENC}}}EncryptedKey")
    encrypted_key.set("Id", "EK-1")
    wrapper.append(encrypted_key)
    etree.SubElement(key_info, f"{{{tamper.DS}}}RetrievalMethod",
                     URI="#EK-1", Type=f"{XENC}EncryptedKey")


def test_pysaml2_encrypted_assertion_same_as_xmlsec1(make: MakePair) -> None:
    """pysaml2's own output (3DES-CBC, RSA-OAEP), signed assertion inside, signed response."""
    pair, reference = make(), make(sp_backend="xmlsec1")
    request_id = authn_request(pair)
    xml = signed_response(pair, request_id, **ENCRYPTED)
    assert "EncryptedAssertion" in xml and "tripledes-cbc" in xml
    assert summary(parse(pair, xml, request_id)) == summary(parse(reference, xml, request_id))


def test_decrypt_output_same_as_xmlsec1(make: MakePair, keys: Keys) -> None:
    pair = make()
    xml = signed_response(pair, authn_request(pair), **ENCRYPTED)
    key = str(keys.sp_encryption.key)
    mine = InProcessCrypto().decrypt(xml, key)
    theirs = CryptoBackendXmlSec1(XMLSEC1).decrypt(xml, key)
    assert mine.startswith('<?xml version="1.0"?>\n') and "EncryptedData" not in mine
    assert c14n(mine) == c14n(theirs)


@pytest.mark.parametrize(("cipher", "sibling_key"), [
    (xmlsec.constants.TransformAes256Gcm, False),
    (xmlsec.constants.TransformAes128Gcm, True),
    (xmlsec.constants.TransformAes256Cbc, False),
    (xmlsec.constants.TransformDes3Cbc, True),
], ids=["aes256-gcm", "aes128-gcm-sibling-key", "aes256-cbc", "3des-sibling-key"])
def test_other_idps_encryption_accepted(make: MakePair, keys: Keys, cipher: object,
                                        sibling_key: bool) -> None:
    both = world(make, sp={"want_response_signed": False})
    xml = encrypt_assertion(both.response(sign_response=False), str(keys.sp_encryption.cert),
                            cipher, sibling_key=sibling_key)
    assert both.verdicts(xml) == (ACCEPTED, ACCEPTED)


def test_xmlenc11_rsa_oaep_accepted(make: MakePair, keys: Keys) -> None:
    """xmlenc11#rsa-oaep with its default SHA-1/MGF1-SHA-1 is the same bytes as rsa-oaep-mgf1p."""
    both = world(make, sp={"want_response_signed": False})
    xml = encrypt_assertion(both.response(sign_response=False), str(keys.sp_encryption.cert))
    xml = xml.replace(f'"{XENC}rsa-oaep-mgf1p"', f'"{XENC11}rsa-oaep"')
    assert f"{XENC11}rsa-oaep" in xml
    # Debian's xmlsec1 1.2.37 does not know xmlenc11#rsa-oaep; pysaml2 then drops the assertion.
    assert both.verdicts(xml) == (ACCEPTED, "no assertion")


def test_rsa_1_5_key_transport_refused(make: MakePair, keys: Keys) -> None:
    """PKCS#1 v1.5 key transport is a padding oracle: refused (xmlsec1 would accept it)."""
    both = world(make, sp={"want_response_signed": False})
    xml = encrypt_assertion(both.response(sign_response=False), str(keys.sp_encryption.cert),
                            transport=xmlsec.constants.TransformRsaPkcs1)
    with pytest.raises(DecryptError, match="key transport not allowed"):
        InProcessCrypto().decrypt(xml, str(keys.sp_encryption.key))
    # pysaml2 does not raise when no key decrypts an assertion: it drops it (either backend).
    assert both.verdicts(xml) == ("no assertion", ACCEPTED)


def test_wrong_key_then_right_key(make: MakePair, keys: Keys) -> None:
    """SecurityContext.decrypt tries each key and needs DecryptError (an XmlsecError) from a
    key that does not fit: the SP's signing key fails, its encryption key then works."""
    pair = make()
    xml = signed_response(pair, authn_request(pair), **ENCRYPTED)
    with pytest.raises(DecryptError):
        InProcessCrypto().decrypt(xml, str(keys.sp.key))
    decrypted = pair.sp.sec.decrypt_keys(xml, keys=[keys.sp.key.read_text()])
    assert IDENTITY["mail"][0] in decrypted


def test_nothing_to_decrypt(keys: Keys) -> None:
    with pytest.raises(DecryptError, match="no EncryptedData"):
        InProcessCrypto().decrypt("<a/>", str(keys.sp_encryption.key))
