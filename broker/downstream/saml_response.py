"""Loper's answer to a supplier's SP: a signed Response carrying one signed Assertion, encrypted
when the SP's metadata publishes an encryption key; or a signed error Response.

Order (SAML core 6.2): the Assertion is built with every namespace it uses declared on itself,
signed, then encrypted (so it decrypts into a document that parses on its own: pysaml2 and
python3-saml both verify it after decryption), then put into the Response, which is signed last.
Both are built on lxml and signed in place with the `xmlsec` binding (RSA-SHA256, SHA-256
digests, exclusive c14n; pysaml2's signature template): nothing is serialised before the
Response itself, once.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from broker import profiles
from broker.downstream.saml_asks import Reply
from broker.downstream.saml_config import TRANSIENT, SamlIdpConfig
from broker.downstream.saml_peer import SpPeer
from broker.downstream.saml_request import DS, SAML, SAMLP, StoredRequest
from broker.errors import ResponseFailed
from broker.identity import Released
from broker.saml.compat import NAMEID_FORMAT_ENTITY, SCM_BEARER
from broker.saml.encrypt import EncryptionFailed, Recipient
from broker.saml.sending import instant, new_id
from broker.saml.signer import signer
from broker.saml.xmlparse import Element, child, forget_ids, new_element, to_bytes

XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
ASSERTION_NS = {"ds": DS, "saml": SAML, "xsi": XSI, "xs": XS}
RESPONSE_NS = {"ds": DS, "saml": SAML, "samlp": SAMLP}
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
"""The second-level codes whose fault is the requester's unless a Failure says otherwise."""
Fault = Literal["Requester", "Responder"]


@dataclass(frozen=True)
class Failure:
    """A Response's Status other than Success (SAML core 3.2.2): a second-level `code` such as
    "NoPassive" (or its full URN) under the top-level `fault` (None: the one usual for the
    code), and a StatusMessage: a fixed text, never a value the request sent."""

    code: str
    fault: Fault | None = None
    message: str | None = None


def _status_codes(failure: Failure | None) -> tuple[str, ...]:
    """Success, or the top-level fault with the failure's second-level code."""
    if failure is None:
        return (STATUS + "Success",)
    name = failure.code.removeprefix(STATUS)
    if name not in SECOND_LEVEL:
        raise ValueError(f"{failure.code!r} is not a SAML second-level status code")
    top = failure.fault or ("Requester" if name in REQUESTER_FAULTS else "Responder")
    return STATUS + top, STATUS + name


class ResponseBuilder:
    """Builds the answer on lxml, in the shape pysaml2 used to serialise it (element and
    attribute order, namespace declarations), and signs it in place."""

    def __init__(self, config: SamlIdpConfig) -> None:
        self._config = config
        self._signer = signer(config.signing)

    def success(self, peer: SpPeer, request: StoredRequest, released: Released,
                profile: profiles.Profile) -> str:
        now = datetime.now(UTC)
        try:
            assertion = self._assertion(peer.entity_id, request, released, profile, now)
        except ValueError as exc:  # a value that XML cannot carry (a control character)
            raise ResponseFailed(f"Loper could not build its answer ({exc}).") from exc
        self._signer.sign_in_place(assertion)
        forget_ids(assertion)  # it moves into another document now
        if peer.encryption is not None:
            assertion = self._encrypted(assertion, peer.encryption)
        return self._response(request.reply, None, now, assertion)

    def failure(self, reply: Reply, failure: Failure) -> str:
        """A signed Response without assertion."""
        return self._response(reply, failure, datetime.now(UTC), None)

    def _encrypted(self, assertion: Element, recipient: Recipient) -> Element:
        wrapper = new_element(f"{{{SAML}}}EncryptedAssertion", {"saml": SAML})
        try:
            wrapper.append(recipient.encrypt(assertion, self._config.encryption))
        except EncryptionFailed as exc:
            raise ResponseFailed(f"Loper could not encrypt its answer ({exc}).") from exc
        return wrapper

    def _response(self, reply: Reply, failure: Failure | None, now: datetime,
                  content: Element | None) -> str:
        ident = new_id()
        root = new_element(f"{{{SAMLP}}}Response", RESPONSE_NS)
        for name, value in (("ID", ident), ("InResponseTo", reply.id), ("Version", "2.0"),
                            ("IssueInstant", instant(now)), ("Destination", reply.acs)):
            root.set(name, value)
        self._signed_header(root, ident)
        status = parent = child(root, f"{{{SAMLP}}}Status")
        for value in _status_codes(failure):
            parent = child(parent, f"{{{SAMLP}}}StatusCode", {"Value": value})
        if failure is not None and failure.message:
            child(status, f"{{{SAMLP}}}StatusMessage", text=failure.message)
        if content is not None:
            root.append(content)
        self._signer.sign_in_place(root)
        return base64.b64encode(to_bytes(root)).decode("ascii")

    def _signed_header(self, element: Element, ident: str) -> None:
        """Issuer, then the signature template (SAML core 3.2.1, 2.3.3)."""
        child(element, f"{{{SAML}}}Issuer", {"Format": NAMEID_FORMAT_ENTITY},
              self._config.entity_id)
        element.append(self._signer.template_element(ident))

    def _assertion(self, sp: str, request: StoredRequest, released: Released,
                   profile: profiles.Profile, now: datetime) -> Element:
        ident = new_id()
        expires = instant(now + timedelta(seconds=self._config.assertion_lifetime))
        assertion = new_element(f"{{{SAML}}}Assertion", ASSERTION_NS)
        for name, value in (("Version", "2.0"), ("ID", ident), ("IssueInstant", instant(now))):
            assertion.set(name, value)
        self._signed_header(assertion, ident)
        self._subject(assertion, sp, request, released, expires)
        conditions = child(assertion, f"{{{SAML}}}Conditions", {
            "NotBefore": instant(now - timedelta(seconds=self._config.clock_skew)),
            "NotOnOrAfter": expires})
        restriction = child(conditions, f"{{{SAML}}}AudienceRestriction")
        child(restriction, f"{{{SAML}}}Audience", text=sp)
        _authn_statement(assertion, released)
        self._attributes(assertion, released, profile)
        return assertion

    def _subject(self, assertion: Element, sp: str, request: StoredRequest, released: Released,
                 expires: str) -> None:
        transient = request.name_id_format == TRANSIENT
        subject = child(assertion, f"{{{SAML}}}Subject")
        child(subject, f"{{{SAML}}}NameID", {
            "NameQualifier": self._config.entity_id, "SPNameQualifier": sp,
            "Format": request.name_id_format},
            (released.name or new_id()) if transient else released.subject)
        confirmation = child(subject, f"{{{SAML}}}SubjectConfirmation", {"Method": SCM_BEARER})
        child(confirmation, f"{{{SAML}}}SubjectConfirmationData", {
            "NotOnOrAfter": expires, "Recipient": request.acs, "InResponseTo": request.id})

    def _attributes(self, assertion: Element, released: Released,
                    profile: profiles.Profile) -> None:
        """The pseudonym, then exactly the released attributes, under the profile's names."""
        named = profiles.saml_attributes(profile, released.attributes, released.subject,
                                         self._config.scope)
        statement = child(assertion, f"{{{SAML}}}AttributeStatement")
        for n, values in named:
            attribute = child(statement, f"{{{SAML}}}Attribute", {
                "Name": n.name, "NameFormat": n.name_format, "FriendlyName": n.friendly_name})
            for value in values:
                child(attribute, f"{{{SAML}}}AttributeValue", {XSI_TYPE: "xs:string"}, value)


def _authn_statement(assertion: Element, released: Released) -> None:
    statement = child(assertion, f"{{{SAML}}}AuthnStatement", {
        "AuthnInstant": instant(released.authn.instant),
        "SessionIndex": released.session or new_id()})
    context = child(statement, f"{{{SAML}}}AuthnContext")
    child(context, f"{{{SAML}}}AuthnContextClassRef",
          text=released.authn.class_ref or UNSPECIFIED_CONTEXT)
