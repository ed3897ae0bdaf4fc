"""Typed read-only views of a school's samlp:Response as an lxml tree.

Each view wraps one element and reads its XML attributes and direct children on demand, under
the names the checks use (broker/upstream/saml_checks*.py). Only direct children are read: an
Assertion inside Advice, or anything in Extensions, is never taken for the assertion's own.
Text is every text node directly inside the element (text_of), so a comment or CDATA section
cannot cut a NameID or attribute value short (the CVE-2017-11427 class).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from broker.saml.xmlparse import Element

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
RESPONSE = f"{{{SAMLP}}}Response"
ASSERTION = f"{{{SAML}}}Assertion"
ENCRYPTED_ASSERTION = f"{{{SAML}}}EncryptedAssertion"
ENCRYPTED_ID = f"{{{SAML}}}EncryptedID"


def text_of(element: Element) -> str:
    """The element's own character data: its text and the tails of its children (comments,
    processing instructions), never the text inside a child element."""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return "".join(parts)


V = TypeVar("V", bound="View")


class View:
    """One element of the tree."""

    __slots__ = ("element",)

    def __init__(self, element: Element) -> None:
        self.element = element

    def _child(self, tag: str) -> Element | None:
        return self.element.find(tag)

    def _children(self, tag: str) -> list[Element]:
        return self.element.findall(tag)

    @property
    def text(self) -> str:
        return text_of(self.element)


class Attr:
    """A view's XML attribute (None if absent)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, view: View, owner: object = None) -> str | None:
        return view.element.get(self.name)


class Child(Generic[V]):
    """A view's optional child element, as a view (None if absent)."""

    def __init__(self, tag: str, view: type[V]) -> None:
        self.tag = tag
        self.view = view

    def __get__(self, parent: View, owner: object = None) -> V | None:
        found = parent.element.find(self.tag)
        return self.view(found) if found is not None else None


class Issuer(View):
    format = Attr("Format")


class NameID(Issuer):
    name_qualifier = Attr("NameQualifier")
    sp_name_qualifier = Attr("SPNameQualifier")


class StatusCode(View):
    value = Attr("Value")

    @property
    def status_code(self) -> StatusCode | None:
        found = self._child(f"{{{SAMLP}}}StatusCode")
        return StatusCode(found) if found is not None else None


class Status(View):
    status_code = Child(f"{{{SAMLP}}}StatusCode", StatusCode)

    @property
    def status_message(self) -> str | None:
        found = self._child(f"{{{SAMLP}}}StatusMessage")
        return text_of(found) if found is not None else None


class Signature(View):
    """ds:Signature: which algorithms its SignedInfo names."""

    def _signed_info(self) -> Element | None:
        return self._child(f"{{{DS}}}SignedInfo")

    @property
    def references(self) -> int:
        info = self._signed_info()
        return len(info.findall(f"{{{DS}}}Reference")) if info is not None else 0

    @property
    def signature_method(self) -> str | None:
        info = self._signed_info()
        method = info.find(f"{{{DS}}}SignatureMethod") if info is not None else None
        return method.get("Algorithm") if method is not None else None

    @property
    def digest_methods(self) -> list[str | None]:
        info = self._signed_info()
        if info is None:
            return []
        methods = (ref.find(f"{{{DS}}}DigestMethod")
                   for ref in info.iterfind(f"{{{DS}}}Reference"))
        return [m.get("Algorithm") if m is not None else None for m in methods]


class SubjectConfirmationData(View):
    not_before = Attr("NotBefore")
    not_on_or_after = Attr("NotOnOrAfter")
    recipient = Attr("Recipient")
    in_response_to = Attr("InResponseTo")


class SubjectConfirmation(View):
    method = Attr("Method")
    subject_confirmation_data = Child(f"{{{SAML}}}SubjectConfirmationData",
                                      SubjectConfirmationData)


class Subject(View):
    @property
    def name_id(self) -> NameID | None:
        """The NameID, or the one inside an EncryptedID (decrypted in place)."""
        found = self._child(f"{{{SAML}}}NameID")
        if found is None:
            found = self.element.find(f"{ENCRYPTED_ID}/{{{SAML}}}NameID")
        return NameID(found) if found is not None else None

    @property
    def encrypted_id(self) -> Element | None:
        return self._child(ENCRYPTED_ID)

    @property
    def subject_confirmation(self) -> list[SubjectConfirmation]:
        return [SubjectConfirmation(e) for e in self._children(f"{{{SAML}}}SubjectConfirmation")]


class Conditions(View):
    not_before = Attr("NotBefore")
    not_on_or_after = Attr("NotOnOrAfter")

    @property
    def audience_restriction(self) -> list[list[str]]:
        """Per AudienceRestriction, its Audiences (stripped)."""
        return [[text_of(a).strip() for a in r.findall(f"{{{SAML}}}Audience")]
                for r in self._children(f"{{{SAML}}}AudienceRestriction")]


class AuthnStatement(View):
    authn_instant = Attr("AuthnInstant")
    session_index = Attr("SessionIndex")
    session_not_on_or_after = Attr("SessionNotOnOrAfter")

    @property
    def class_ref(self) -> str | None:
        ref = self.element.find(f"{{{SAML}}}AuthnContext/{{{SAML}}}AuthnContextClassRef")
        text = text_of(ref).strip() if ref is not None else ""
        return text or None


class Signed(View):
    """An element that may carry its own enveloped ds:Signature (Response, Assertion)."""

    id = Attr("ID")
    version = Attr("Version")
    issue_instant = Attr("IssueInstant")
    issuer = Child(f"{{{SAML}}}Issuer", Issuer)
    signature = Child(f"{{{DS}}}Signature", Signature)


class Assertion(Signed):
    subject = Child(f"{{{SAML}}}Subject", Subject)
    conditions = Child(f"{{{SAML}}}Conditions", Conditions)

    @property
    def authn_statement(self) -> list[AuthnStatement]:
        return [AuthnStatement(e) for e in self._children(f"{{{SAML}}}AuthnStatement")]

    def attributes(self) -> dict[str, list[str]]:
        """Attribute values (stripped, empty ones left out) by Name, from the assertion's own
        AttributeStatements only: whatever sits in its Advice is never read."""
        raw: dict[str, list[str]] = {}
        for attribute in self.element.iterfind(f"{{{SAML}}}AttributeStatement/"
                                               f"{{{SAML}}}Attribute"):
            values = raw.setdefault(attribute.get("Name", ""), [])
            texts = (text_of(v).strip() for v in attribute.iterfind(f"{{{SAML}}}AttributeValue"))
            values.extend(t for t in texts if t)
        return raw


class Response(Signed):
    """samlp:Response."""

    destination = Attr("Destination")
    in_response_to = Attr("InResponseTo")
    status = Child(f"{{{SAMLP}}}Status", Status)

    @property
    def assertion(self) -> list[Assertion]:
        """The plaintext assertions, and those decrypted in place (inside EncryptedAssertion)."""
        found = self._children(ASSERTION)
        found.extend(self.element.iterfind(f"{ENCRYPTED_ASSERTION}/{ASSERTION}"))
        return [Assertion(e) for e in found]

    @property
    def encrypted_assertion(self) -> list[Element]:
        """The EncryptedAssertions not decrypted yet."""
        return [e for e in self._children(ENCRYPTED_ASSERTION) if e.find(ASSERTION) is None]
