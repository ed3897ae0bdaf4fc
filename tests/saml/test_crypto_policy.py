"""The backend's own checks, called directly as SecurityContext calls them (validate_signature
with a metadata certificate file, a node name and a node id), next to pysaml2's xmlsec1 backend.
pysaml2 runs its own checks before either backend; these show what the backend adds."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from saml2.sigver import CryptoBackendXmlSec1, SignatureError

from broker.saml.crypto import InProcessCrypto
from broker.saml.crypto_policy import EXC_C14N
from tests.saml import tamper
from tests.saml.conftest import Keys, MakePair
from tests.saml.pair import XMLSEC1, authn_request, make_keys, signed_response

ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
MORE = "http://www.w3.org/2001/04/xmldsig-more#"
REFERENCE = "ds:SignedInfo/ds:Reference"


@pytest.fixture
def signed(make: MakePair) -> str:
    """A Response whose Assertion (only) is signed by the IdP."""
    pair = make()
    return signed_response(pair, authn_request(pair), sign_response=False)


def check(backend: str, xml: str, cert: Path, node_id: str, node_name: str = ASSERTION) -> str:
    crypto = InProcessCrypto() if backend == "inprocess" else CryptoBackendXmlSec1(XMLSEC1)
    try:
        assert crypto.validate_signature(xml, str(cert), "pem", node_name, node_id) is True
    except SignatureError as exc:
        return str(exc)
    return "valid"


def test_untouched_is_valid_for_both(signed: str, keys: Keys) -> None:
    _response_id, assertion_id = tamper.ids(signed)
    for backend in ("inprocess", "xmlsec1"):
        assert check(backend, signed, keys.idp.cert, assertion_id) == "valid"


def test_wrapping_caught_by_the_backend_itself(signed: str, keys: Keys) -> None:
    """xmlsec1 follows the evil assertion's Reference to the original and says valid: only
    pysaml2's own checks stop this there. The in-process backend refuses it by itself."""
    xml = tamper.edit(signed, tamper.wrap_with_foreign_reference)
    assert check("xmlsec1", xml, keys.idp.cert, "id-evil") == "valid"
    assert "is not '#id-evil'" in check("inprocess", xml, keys.idp.cert, "id-evil")
    in_object = tamper.edit(signed, tamper.wrap_in_object)
    assert "ds:Object" in check("inprocess", in_object, keys.idp.cert, "id-evil")


@pytest.mark.parametrize(("change", "reason"), [
    (tamper.wrap_in_extensions, "must occur exactly once"),
    (tamper.add_reference, "exactly one ds:Reference"),
    (tamper.hmac_resign(b"public certificate bytes"), "algorithm not allowed"),
    (tamper.set_algorithm("ds:SignedInfo/ds:SignatureMethod", MORE + "rsa-md5"), "not allowed"),
    (tamper.set_algorithm(f"{REFERENCE}/ds:DigestMethod", MORE + "md5"), "not allowed"),
    (tamper.set_algorithm("ds:SignedInfo/ds:CanonicalizationMethod", EXC_C14N + "WithComments"),
     "not allowed"),
    (tamper.set_algorithm(f"{REFERENCE}/ds:Transforms/ds:Transform[2]",
                          EXC_C14N + "WithComments"), "transform not allowed"),
    (tamper.set_algorithm(f"{REFERENCE}/ds:Transforms/ds:Transform[2]",
                          "http://www.w3.org/TR/1999/REC-xslt-19991116"), "transform not allowed"),
    (tamper.set_algorithm(f"{REFERENCE}/ds:Transforms/ds:Transform[1]", EXC_C14N),
     "enveloped-signature"),
], ids=["duplicate-id", "two-references", "hmac", "rsa-md5", "md5", "c14n-comments",
        "transform-comments", "xslt", "no-enveloped"])
def test_rejected_by_policy(signed: str, keys: Keys, change: tamper.Edit, reason: str) -> None:
    _response_id, assertion_id = tamper.ids(signed)
    assert reason in check("inprocess", tamper.edit(signed, change), keys.idp.cert, assertion_id)


def test_signature_must_belong_to_the_element(signed: str, keys: Keys) -> None:
    response_id, assertion_id = tamper.ids(signed)
    moved = tamper.edit(signed, tamper.move_signature_to_response)
    assert "is not '#" in check("inprocess", moved, keys.idp.cert, response_id, RESPONSE)
    assert "expected one Signature" in check("inprocess", moved, keys.idp.cert, assertion_id)
    assert "does not belong" in check("inprocess", signed, keys.idp.cert, assertion_id, RESPONSE)


def test_dtd_refused(signed: str, keys: Keys) -> None:
    _response_id, assertion_id = tamper.ids(signed)
    xml = '<!DOCTYPE r [<!ENTITY e "x">]>' + signed.split("\n", 1)[1]
    assert "DTD" in check("inprocess", xml, keys.idp.cert, assertion_id)


def test_ecdsa_sign_and_verify(signed: str, tmp_path: Path) -> None:
    """ECDSA-SHA256 (not offered by pysaml2's own signing) signs and verifies, as in xmlsec1."""
    ec_keys = make_keys(tmp_path, "ec-idp", ec.SECP256R1())
    _response_id, assertion_id = tamper.ids(signed)
    template = tamper.edit(signed, tamper.set_algorithm("ds:SignedInfo/ds:SignatureMethod",
                                                        MORE + "ecdsa-sha256"))
    xml = InProcessCrypto().sign_statement(template, ASSERTION, str(ec_keys.key), assertion_id)
    assert check("inprocess", xml, ec_keys.cert, assertion_id) == "valid"
    assert check("xmlsec1", xml, ec_keys.cert, assertion_id) == "valid"
