"""Typed views of the pysaml2 objects Loper still uses: metadata, clients and servers.

pysaml2 is untyped, so every object it hands over is Any to mypy. The SAML adapters take them
as these small Protocols instead, at the one place pysaml2 returns them; after that, every
attribute Loper reads is checked. Only what Loper reads is declared. (The messages of a login,
AuthnRequest and Response, are read on lxml: request_tree and response_tree.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal, Protocol, TypedDict

Descriptor = Literal["spsso_descriptor", "idpsso_descriptor"]


class EndpointEntry(TypedDict, total=False):
    """One endpoint of a role in pysaml2's metadata store (an AssertionConsumerService,
    a SingleLogoutService): its XML attributes, as strings."""

    binding: str
    location: str
    response_location: str
    index: str
    is_default: str


class TextEntry(TypedDict, total=False):
    """An element of simple content in pysaml2's metadata store (a NameIDFormat)."""

    text: str


class RoleEntry(TypedDict, total=False):
    """One SPSSODescriptor or IDPSSODescriptor in pysaml2's metadata store."""

    assertion_consumer_service: list[EndpointEntry]
    single_logout_service: list[EndpointEntry]
    authn_requests_signed: str
    name_id_format: list[TextEntry]


class EntityEntry(TypedDict, total=False):
    """One EntityDescriptor in pysaml2's metadata store: its roles."""

    spsso_descriptor: list[RoleEntry]
    idpsso_descriptor: list[RoleEntry]


class Metadata(Protocol):
    """saml2.mdstore.MetadataStore, as Loper reads it."""

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, entity_id: str) -> EntityEntry: ...

    def service(self, entity_id: str, typ: str,
                service: str) -> Mapping[str, Sequence[Mapping[str, str]]] | None: ...

    def certs(self, entity_id: str, descriptor: str, use: str) -> Sequence[object]: ...


class SpClient(Protocol):
    """saml2.client.Saml2Client for one school."""

    metadata: Metadata
    sec: Security



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


class Encrypter(Protocol):
    """The encryption of a pysaml2 CryptoBackend (xmlsec1's), which Loper leaves to it."""

    def encrypt(self, *args: object, **kwargs: object) -> object: ...

    def encrypt_assertion(self, *args: object, **kwargs: object) -> object: ...


class MetadataElement(Protocol):
    """A pysaml2 element (saml2.SamlBase) of Loper's SP metadata."""

    def to_string(self, nspair: Mapping[str, str] | None = None) -> bytes: ...


Make = Callable[..., MetadataElement]
"""A pysaml2 element class: its children and attributes as keywords, the element out."""


class MetadataClasses(Protocol):
    """The saml2.md classes Loper's SP metadata is made of."""

    EntityDescriptor: Make
    SPSSODescriptor: Make
    KeyDescriptor: Make
    EncryptionMethod: Make
    SingleLogoutService: Make
    NameIDFormat: Make
    AssertionConsumerService: Make
    Organization: Make
    OrganizationName: Make
    OrganizationDisplayName: Make
    OrganizationURL: Make


class SignatureClasses(Protocol):
    """The saml2.xmldsig classes of a KeyDescriptor."""

    KeyInfo: Make
    X509Data: Make
    X509Certificate: Make
