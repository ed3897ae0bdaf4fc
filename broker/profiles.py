"""Supplier profiles: the names under which a supplier receives what its school released.

A profile renames, it never adds: the release (broker/release.py) decides what a supplier gets,
and its profile only decides what each attribute is called and how the pseudonym is shaped.

- "oid" (the default): urn:oid names with NameFormat uri and the `pairwise-id` attribute
  (SAML V2.0 Subject Identifier Attributes Profile); REFEDS OIDCre claim names.
- "entree": the names Entree Federatie gives its service providers (Kennisnet,
  "Attributen overzicht voor Service Providers"), with NameFormat basic (SAML core 2.7.3.1,
  8.2.3); the pseudonym as Entree's `uid`, `hash@realm`. Entree's OIDC service hands out its
  SAML attributes as claims without publishing other names, so an OIDC supplier of this
  profile reads the same names as claims. Attributes Entree has no name for keep the oid
  profile's names.

No protocol machinery here: the SAML IdP and the OP (and their previews) ask a profile for names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from broker.attributes import (
    BY_NAME,
    NAME_FORMAT_URI,
    PAIRWISE_ID,
    VOCABULARY,
    Attribute,
    to_oidc,
)
from broker.identity import Attributes

NAME_FORMAT_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"


@dataclass(frozen=True)
class SamlName:
    name: str
    name_format: str
    friendly_name: str


@dataclass(frozen=True)
class Profile:
    name: str
    subject_attribute: SamlName
    """The SAML attribute that carries the pseudonym as `pseudonym@scope`."""
    subject_claim: str | None = None
    """An OIDC claim carrying `pseudonym@scope` besides the pairwise `sub`; None: none."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Internal attribute name -> the profile's own name (SAML Name and OIDC claim)."""

    def saml(self, attr: Attribute) -> SamlName:
        own = self.names.get(attr.name)
        if own is None:
            return SamlName(attr.saml_name, NAME_FORMAT_URI, attr.friendly_name)
        return SamlName(own, NAME_FORMAT_BASIC, own)

    def claim(self, attr: Attribute) -> str:
        return self.names.get(attr.name, attr.oidc_claim)


OID = Profile("oid", SamlName(PAIRWISE_ID, NAME_FORMAT_URI, "pairwise-id"))
ENTREE = Profile(
    "entree", SamlName("uid", NAME_FORMAT_BASIC, "uid"), subject_claim="uid",
    names={"role": "eduPersonAffiliation", "given_name": "givenName", "family_name": "sn",
           "display_name": "cn", "email": "mail",
           "school_id": "nlEduPersonHomeOrganizationId",
           "school_name": "nlEduPersonHomeOrganization",
           "branch_id": "nlEduPersonHomeOrganizationBranchId",
           "profile_id": "nlEduPersonProfileId", "real_id": "nlEduPersonRealId",
           "eck_id": "eckId"})
PROFILES: Mapping[str, Profile] = {p.name: p for p in (OID, ENTREE)}
EXPECTED = " or ".join(f'"{name}"' for name in PROFILES)


class UnknownProfile(ValueError):
    """A supplier names a profile this broker does not have."""


def of(name: str) -> Profile:
    """The profile called `name`; UnknownProfile (saying which exist) if there is none."""
    found = PROFILES.get(name)
    if found is None:
        raise UnknownProfile(f'unknown profile "{name}"; expected {EXPECTED}')
    return found


def scoped(pseudonym: str, scope: str) -> str:
    """The pseudonym scoped by Loper's domain: the pairwise-id's value, and Entree's
    `hash@realm` (the realm is Loper's, never the school's: it tells nothing unreleased)."""
    return f"{pseudonym}@{scope}"


def claim_scopes() -> dict[str, str | None]:
    """Every claim name of every profile -> the standard scope it needs (OIDC Core 5.4)."""
    scopes: dict[str, str | None] = {}
    for profile in PROFILES.values():
        scopes.update((profile.claim(a), a.oidc_scope) for a in VOCABULARY)
        if profile.subject_claim is not None:
            scopes[profile.subject_claim] = None
    return scopes


def saml_attributes(profile: Profile, attributes: Attributes, pseudonym: str,
                    scope: str) -> list[tuple[SamlName, tuple[str, ...]]]:
    """The pseudonym attribute, then every released attribute that has a value, named."""
    named: list[tuple[SamlName, tuple[str, ...]]] = [
        (profile.subject_attribute, (scoped(pseudonym, scope),))]
    named += [(profile.saml(BY_NAME[name]), values) for name, values in attributes.items()
              if name in BY_NAME and values]
    return named


def claims(profile: Profile, attributes: Attributes, granted: Iterable[str], pseudonym: str,
           scope: str) -> dict[str, str | list[str]]:
    """Released attributes -> claims, bounded by the standard scopes the RP was granted; the
    profile's subject claim (if it has one) first."""
    out: dict[str, str | list[str]] = {}
    if profile.subject_claim is not None:
        out[profile.subject_claim] = scoped(pseudonym, scope)
    out.update(to_oidc(attributes, granted, profile.claim))
    return out
