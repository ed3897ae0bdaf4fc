"""broker.saml.crypto: pysaml2 signs, verifies and decrypts in-process, as xmlsec1 would."""

from __future__ import annotations

import os
import subprocess
from typing import Any, NoReturn

import pytest
import saml2.sigver
from lxml import etree
from saml2.sigver import CryptoBackendXmlSec1, SecurityContext

from broker.saml.crypto import InProcessCrypto, attach
from broker.saml.crypto_keys import KEYS
from tests.saml import tamper
from tests.saml.conftest import MakePair
from tests.saml.pair import (
    IDENTITY,
    XMLSEC1,
    Pair,
    authn_request,
    parse,
    signed_response,
)

DS = "http://www.w3.org/2000/09/xmldsig#"


def summary(response: Any) -> dict[str, Any]:
    """What an SP takes from a parsed response, comparable across two SP objects."""
    info = dict(response.session_info())
    info["name_id"] = str(info["name_id"])
    return {**info, "assertion_id": response.assertion.id, "response_id": response.response.id}


def c14n(xml: str | bytes) -> bytes:
    raw = xml.encode() if isinstance(xml, str) else xml
    canonical: bytes = etree.tostring(etree.fromstring(raw), method="c14n", exclusive=True)
    return canonical


def test_round_trip_in_process(make: MakePair) -> None:
    pair = make()
    request_id = authn_request(pair)
    xml = signed_response(pair, request_id)
    response = parse(pair, xml, request_id)
    assert response.ava == IDENTITY
    assert response.name_id.text == "pupil1-pseudonym"
    assert response.in_response_to == request_id
    root = etree.fromstring(xml.encode())
    for signed in (root, tamper.assertion(root)):  # enveloped, right after the Issuer
        assert [child.tag for child in signed[:2]] == [f"{{{tamper.SAML}}}Issuer",
                                                       f"{{{DS}}}Signature"]
    assert len(root.findall(f".//{{{DS}}}Signature")) == 2


def test_parse_results_identical_to_xmlsec1(make: MakePair) -> None:
    pair, reference = make(), make(sp_backend="xmlsec1")
    request_id = authn_request(pair)
    xml = signed_response(pair, request_id)
    assert summary(parse(pair, xml, request_id)) == summary(parse(reference, xml, request_id))


def test_signatures_identical_to_xmlsec1(make: MakePair, monkeypatch: pytest.MonkeyPatch) -> None:
    """RSA PKCS#1 v1.5 is deterministic: both backends must produce the same signed XML."""
    pair = make()
    calls: list[tuple[Any, ...]] = []
    crypto = pair.idp.sec.crypto
    real = crypto.sign_statement

    def spy(*args: Any) -> str:
        calls.append(args)
        return str(real(*args))

    monkeypatch.setattr(crypto, "sign_statement", spy)
    signed_response(pair, authn_request(pair))
    assert [call[1].rsplit(":", 1)[1] for call in calls] == ["Assertion", "Response"]
    xmlsec1 = CryptoBackendXmlSec1(XMLSEC1)
    for call in calls:
        mine, theirs = InProcessCrypto().sign_statement(*call), xmlsec1.sign_statement(*call)
        assert mine.startswith('<?xml version="1.0"?>\n<')  # the prefix depends on pysaml2
        assert c14n(mine) == c14n(theirs)                      # state left by earlier tests


@pytest.mark.parametrize(("idp_backend", "sp_backend"),
                         [("xmlsec1", "inprocess"), ("inprocess", "xmlsec1")])
def test_interoperates_with_xmlsec1(make: MakePair, idp_backend: str, sp_backend: str) -> None:
    """Signed AuthnRequest SP -> IdP and signed Response IdP -> SP, each side on a backend."""
    pair = make(idp_backend=idp_backend, sp_backend=sp_backend)
    request_id = authn_request(pair)
    for signs, wants in (("sign_response", "want_response_signed"),
                         ("sign_assertion", "want_assertions_signed"), ("", "")):
        setattr(pair.sp, wants or "want_response_signed", not wants)
        xml = signed_response(pair, request_id, **({signs: False} if signs else {}))
        assert parse(pair, xml, request_id).ava == IDENTITY
        setattr(pair.sp, wants or "want_response_signed", True)


def _forbid_subprocesses(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError(f"subprocess spawned: {args[:1]}")

    monkeypatch.setattr(subprocess, "Popen", boom)
    monkeypatch.setattr(saml2.sigver, "Popen", boom)  # sigver imported the name itself
    for name in ("fork", "posix_spawn", "posix_spawnp", "system", "execv", "execve"):
        monkeypatch.setattr(os, name, boom)


def test_no_subprocess_during_sign_verify_decrypt(make: MakePair,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pair = make()
    first = authn_request(pair)
    # Encryption is not in-process (it goes to the replaced backend): make this one first.
    encrypted = signed_response(pair, first, encrypt_assertion=True,
                                encrypt_assertion_self_contained=True)
    _forbid_subprocesses(monkeypatch)
    request_id = authn_request(pair)  # signed by the SP, checked by the IdP
    assert parse(pair, signed_response(pair, request_id), request_id).ava == IDENTITY
    assert parse(pair, encrypted, first).ava == IDENTITY  # decrypted, then checked
    # The trap works: the same flow on pysaml2's default backend does spawn xmlsec1.
    with pytest.raises(AssertionError, match="subprocess spawned"):
        parse(make(sp_backend="xmlsec1"), signed_response(pair, request_id), request_id)


def test_keys_are_parsed_once(make: MakePair) -> None:
    pair = make()
    request_id = authn_request(pair)
    parse(pair, signed_response(pair, request_id), request_id)
    parsed, reads = KEYS.parsed, KEYS.reads
    xml = signed_response(pair, request_id)
    assert (KEYS.parsed, KEYS.reads) == (parsed, reads), "the signing key file was read again"
    for _ in range(3):
        parse(pair, xml, request_id)
    # pysaml2 writes each metadata certificate to a new temporary file before every check:
    # the file is read (a kilobyte) but the certificate is not parsed again.
    assert KEYS.parsed == parsed


def _is_in_process(pair: Pair) -> bool:
    return isinstance(pair.sp.sec.crypto, InProcessCrypto)


def test_attach(make: MakePair) -> None:
    pair = make(sp_backend="xmlsec1")
    original = pair.sp.sec.crypto
    pair.sp.sec.only_use_keys_in_metadata = False
    attach(pair.sp.sec)  # a SecurityContext itself is accepted too
    assert _is_in_process(pair) and pair.sp.sec.only_use_keys_in_metadata
    attach(pair.sp, allow_sha1=True)
    crypto = pair.sp.sec.crypto
    assert crypto.fallback is original and crypto.policy.allow_sha1
    assert tuple(int(part) for part in crypto.version.split(".")) >= (1, 3)
    assert isinstance(pair.sp.sec, SecurityContext)
    with pytest.raises(TypeError):
        attach(object())
