"""The lxml views of SAML messages (broker/saml/response_tree.py) and in-place decryption
(broker/saml/verify.py), below the adapters that use them."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from broker.keys import ensure_saml_keypair, saml_signing
from broker.saml.crypto_keys import KEYS
from broker.saml.encrypt import Recipient
from broker.saml.response_tree import SAML, Assertion, text_of
from broker.saml.verify import Rejected, decrypt_in_place
from broker.saml.xmlparse import parse

NAME_ID = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@pytest.mark.parametrize(("xml", "text"), [
    ("<v>pupil-4711.evil</v>", "pupil-4711.evil"),
    ("<v>pupil-4711<!---->.evil</v>", "pupil-4711.evil"),
    ("<v>pupil-4711<?pi x?>.evil</v>", "pupil-4711.evil"),
    ("<v>pupil-<![CDATA[4711]]>.evil</v>", "pupil-4711.evil"),
    ("<v>a<b>not mine</b>c</v>", "ac"),
    ("<v/>", ""),
])
def test_text_is_all_of_the_elements_own_character_data(xml: str, text: str) -> None:
    assert text_of(parse(xml)) == text


def _pem_body(path: Path) -> str:
    return "".join(line for line in path.read_text().splitlines() if "-----" not in line)


def _assertion_with_encrypted_id(tmp_path: Path, value: str) -> Assertion:
    tmp_path.mkdir(exist_ok=True)
    ensure_saml_keypair(tmp_path, "sp")
    root = parse(f'<saml:Assertion xmlns:saml="{SAML}"><saml:Subject><saml:EncryptedID>'
                 f'<saml:NameID Format="{NAME_ID}">{value}</saml:NameID>'
                 "</saml:EncryptedID></saml:Subject></saml:Assertion>")
    name_id = root.find(f".//{{{SAML}}}NameID")
    assert name_id is not None
    Recipient(_pem_body(saml_signing(tmp_path).cert)).encrypt(name_id)
    sent = etree.tostring(root)  # as a school sends it: read by the parser, as it arrives
    assert value.encode() not in sent
    return Assertion(parse(sent))


def test_an_encrypted_id_is_decrypted_in_place(tmp_path: Path) -> None:
    assertion = _assertion_with_encrypted_id(tmp_path, "pupil-4711")
    subject = assertion.subject
    assert subject is not None and subject.name_id is None and subject.encrypted_id is not None
    private = KEYS.private_key(str(saml_signing(tmp_path).key))
    decrypted = decrypt_in_place(subject.encrypted_id, [private])
    assert decrypted.tag == f"{{{SAML}}}NameID"
    name_id = subject.name_id
    assert name_id is not None and (name_id.text, name_id.format) == ("pupil-4711", NAME_ID)


def test_another_key_does_not_decrypt(tmp_path: Path) -> None:
    assertion = _assertion_with_encrypted_id(tmp_path / "a", "pupil-4711")
    (tmp_path / "b").mkdir()
    ensure_saml_keypair(tmp_path / "b", "other")
    other = KEYS.private_key(str(saml_signing(tmp_path / "b").key))
    subject = assertion.subject
    assert subject is not None and subject.encrypted_id is not None
    with pytest.raises(Rejected):
        decrypt_in_place(subject.encrypted_id, [other])
    assert subject.name_id is None
