"""The attribute vocabulary: Loper's internal names, their SAML names and their OIDC claims.

Input is forgiving (urn:oid, urn:mace and friendly SAML names, OIDC claim names); output is
strict (urn:oid names with NameFormat uri, REFEDS OIDCre claim names). Anything outside the
vocabulary is dropped by `from_saml` / `from_oidc` and therefore never forwarded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from broker.identity import Attributes

NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
MACE = "urn:mace:dir:attribute-def:"
ECK_ID = re.compile(r"https://ketenid\.nl/[0-9]{1,16}/[0-9A-Fa-f]{1,256}")
"""The ECK iD's shape (Edu-K): https://ketenid.nl/<version>/<hex>, e.g. .../201703/1a5c..."""
log = logging.getLogger("loper.attributes")


@dataclass(frozen=True)
class Attribute:
    name: str
    saml_name: str
    friendly_name: str
    oidc_claim: str
    oidc_scope: str | None
    """The standard scope an RP needs besides the release (OIDC Core 5.4); None: release alone."""
    multi_valued: bool = False
    sensitive: bool = False
    """Never logged, never released without an explicit release naming it."""
    aliases: tuple[str, ...] = ()
    label: str = ""
    shape: re.Pattern[str] | None = None
    """Values must match this whole; others are dropped (and the name logged, never a value)."""

    def accepts(self, value: str) -> bool:
        return self.shape is None or self.shape.fullmatch(value) is not None


VOCABULARY: tuple[Attribute, ...] = (
    Attribute("role", "urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "eduPersonAffiliation",
              "eduperson_affiliation", None, multi_valued=True, label="role (pupil, teacher)"),
    Attribute("given_name", "urn:oid:2.5.4.42", "givenName", "given_name", "profile",
              label="given name"),
    Attribute("family_name", "urn:oid:2.5.4.4", "sn", "family_name", "profile",
              aliases=("surname",), label="family name"),
    Attribute("display_name", "urn:oid:2.16.840.1.113730.3.1.241", "displayName", "name",
              "profile", aliases=("cn", "urn:oid:2.5.4.3"), label="display name"),
    Attribute("email", "urn:oid:0.9.2342.19200300.100.1.3", "mail", "email", "email",
              aliases=("emailaddress", "email"), label="e-mail address"),
    Attribute("school_domain", "urn:oid:1.3.6.1.4.1.25178.1.2.9", "schacHomeOrganization",
              "schac_home_organization", None, label="school domain"),
    Attribute("school_id", MACE + "nlEduPersonHomeOrganizationId",
              "nlEduPersonHomeOrganizationId", "nl_edu_person_home_organization_id", None,
              multi_valued=True, label="school number (BRIN)"),
    Attribute("groups", "urn:oid:1.3.6.1.4.1.5923.1.5.1.1", "isMemberOf", "groups", None,
              multi_valued=True,
              aliases=("nlEduPersonUnit", "nlEduPersonOrgUnitId", MACE + "nlEduPersonOrgUnitId",
                       MACE + "nlEduPersonUnit"),
              label="classes and groups"),
    Attribute("eck_id", "urn:mace:surf.nl:attribute-def:eckid", "eckId", "eckid", None,
              sensitive=True, label="ECK iD", shape=ECK_ID),
)

GUARDIAN_OF = Attribute(
    "guardian_of", "guardianOf", "guardianOf", "guardian_of", None, multi_valued=True,
    sensitive=True, label="children (for their parent's overview)")
"""The children of a parent logging in (their ids at the school, or their ECK iDs): read from
schools for the parent view of /me (broker/portal/guardians.py), never released."""
INTERNAL: tuple[Attribute, ...] = (GUARDIAN_OF,)
"""Read from schools for Loper's own use only: outside VOCABULARY, so no release names them."""

BY_NAME: Mapping[str, Attribute] = {a.name: a for a in VOCABULARY}
NAMES: frozenset[str] = frozenset(BY_NAME)


def _saml_index() -> dict[str, Attribute]:
    index: dict[str, Attribute] = {}
    for attr in VOCABULARY + INTERNAL:
        keys = (attr.saml_name, attr.friendly_name, MACE + attr.friendly_name, *attr.aliases)
        for key in keys:
            index[key.lower()] = attr
    return index


_BY_SAML_NAME = _saml_index()
_BY_CLAIM: Mapping[str, Attribute] = {a.oidc_claim: a for a in VOCABULARY + INTERNAL}


def is_sensitive(name: str) -> bool:
    attr = BY_NAME.get(name)
    return attr is not None and attr.sensitive


def _collect(pairs: Iterable[tuple[Attribute | None, Iterable[str]]]) -> Attributes:
    values: dict[str, list[str]] = {}
    for attr, found in pairs:
        if attr is None:
            continue
        bucket = values.setdefault(attr.name, [])
        for value in found:
            if not isinstance(value, str) or not value or value in bucket:
                continue
            if attr.accepts(value):
                bucket.append(value)
            else:
                log.warning("attribute value dropped: not of the expected shape",
                            extra={"attribute": attr.name})
    return {name: tuple(vs) for name, vs in values.items() if vs}


def _as_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def from_saml(attributes: Mapping[str, Iterable[str]]) -> Attributes:
    """Upstream SAML attributes (any accepted name form) -> internal attributes."""
    return _collect((_BY_SAML_NAME.get(key.lower()), _as_strings(list(vals)))
                    for key, vals in attributes.items())


def from_oidc(claims: Mapping[str, object]) -> Attributes:
    """Upstream OIDC claims -> internal attributes; unknown claims are dropped."""
    return _collect((_BY_CLAIM.get(key), _as_strings(val)) for key, val in claims.items())


def by_name(values: Mapping[str, object]) -> Attributes:
    """Values already under internal names (a school's mapping, broker/mapping.py), checked
    as any upstream's are."""
    return _collect((BY_NAME.get(name), _as_strings(found)) for name, found in values.items())


def to_saml(attributes: Attributes) -> dict[str, tuple[str, ...]]:
    """Internal attributes -> {urn:oid name: values}, for NameFormat uri."""
    return {BY_NAME[name].saml_name: vals for name, vals in attributes.items() if name in BY_NAME}


def to_oidc(attributes: Attributes, scopes: Iterable[str]) -> dict[str, str | list[str]]:
    """Internal attributes -> claims, bounded by the standard scopes the RP asked for."""
    granted = set(scopes)
    claims: dict[str, str | list[str]] = {}
    for name, vals in attributes.items():
        attr = BY_NAME.get(name)
        if attr is None or (attr.oidc_scope is not None and attr.oidc_scope not in granted):
            continue
        claims[attr.oidc_claim] = list(vals) if attr.multi_valued else vals[0]
    return claims
