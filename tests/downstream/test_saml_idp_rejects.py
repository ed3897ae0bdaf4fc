"""Everything Loper's SAML IdP must refuse on Loper's own page, each with the error class the
web layer renders: a request that cannot be trusted or is not sound. (What a trusted request
asks that Loper cannot give is answered to the SP: test_saml_idp_refusals.py.)"""

from __future__ import annotations

import base64
import zlib
from dataclasses import replace

import pytest
from lxml import etree  # type: ignore[import-untyped]
from saml2 import BINDING_HTTP_ARTIFACT
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from broker.downstream.saml_kind import SamlSupplier
from broker.downstream.saml_peer import PeerCache
from broker.errors import BadRequest, RequestRejected, UnknownSupplier
from broker.saml.encrypt import EncryptionFailed, Recipient
from broker.saml.redirect import SignatureRejected, verify_query
from tests.downstream.peers import SentRequest, encoded, forged, sent_as
from tests.downstream.saml_world import SamlWorld

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                  b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
                  b'&lol2;</samlp:AuthnRequest>')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SamlWorld:
    return SamlWorld(tmp_path_factory.mktemp("saml-idp-rejects"))


BINDINGS = pytest.mark.parametrize("binding", ["redirect", "post"])


@BINDINGS
@pytest.mark.parametrize("message", [
    "this is !! not base64 $$", base64.b64encode(b"\x00\x01garbage\xff").decode(),
    base64.b64encode(b"<samlp:AuthnRequest unclosed").decode(), "",
])
def test_undecodable_messages_are_bad_requests(world: SamlWorld, binding: str,
                                               message: str) -> None:
    with pytest.raises(BadRequest):
        world.parse(sent_as(binding, message))


@BINDINGS
def test_truncated_request_is_a_bad_request(world: SamlWorld, binding: str) -> None:
    sent = world.pysaml_sp("pytrunc").request(binding)
    half = sent.params["SAMLRequest"][: len(sent.params["SAMLRequest"]) // 8 * 4]
    with pytest.raises(BadRequest):
        world.parse(sent_as(binding, half))


@pytest.mark.parametrize(("binding", "match"), [("redirect", "size limit"), ("post", "not XML")])
def test_deflate_bomb_is_never_inflated_past_the_cap(world: SamlWorld, binding: str,
                                                     match: str) -> None:
    """50 MB of zeros, deflated: Redirect stops inflating at the cap; POST never inflates
    (pysaml2's own POST decoding would try to inflate first, without a cap)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = b"".join(packer.compress(b"\0" * (1 << 20)) for _ in range(50)) + packer.flush()
    with pytest.raises(BadRequest, match=match):
        world.parse(sent_as(binding, base64.b64encode(bomb).decode()))


@BINDINGS
def test_doctype_and_entities_are_refused(world: SamlWorld, binding: str) -> None:
    with pytest.raises(BadRequest, match="DOCTYPE"):
        world.parse(sent_as(binding, encoded(binding, BILLION_LAUGHS)))


def test_other_messages_bindings_and_missing_request(world: SamlWorld) -> None:
    logout = b'<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'
    with pytest.raises(BadRequest, match="not an AuthnRequest"):
        world.parse(sent_as("post", encoded("post", logout)))
    with pytest.raises(BadRequest, match="binding"):
        world.idp.parse_request("soap", {"SAMLRequest": "PHg+"}, "", world.find)
    with pytest.raises(BadRequest, match="no SAMLRequest"):
        world.idp.parse_request("redirect", {}, "", world.find)


@BINDINGS
def test_unknown_issuer(world: SamlWorld, binding: str) -> None:
    stranger = world.pysaml_sp("stranger", register=False)
    with pytest.raises(UnknownSupplier):
        world.parse(stranger.request(binding))


@pytest.mark.parametrize(("option", "match"), [
    ({"assertion_consumer_service_url": "https://evil.example/acs"}, "not in the learning app"),
    ({"assertion_consumer_service_index": "7"}, "not in the learning app"),
    ({"response_binding": BINDING_HTTP_ARTIFACT}, "ProtocolBinding"),
])
def test_acs_only_from_metadata_and_only_http_post(world: SamlWorld, option: dict[str, str],
                                                   match: str) -> None:
    sp = world.pysaml_sp("pyacs")
    with pytest.raises(RequestRejected, match=match):
        world.parse(sp.request("post", **option))


@BINDINGS
def test_required_signature_missing(world: SamlWorld, binding: str) -> None:
    world.pysaml_sp("pymust", sign_requests=True)
    unsigned_twin = world.pysaml_sp("pymust", register=False)
    with pytest.raises(RequestRejected, match="AuthnRequestsSigned") as refused:
        world.parse(unsigned_twin.request(binding))
    assert refused.value.supplier_name == "Pymust"


@BINDINGS
@pytest.mark.parametrize("signs_in_metadata", [True, False])
def test_wrong_signature_is_refused_even_when_not_required(
        world: SamlWorld, binding: str, signs_in_metadata: bool) -> None:
    name = f"pywrong{int(signs_in_metadata)}"
    world.pysaml_sp(name, sign_requests=signs_in_metadata)
    impostor = world.pysaml_sp(name, keys="impostor", register=False, sign_requests=True)
    with pytest.raises(RequestRejected, match="refused"):
        world.parse(impostor.request(binding))


def test_signed_query_cannot_be_altered(world: SamlWorld) -> None:
    sent = world.pysaml_sp("pyalter", sign_requests=True).request("redirect", "lesson-1")
    raw = sent.raw_query.replace("RelayState=lesson-1", "RelayState=lesson-2")
    altered = SentRequest("redirect", {**sent.params, "RelayState": "lesson-2"}, raw)
    with pytest.raises(RequestRejected, match="signature does not match"):
        world.parse(altered)
    with pytest.raises(RequestRejected, match="differs"):
        world.parse(replace(sent, params={**sent.params, "RelayState": "lesson-2"}))


@pytest.mark.parametrize(("binding", "sign_alg", "digest_alg", "match"), [
    ("redirect", SIG_RSA_SHA1, DIGEST_SHA256, "SHA-1"),
    ("post", SIG_RSA_SHA1, DIGEST_SHA1, "SHA-1"),
    ("post", SIG_RSA_SHA256, DIGEST_SHA1, "digest"),
])
def test_sha1_signatures_are_refused(world: SamlWorld, binding: str, sign_alg: str,
                                     digest_alg: str, match: str) -> None:
    sp = world.pysaml_sp("pysha1", sign_requests=True, sign_alg=sign_alg, digest_alg=digest_alg)
    with pytest.raises(RequestRejected, match=match):
        world.parse(sp.request(binding))


@BINDINGS
@pytest.mark.parametrize("relay_state", ["x" * 1025, "é" * 513])
def test_oversize_relay_state(world: SamlWorld, binding: str, relay_state: str) -> None:
    with pytest.raises(BadRequest, match="RelayState"):
        world.parse(world.pysaml_sp("pyrelay").request(binding, relay_state))


@pytest.mark.parametrize(("attribute", "value", "match"), [
    ("IssueInstant", "2020-01-01T00:00:00Z", "too long ago"),
    ("IssueInstant", "2999-01-01T00:00:00Z", "in the future"),
    ("Destination", "https://elsewhere.example/sso", "destined"),
    ("Version", "1.1", "not SAML 2.0"),
    ("ID", "1 is no NCName", "XML Schema"),
])
def test_stale_or_misdirected_requests(world: SamlWorld, attribute: str, value: str,
                                       match: str) -> None:
    with pytest.raises(RequestRejected, match=match):
        world.parse(forged(world.pysaml_sp("pystale").request("post"), attribute, value))


@pytest.mark.parametrize("metadata", ["<md:EntityDescriptor", "<x/>", "not xml at all"])
def test_unusable_supplier_metadata(world: SamlWorld, metadata: str) -> None:
    sp = world.pysaml_sp("pybadmd", register=False)
    world.register(sp.entity_id, metadata)
    with pytest.raises(RequestRejected, match="metadata"):
        world.parse(sp.request("post"))


def test_stored_request_must_be_whole_and_acs_still_registered(world: SamlWorld) -> None:
    sp = world.onelogin_sp("olstored")
    request = world.parse(sp.request("post"))
    with pytest.raises(BadRequest, match="incomplete"):
        world.idp.respond(request.supplier, {"id": "x"}, world.released(request))
    assert request.supplier.protocol == "saml"
    moved = request.supplier.config.metadata_xml.replace(sp.acs_url, "https://moved.example/acs")
    changed = replace(request.supplier, config=SamlSupplier(moved, sp.entity_id))
    with pytest.raises(RequestRejected, match="no longer"):
        world.idp.respond(changed, request.request, world.released(request))


def test_peer_cache_keys_on_metadata_and_stays_bounded(world: SamlWorld) -> None:
    first, second = world.pysaml_sp("pycache1"), world.pysaml_sp("pycache2")
    one, two = world.suppliers[first.entity_id], world.suppliers[second.entity_id]
    cache = PeerCache(world.config, size=1)
    peer = cache.get(one)
    assert cache.get(one) is peer
    assert one.protocol == "saml"
    edited = replace(one, config=SamlSupplier(one.config.metadata_xml + " ", first.entity_id))
    assert cache.get(edited) is not peer
    cache.get(two)
    assert cache.get(one) is not peer


def test_query_signature_edge_cases() -> None:
    sig = "SAMLRequest=a&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"
    with pytest.raises(SignatureRejected, match="twice"):
        verify_query("SAMLRequest=a&SAMLRequest=b", "SAMLRequest", [])
    with pytest.raises(SignatureRejected, match="lacks"):
        verify_query("SAMLRequest=a", "SAMLRequest", [])
    with pytest.raises(SignatureRejected, match="malformed"):
        verify_query(sig + "&Signature=%25%25", "SAMLRequest", [])
    with pytest.raises(SignatureRejected, match="unsupported"):
        verify_query("SAMLRequest=a&SigAlg=hmac&Signature=AA%3D%3D", "SAMLRequest", [])


def test_encryption_refuses_unknown_ciphers_and_bad_certificates(world: SamlWorld) -> None:
    with pytest.raises(EncryptionFailed, match="unusable"):
        Recipient("bm90IGEgY2VydGlmaWNhdGU=")
    cert = "".join(line for line in world.config.signing.cert.read_text().splitlines()
                   if "-----" not in line)
    with pytest.raises(EncryptionFailed, match="unknown cipher"):
        Recipient(cert).encrypt(etree.fromstring(b"<a/>"), "des3-cbc")
