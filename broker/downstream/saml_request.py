"""A supplier's AuthnRequest, decoded, verified and validated (SAML core 3.4.1, bindings 3.4/3.5).

The message is decoded by broker.saml.decode (size caps, no DTD) before any XML library sees
it; the signature, if any, is verified against the issuer's own metadata; what it asks of the
answer is read by saml_asks once its ACS is known (a refusal of that goes back to the SP as a
SAML error Response; any other refusal is Loper's page); everything the answer needs later is
kept in a small StoredRequest.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from broker import acr, codec
from broker.downstream import DownstreamRequest, named_school
from broker.downstream import saml_asks as asks
from broker.downstream.saml_asks import Reply
from broker.downstream.saml_config import SamlIdpConfig
from broker.downstream.saml_kind import saml_of
from broker.downstream.saml_peer import Acs, PeerCache, SpPeer
from broker.errors import BadRequest, BrokerError, RequestRejected, UnknownSupplier
from broker.records import Supplier
from broker.saml.compat import BINDING_HTTP_POST
from broker.saml.crypto_policy import Policy
from broker.saml.decode import decode_post, decode_redirect, parse_message
from broker.saml.redirect import SignatureRejected, hash_for, verify_query
from broker.saml.request_tree import AUTHN_REQUEST, AuthnRequest
from broker.saml.schema import Invalid, assert_valid
from broker.saml.verify import Rejected, verify_enveloped
from broker.saml.xmlparse import Element

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
DIGESTS = ("http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2001/04/xmldsig-more#sha384",
           "http://www.w3.org/2001/04/xmlenc#sha512")
MAX_ID = 256
MAX_HINT = 256


@dataclass(frozen=True)
class StoredRequest:
    """What the answer needs: kept (encoded by broker.codec) in the pending login until
    respond()."""

    id: str
    acs: str
    binding: str
    name_id_format: str
    relay_state: str | None = None

    @property
    def reply(self) -> Reply:
        return Reply(self.id, self.acs, self.relay_state)

    @classmethod
    def read(cls, data: bytes) -> StoredRequest:
        stored = codec.decode(data, cls)
        if stored is None:
            raise BadRequest("The stored SAML request is incomplete; start the login again.")
        return stored


def _decode(binding: str, params: Mapping[str, str]) -> bytes:
    message = params.get("SAMLRequest")
    if not message:
        raise BadRequest("The request carries no SAMLRequest.")
    if binding == "redirect":
        return decode_redirect(message)
    if binding == "post":
        return decode_post(message)
    raise BadRequest(f"Unsupported SAML binding {binding!r}.")


def _check_relay_state(config: SamlIdpConfig, value: str | None) -> None:
    if value and len(value.encode()) > config.relay_state_max:
        raise BadRequest(f"The RelayState is longer than {config.relay_state_max} bytes "
                         "(the relay_state_max setting).")


def _issuer(xml: bytes) -> tuple[Element, str]:
    root = parse_message(xml, AUTHN_REQUEST, "an AuthnRequest")
    issuer = (root.findtext(f"{{{SAML}}}Issuer") or "").strip()
    if not issuer:
        raise RequestRejected("The AuthnRequest names no Issuer.")
    return root, issuer


def _supplier(find_supplier: Callable[[str], Supplier | None], issuer: str) -> Supplier:
    supplier = find_supplier(issuer)
    saml = saml_of(supplier) if supplier else None
    if supplier is None or saml is None or saml.entity_id != issuer:
        raise UnknownSupplier(f"No learning app is registered as {issuer[:200]!r}.")
    return supplier


def _check_xml_algorithms(signature: Element) -> None:
    method = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
    hash_for(method.get("Algorithm", "") if method is not None else "")
    for digest in signature.iterfind(f".//{{{DS}}}DigestMethod"):
        if digest.get("Algorithm") not in DIGESTS:
            raise SignatureRejected(f"digest {digest.get('Algorithm')!r} is not accepted; "
                                    "use SHA-256")


def _check_signature(peer: SpPeer, binding: str, params: Mapping[str, str], raw_query: str,
                     root: Element) -> bool:
    """Verify a query signature (as received: a re-encoded query would not verify); refuse weak
    enveloped ones, which _validate verifies afterwards."""
    enveloped = root.find(f"{{{DS}}}Signature")
    if enveloped is not None:
        _check_xml_algorithms(enveloped)
    if binding == "redirect" and ("Signature" in params or "SigAlg" in params):
        signed = verify_query(raw_query, "SAMLRequest", peer.signing_certs)
        if any(signed.get(name) != params.get(name) for name in ("SAMLRequest", "RelayState")):
            raise SignatureRejected("the signed query differs from the request's parameters")
        return True
    if enveloped is None and peer.sign_requests:
        raise SignatureRejected("its metadata says it signs its requests (AuthnRequestsSigned), "
                                "but this one is unsigned")
    return enveloped is not None


def _validate(config: SamlIdpConfig, peer: SpPeer, root: Element) -> AuthnRequest:
    """The request follows the SAML schema, is SAML 2.0, is destined for Loper (when it says),
    and its enveloped signature (when present) verifies with the supplier's metadata keys."""
    message = AuthnRequest(root)
    try:
        assert_valid(_without_unknown_comparison(root))
    except Invalid as exc:  # (a supplier's request carries no personal data: say where)
        raise RequestRejected("The login request was refused: it does not follow the SAML 2.0 "
                              f"XML Schema ({str(exc)[:300]}).") from exc
    if message.version != "2.0":
        raise RequestRejected("The login request was refused: it is not SAML 2.0 (Version "
                              f"{(message.version or '')[:20]!r}).")
    if message.destination and message.destination != config.sso_url:
        raise RequestRejected("The login request was refused: it is not destined for Loper "
                              f"(its Destination is not {config.sso_url}).")
    if root.find(f"{{{DS}}}Signature") is not None:
        try:
            verify_enveloped(root, peer.signing_keys, Policy())
        except Rejected as exc:
            raise RequestRejected("The login request was refused: its signature does not "
                                  "verify with the keys in the learning app's metadata.") from exc
    return message


def _without_unknown_comparison(root: Element) -> Element:
    """The request to check against the schema: an unknown RequestedAuthnContext Comparison
    (its enumeration is in the schema) is left to saml_asks, which answers it NoAuthnContext
    once the request is otherwise sound, so it is checked on a copy without it."""
    asked = root.find(f"{{{SAMLP}}}RequestedAuthnContext")
    if asked is None or asked.get("Comparison") in (None, *acr.COMPARISONS):
        return root
    copied = copy.deepcopy(root)
    for context in copied.iterfind(f"{{{SAMLP}}}RequestedAuthnContext"):
        context.attrib.pop("Comparison", "")
    return copied


def _check_header(config: SamlIdpConfig, message: AuthnRequest, signed: bool) -> str:
    """The request's ID, once its ID, Destination and IssueInstant are acceptable."""
    if not message.id or len(message.id) > MAX_ID:
        raise RequestRejected("The AuthnRequest has no usable ID.")
    if signed and message.destination != config.sso_url:
        raise RequestRejected("A signed AuthnRequest must name Loper's SSO URL as its "
                              "Destination (SAML bindings 3.4.5.2).")
    try:
        issued = datetime.fromisoformat(message.issue_instant or "")
    except (TypeError, ValueError) as exc:
        raise RequestRejected("The AuthnRequest's IssueInstant is not a dateTime.") from exc
    age = (datetime.now(UTC) - issued.replace(tzinfo=issued.tzinfo or UTC)).total_seconds()
    if not -config.clock_skew <= age <= config.request_lifetime + config.clock_skew:
        raise RequestRejected("The AuthnRequest was issued too long ago or in the future; "
                              "check the learning app's clock.")
    return message.id


def _acs(peer: SpPeer, message: AuthnRequest) -> Acs:
    """The ACS comes only from the metadata (SAML profiles 4.1.4.1); answers go by HTTP-POST."""
    url, index = message.assertion_consumer_service_url, message.assertion_consumer_service_index
    if message.protocol_binding not in (None, BINDING_HTTP_POST):
        raise RequestRejected("Loper answers over HTTP-POST only; the requested "
                              f"ProtocolBinding {message.protocol_binding} is not supported.")
    if url is not None and index is not None:
        raise RequestRejected("An AuthnRequest names either an ACS URL or an ACS index, not both.")
    if url is None and index is None:
        return peer.default_acs()
    acs = next((a for a in peer.acs if a.binding == BINDING_HTTP_POST
                and (url is None or a.url == url) and (index is None or a.index == index)), None)
    if acs is None:
        raise RequestRejected("The AssertionConsumerService asked for is not in the learning "
                              "app's metadata (for HTTP-POST).")
    return acs


def _hints(params: Mapping[str, str], message: AuthnRequest) -> tuple[str, ...]:
    asked = [named_school(params) or ""]
    idp_list = message.scoping.idp_list if message.scoping is not None else None
    entries = idp_list.idp_entry if idp_list is not None else []
    asked.extend(entry.provider_id or "" for entry in entries)
    hints = (hint.strip() for hint in asked)
    return tuple(dict.fromkeys(h for h in hints if h and len(h) <= MAX_HINT))


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1")


def _answerable(config: SamlIdpConfig, peer: SpPeer, binding: str, params: Mapping[str, str],
                raw_query: str, root: Element
                ) -> tuple[StoredRequest, AuthnRequest, acr.AcrRequest | None]:
    """The checks that need the supplier's metadata; then what the request asks (saml_asks),
    whose refusal goes back to the ACS found here; the request as respond() needs it."""
    try:
        signed = _check_signature(peer, binding, params, raw_query, root)
    except SignatureRejected as exc:
        raise RequestRejected(f"The login request was refused: {exc}.") from exc
    message = _validate(config, peer, root)
    request_id = _check_header(config, message, signed)
    acs = _acs(peer, message)
    reply = Reply(request_id, acs.url, params.get("RelayState") or None)
    try:
        name_id_format = asks.name_id_format(peer, message.name_id_policy)
        context = asks.authn_context(message.requested_authn_context)
    except asks.Refused as exc:
        exc.reply = reply
        raise
    stored = StoredRequest(request_id, acs.url, acs.binding, name_id_format, reply.relay_state)
    return stored, message, context


def parse_authn_request(config: SamlIdpConfig, peers: PeerCache, binding: str,
                        params: Mapping[str, str], raw_query: str,
                        find_supplier: Callable[[str], Supplier | None]) -> DownstreamRequest:
    xml = _decode(binding, params)
    _check_relay_state(config, params.get("RelayState"))
    root, issuer = _issuer(xml)
    supplier = _supplier(find_supplier, issuer)
    try:
        peer = peers.get(supplier)
        stored, message, context = _answerable(config, peer, binding, params, raw_query, root)
    except BrokerError as exc:
        exc.supplier_name = exc.supplier_name or supplier.name
        raise
    return DownstreamRequest(supplier, codec.encode(stored), school_hints=_hints(params, message),
                             force_authn=_true(message.force_authn),
                             passive=_true(message.is_passive),
                             acr=context)
