"""Loper's answer to a supplier's SP: a signed Response carrying one signed Assertion, encrypted
when the SP's metadata publishes an encryption key; or a signed error Response.

Order (SAML core 6.2): the Assertion is built with every namespace it uses declared on itself,
signed, then encrypted (so it decrypts into a document that parses on its own: pysaml2 and
python3-saml both verify it after decryption), then put into the Response, which is signed last.
Signatures are RSA-SHA256 with SHA-256 digests and exclusive c14n, through pysaml2.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

from saml2 import saml, samlp
from saml2.saml import NAMEID_FORMAT_ENTITY, SCM_BEARER

from broker import profiles
from broker.downstream.saml_config import TRANSIENT, SamlIdpConfig
from broker.downstream.saml_peer import Attach, SpPeer
from broker.downstream.saml_request import DS, SAML, SAMLP, StoredRequest
from broker.errors import ResponseFailed
from broker.identity import Released
from broker.saml.encrypt import EncryptionFailed, Recipient
from broker.saml.signer import signer
from broker.saml.xmlparse import Element, new_element, parse_declaring, to_bytes

XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ASSERTION_NS = {"saml": SAML, "ds": DS, "xs": XS, "xsi": XSI}
RESPONSE_NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}
UNSPECIFIED_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
SECOND_LEVEL = frozenset({
    "AuthnFailed", "InvalidAttrNameOrValue", "InvalidNameIDPolicy", "NoAuthnContext",
    "NoAvailableIDP", "NoPassive", "NoSupportedIDP", "PartialLogout", "ProxyCountExceeded",
    "RequestDenied", "RequestUnsupported", "RequestVersionDeprecated", "RequestVersionTooHigh",
    "RequestVersionTooLow", "ResourceNotRecognized", "TooManyResponses", "UnknownAttrProfile",
    "UnknownPrincipal", "UnsupportedBinding"})
"""SAML core 3.2.2.2."""
REQUESTER_FAULTS = frozenset({"InvalidAttrNameOrValue", "InvalidNameIDPolicy",
                              "RequestUnsupported", "UnsupportedBinding"})


def _instant(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    return "_" + secrets.token_hex(20)


def status(code: str | None = None) -> samlp.Status:
    """Success, or the top-level fault with a second-level code such as "NoPassive"."""
    if code is None:
        return samlp.Status(status_code=samlp.StatusCode(value=STATUS + "Success"))
    name = code.removeprefix(STATUS)
    if name not in SECOND_LEVEL:
        raise ValueError(f"{code!r} is not a SAML second-level status code")
    top = "Requester" if name in REQUESTER_FAULTS else "Responder"
    return samlp.Status(status_code=samlp.StatusCode(
        value=STATUS + top, status_code=samlp.StatusCode(value=STATUS + name)))


def _element(message: saml.SamlBase, nsmap: dict[str, str]) -> Element:
    """pysaml2 object -> lxml element declaring all `nsmap` namespaces it uses on itself."""
    return parse_declaring(message.to_string(nspair=nsmap), nsmap, keep_prefixes=("xs", "xsi"))


class ResponseBuilder:
    def __init__(self, config: SamlIdpConfig, attach: Attach | None = None) -> None:
        self._config = config
        self._signer = signer(config.signing)
        if attach is not None:
            attach(self._signer.security)

    def success(self, peer: SpPeer, request: StoredRequest, released: Released,
                profile: profiles.Profile) -> str:
        now = datetime.now(UTC)
        assertion = self._assertion(peer.entity_id, request, released, profile, now)
        signed = self._signer.sign(_element(assertion, ASSERTION_NS), assertion.id)
        if peer.encryption is not None:
            signed = self._encrypted(signed, peer.encryption)
        return self._response(request, status(), now, signed)

    def failure(self, request: StoredRequest, code: str) -> str:
        return self._response(request, status(code), datetime.now(UTC), None)

    def _encrypted(self, assertion: Element, recipient: Recipient) -> Element:
        wrapper = new_element(f"{{{SAML}}}EncryptedAssertion", {"saml": SAML})
        try:
            wrapper.append(recipient.encrypt(assertion, self._config.encryption))
        except EncryptionFailed as exc:
            raise ResponseFailed(f"Loper could not encrypt its answer ({exc}).") from exc
        return wrapper

    def _response(self, request: StoredRequest, outcome: samlp.Status, now: datetime,
                  content: Element | None) -> str:
        ident = _new_id()
        response = samlp.Response(
            id=ident, version="2.0", issue_instant=_instant(now), destination=request.acs,
            in_response_to=request.id, issuer=self._issuer(),
            signature=self._signer.template(ident), status=outcome)
        root = _element(response, RESPONSE_NS)
        if content is not None:
            root.append(content)
        signed = self._signer.sign(root, ident)
        return base64.b64encode(to_bytes(signed)).decode("ascii")

    def _issuer(self) -> saml.Issuer:
        return saml.Issuer(text=self._config.entity_id, format=NAMEID_FORMAT_ENTITY)

    def _assertion(self, sp: str, request: StoredRequest, released: Released,
                   profile: profiles.Profile, now: datetime) -> saml.Assertion:
        ident = _new_id()
        expires = _instant(now + timedelta(seconds=self._config.assertion_lifetime))
        audience = saml.AudienceRestriction(audience=[saml.Audience(text=sp)])
        return saml.Assertion(
            id=ident, version="2.0", issue_instant=_instant(now), issuer=self._issuer(),
            signature=self._signer.template(ident),
            subject=self._subject(sp, request, released, expires),
            conditions=saml.Conditions(
                not_before=_instant(now - timedelta(seconds=self._config.clock_skew)),
                not_on_or_after=expires, audience_restriction=[audience]),
            authn_statement=[_authn_statement(released)],
            attribute_statement=[self._attributes(released, profile)])

    def _subject(self, sp: str, request: StoredRequest, released: Released,
                 expires: str) -> saml.Subject:
        transient = request.name_id_format == TRANSIENT
        name_id = saml.NameID(
            format=request.name_id_format, name_qualifier=self._config.entity_id,
            sp_name_qualifier=sp, text=_new_id() if transient else released.subject)
        data = saml.SubjectConfirmationData(recipient=request.acs, in_response_to=request.id,
                                            not_on_or_after=expires)
        confirmation = saml.SubjectConfirmation(method=SCM_BEARER,
                                                subject_confirmation_data=data)
        return saml.Subject(name_id=name_id, subject_confirmation=[confirmation])

    def _attributes(self, released: Released,
                    profile: profiles.Profile) -> saml.AttributeStatement:
        """The pseudonym, then exactly the released attributes, under the profile's names."""
        named = profiles.saml_attributes(profile, released.attributes, released.subject,
                                         self._config.scope)
        return saml.AttributeStatement(attribute=[
            saml.Attribute(name=n.name, name_format=n.name_format, friendly_name=n.friendly_name,
                           attribute_value=[saml.AttributeValue(text=v) for v in values])
            for n, values in named])


def _authn_statement(released: Released) -> saml.AuthnStatement:
    context = saml.AuthnContext(authn_context_class_ref=saml.AuthnContextClassRef(
        text=released.authn.class_ref or UNSPECIFIED_CONTEXT))
    return saml.AuthnStatement(authn_instant=_instant(released.authn.instant),
                               session_index=released.session or _new_id(),
                               authn_context=context)
