"""Registry entries as the rest of the broker sees them: frozen, typed, no I/O.

The registry package turns its database rows into these; release.py, flow.py and the
protocol adapters only ever see these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SamlSchool:
    metadata_xml: str
    entity_id: str
    subject: str = "nameid"
    """"nameid" (the persistent NameID) or the internal/SAML name of an attribute."""
    legacy_sha1: bool = False
    """Accept SHA-1 signatures from this school (an explicit, visible exception)."""


@dataclass(frozen=True)
class OidcSchool:
    issuer: str
    client_id: str
    client_secret: str | None = None
    client_secret_env: str | None = None
    subject: str = "sub"
    algorithms: tuple[str, ...] = ("RS256",)
    scopes: tuple[str, ...] = ("openid", "profile", "email")


@dataclass(frozen=True)
class School:
    id: str
    name: str
    protocol: str
    place: str | None = None
    saml: SamlSchool | None = None
    oidc: OidcSchool | None = None
    sso_lifetime: int | None = None
    """Seconds a single sign-on session lasts for this school; None: the deployment default."""


@dataclass(frozen=True)
class AttributeRequest:
    attribute: str
    why: str


@dataclass(frozen=True)
class SamlSupplier:
    metadata_xml: str
    entity_id: str


@dataclass(frozen=True)
class OidcSupplier:
    client_id: str
    client_secret: str | None = None
    client_secret_env: str | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    jwks: str | None = None
    pkce_required: bool = True
    offline_access: bool = False
    id_token_alg: str = "RS256"


@dataclass(frozen=True)
class Supplier:
    id: str
    name: str
    protocol: str
    sector: str
    """Pseudonyms are derived per sector; by default the supplier's own id."""
    key_version: int
    """The pseudonym key version this supplier's pseudonyms are derived with (pinned)."""
    requests: tuple[AttributeRequest, ...] = ()
    url: str | None = None
    saml: SamlSupplier | None = None
    oidc: OidcSupplier | None = None


@dataclass(frozen=True)
class Policy:
    """A school's release decision for one supplier."""

    school_id: str
    supplier_id: str
    attributes: frozenset[str] = frozenset()
    by_role: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Extra attributes released only to people with that role (eduPersonAffiliation value)."""
    suspended_reason: str | None = None
    valid_until: date | None = None
