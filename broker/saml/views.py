"""Typed views of the pysaml2 objects Loper reads (saml2.saml, saml2.samlp, saml2.xmldsig).

pysaml2 is untyped, so every object it hands over is Any to mypy. The SAML adapters take them
as these small Protocols instead, at the one place pysaml2 returns them; after that, every
attribute Loper reads is checked. Only what Loper reads is declared: a view, not a copy of
pysaml2's classes. Element lists are Sequences; optional child elements and XML attributes
may be None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypedDict


class Text(Protocol):
    """An element with text content only (Audience, AuthnContextClassRef, StatusMessage...)."""

    text: str | None


class Metadata(Protocol):
    """saml2.mdstore.MetadataStore, as a school's client reads it."""

    def service(self, entity_id: str, typ: str,
                service: str) -> Mapping[str, Sequence[Mapping[str, str]]] | None: ...

    def certs(self, entity_id: str, descriptor: str, use: str) -> Sequence[object]: ...


class BindingInfo(TypedDict):
    """What Entity.apply_binding returns, as far as Loper reads it."""

    headers: list[tuple[str, str]]


class SpClient(Protocol):
    """saml2.client.Saml2Client for one school."""

    metadata: Metadata
    sec: Security

    def create_authn_request(self, destination: str, **options: object) -> tuple[str, object]:
        ...

    def apply_binding(self, binding: str, msg_str: str, destination: str, relay_state: str,
                      **options: object) -> BindingInfo: ...


class NameIDPolicy(Protocol):
    format: str | None
    sp_name_qualifier: str | None


class IDPEntry(Protocol):
    provider_id: str | None


class IDPList(Protocol):
    idp_entry: Sequence[IDPEntry]


class Scoping(Protocol):
    idp_list: IDPList | None


class RequestedAuthnContext(Protocol):
    comparison: str | None
    authn_context_class_ref: Sequence[Text]
    authn_context_decl_ref: Sequence[Text]


class AuthnRequest(Protocol):
    """samlp:AuthnRequest as pysaml2's Server parsed (and, if signed, verified) it."""

    id: str | None
    destination: str | None
    issue_instant: str | None
    assertion_consumer_service_url: str | None
    assertion_consumer_service_index: str | None
    protocol_binding: str | None
    name_id_policy: NameIDPolicy | None
    scoping: Scoping | None
    force_authn: str | None
    is_passive: str | None
    requested_authn_context: RequestedAuthnContext | None


class ParsedRequest(Protocol):
    message: AuthnRequest


class Security(Protocol):
    """saml2.sigver.SecurityContext: the signatures of logout messages."""

    def correctly_signed_logout_request(self, decoded_xml: str, must: bool = ...) -> object:
        ...

    def correctly_signed_logout_response(self, decoded_xml: str, must: bool = ...) -> object:
        ...


class IdpServer(Protocol):
    """saml2.server.Server holding one supplier's SP metadata."""

    metadata: Metadata
    sec: Security

    def parse_authn_request(self, enc_request: str,
                            binding: str | None = ...) -> ParsedRequest: ...
