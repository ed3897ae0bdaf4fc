"""Tampered, wrapped, mis-keyed and weak signatures: the in-process SP rejects them (as the
xmlsec1 one does, or where it would not, on its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from saml2.sigver import SignatureError
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA512, SIG_RSA_SHA1, SIG_RSA_SHA512

from broker.saml.frames import release_frames
from tests.saml import tamper
from tests.saml.conftest import Keys, MakePair
from tests.saml.pair import IDENTITY, Pair, authn_request, parse, signed_response

ASSERTION_SIGNED_ONLY = {"sp": {"want_response_signed": False}}
LEGACY = {"signing_algorithm": SIG_RSA_SHA1, "digest_algorithm": DIGEST_SHA1}
ACCEPTED = "accepted pupil1-pseudonym pupil1"


def outcome(pair: Pair, xml: str, request_id: str) -> str:
    """'accepted <NameID> <uid>', 'no assertion' or the name of the exception raised."""
    try:
        response = parse(pair, xml, request_id)
    except Exception as exc:  # noqa: BLE001 - the exception type is the outcome
        release_frames(exc)
        return type(exc).__name__
    if response.assertion is None:  # pysaml2 skips an assertion it cannot decrypt
        return "no assertion"
    return f"accepted {response.name_id.text} {response.ava['uid'][0]}"


@dataclass
class World:
    inprocess: Pair
    xmlsec1: Pair
    request_id: str

    def response(self, **kwargs: Any) -> str:
        return signed_response(self.inprocess, self.request_id, **kwargs)

    def verdicts(self, xml: str) -> tuple[str, str]:
        return (outcome(self.inprocess, xml, self.request_id),
                outcome(self.xmlsec1, xml, self.request_id))


def world(make: MakePair, **options: Any) -> World:
    """An in-process IdP; two SPs with the same metadata, one in-process, one on xmlsec1."""
    inprocess = make(**options)
    reference = make(sp_backend="xmlsec1", **options)
    return World(inprocess, reference, authn_request(inprocess))


def test_untouched_response_accepted_by_both(make: MakePair) -> None:
    both = world(make, **ASSERTION_SIGNED_ONLY)
    assert both.verdicts(both.response(sign_response=False)) == (ACCEPTED, ACCEPTED)
    assert both.verdicts(both.response()) == (ACCEPTED, ACCEPTED)


@pytest.mark.parametrize("change", [
    tamper.change_attribute,
    tamper.change_name_id,
    tamper.move_signature_to_response,
    tamper.wrap_in_extensions,
    tamper.wrap_unsigned_in_extensions,
    tamper.wrap_in_object,
    tamper.wrap_with_foreign_reference,
], ids=lambda change: change.__name__)
def test_tampered_assertion_rejected_like_xmlsec1(make: MakePair, change: tamper.Edit) -> None:
    both = world(make, **ASSERTION_SIGNED_ONLY)
    xml = tamper.edit(both.response(sign_response=False), change)
    assert both.verdicts(xml) == ("SignatureError", "SignatureError")


@pytest.mark.parametrize("change", [tamper.change_attribute, tamper.change_name_id,
                                    tamper.wrap_in_extensions],
                         ids=lambda change: change.__name__)
def test_tampered_signed_response_rejected_like_xmlsec1(make: MakePair,
                                                        change: tamper.Edit) -> None:
    both = world(make)
    assert both.verdicts(tamper.edit(both.response(), change)) == ("SignatureError",) * 2


@pytest.mark.parametrize("strip", [False, True], ids=["rogue-cert-in-keyinfo", "no-keyinfo"])
def test_key_not_in_metadata_rejected(make: MakePair, keys: Keys, strip: bool) -> None:
    """A rogue IdP signs with its own key; pysaml2 puts its own certificate in KeyInfo."""
    both = world(make, idp_signs_with=keys.rogue)
    xml = both.response()
    assert keys.rogue.cert_b64() in xml
    xml = tamper.edit(xml, tamper.drop_key_info) if strip else xml
    assert both.verdicts(xml) == ("SignatureError", "SignatureError")


def test_certificate_in_keyinfo_is_ignored(make: MakePair, keys: Keys) -> None:
    """A genuine signature still verifies with a rogue certificate in KeyInfo: the key comes
    from metadata only, so KeyInfo can neither help nor hurt."""
    both = world(make, **ASSERTION_SIGNED_ONLY)  # a response signature would cover the
    # assertion's KeyInfo (enveloped signatures exclude only their own Signature element)
    xml = tamper.edit(both.response(sign_response=False), tamper.replace_key_info(keys.rogue))
    assert keys.rogue.cert_b64() in xml
    assert both.verdicts(xml) == (ACCEPTED, ACCEPTED)


def test_hmac_signature_rejected(make: MakePair, keys: Keys) -> None:
    both = world(make, **ASSERTION_SIGNED_ONLY)
    resign = tamper.hmac_resign(keys.idp.cert.read_bytes())
    xml = tamper.edit(both.response(sign_response=False), resign)
    assert both.verdicts(xml) == ("SignatureError", "SignatureError")


def test_sha1_rejected_unless_allowed(make: MakePair) -> None:
    legacy_idp = make(idp_backend="xmlsec1", idp=LEGACY)  # pysaml2's backend signs SHA-1
    request_id = authn_request(legacy_idp)
    xml = signed_response(legacy_idp, request_id)
    assert "xmldsig#rsa-sha1" in xml and "xmldsig#sha1" in xml
    assert outcome(legacy_idp, xml, request_id) == "SignatureError"
    tolerant = make(sp_backend="inprocess", idp_backend="xmlsec1", allow_sha1=True)
    assert outcome(tolerant, xml, request_id) == ACCEPTED
    assert outcome(make(sp_backend="xmlsec1"), xml, request_id) == ACCEPTED


def test_in_process_idp_signs_sha1_only_when_allowed(make: MakePair) -> None:
    strict = make(idp=LEGACY)
    with pytest.raises(SignatureError, match="not allowed"):
        signed_response(strict, authn_request(strict))
    legacy = make(idp=LEGACY, allow_sha1=True)
    request_id = authn_request(legacy)
    xml = signed_response(legacy, request_id)
    assert "xmldsig#rsa-sha1" in xml
    assert outcome(legacy, xml, request_id) == ACCEPTED


def test_rsa_sha512(make: MakePair) -> None:
    both = world(make, idp={"signing_algorithm": SIG_RSA_SHA512,
                            "digest_algorithm": DIGEST_SHA512})
    xml = both.response()
    assert "rsa-sha512" in xml and "xmlenc#sha512" in xml
    assert both.verdicts(xml) == (ACCEPTED, ACCEPTED)
    assert parse(both.inprocess, xml, both.request_id).ava == IDENTITY
