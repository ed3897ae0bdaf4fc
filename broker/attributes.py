"""The attribute vocabulary: Loper's internal names, their SAML names and their OIDC claims.

Input is forgiving (urn:oid, urn:mace and friendly SAML names, Microsoft's claim URIs from
Entra ID and ADFS, OIDC claim names); output is strict (urn:oid names with NameFormat uri,
REFEDS OIDCre claim names). Anything outside the vocabulary is dropped by `from_saml` /
`from_oidc` and therefore never forwarded; so are values beyond the caps below.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from broker.identity import Attributes

NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
MACE = "urn:mace:dir:attribute-def:"
MS_CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
MS_2008 = "http://schemas.microsoft.com/ws/2008/06/identity/claims/"
MS_IDENTITY = "http://schemas.microsoft.com/identity/claims/"
MAX_VALUES = 256
"""Values kept per attribute (Entra ID sends at most 150 groups in a SAML token)."""
MAX_VALUE_CHARS = 1024
"""Longer values are dropped: no name, group or identifier of a school comes near this."""
UNCARRIABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""Characters that XML 1.0 cannot carry (and DEL): a value with one is dropped on input, so no
answer to a supplier ever fails on it."""
SCOPED = re.compile(r"[^@\s]{1,64}@([A-Za-z0-9.-]{1,253})")
"""value@scope (eduPersonScopedAffiliation); the scope must be one of the school's."""
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
    microsoft: tuple[str, ...] = ()
    """Microsoft's claim URIs (Entra ID, ADFS): read only where they agree with the
    attribute's own names, or where those are absent (see `from_saml`)."""
    scoped: bool = False
    """Values are value@scope (SCOPED); a scope that is not the school's drops the value."""
    a_scope: bool = False
    """Values are a domain that must itself be one of the school's scopes (Shibboleth's
    ValueMatchesShibMDScope); another domain drops the value."""

    def accepts(self, value: str, scopes: frozenset[str]) -> bool:
        if self.a_scope:
            return value.lower() in scopes
        if self.scoped:
            found = SCOPED.fullmatch(value)
            return found is not None and found.group(1).lower() in scopes
        return self.shape is None or self.shape.fullmatch(value) is not None


VOCABULARY: tuple[Attribute, ...] = (
    Attribute("role", "urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "eduPersonAffiliation",
              "eduperson_affiliation", None, multi_valued=True, label="role (pupil, teacher)",
              microsoft=(MS_2008 + "role",)),
    Attribute("given_name", "urn:oid:2.5.4.42", "givenName", "given_name", "profile",
              label="given name", microsoft=(MS_CLAIMS + "givenname",)),
    Attribute("family_name", "urn:oid:2.5.4.4", "sn", "family_name", "profile",
              aliases=("surname",), label="family name", microsoft=(MS_CLAIMS + "surname",)),
    Attribute("display_name", "urn:oid:2.16.840.1.113730.3.1.241", "displayName", "name",
              "profile", aliases=("cn", "urn:oid:2.5.4.3"), label="display name",
              microsoft=(MS_IDENTITY + "displayname",)),
    Attribute("email", "urn:oid:0.9.2342.19200300.100.1.3", "mail", "email", "email",
              aliases=("emailaddress", "email"), label="e-mail address",
              microsoft=(MS_CLAIMS + "emailaddress",)),
    Attribute("school_domain", "urn:oid:1.3.6.1.4.1.25178.1.2.9", "schacHomeOrganization",
              "schac_home_organization", None, label="school domain", a_scope=True),
    Attribute("school_id", MACE + "nlEduPersonHomeOrganizationId",
              "nlEduPersonHomeOrganizationId", "nl_edu_person_home_organization_id", None,
              multi_valued=True, label="school number (BRIN)"),
    Attribute("school_name", MACE + "nlEduPersonHomeOrganization", "nlEduPersonHomeOrganization",
              "nl_edu_person_home_organization", None, label="school name"),
    Attribute("branch_id", MACE + "nlEduPersonHomeOrganizationBranchId",
              "nlEduPersonHomeOrganizationBranchId", "nl_edu_person_home_organization_branch_id",
              None, multi_valued=True, label="school location (BRIN6)"),
    Attribute("scoped_affiliation", "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
              "eduPersonScopedAffiliation", "eduperson_scoped_affiliation", None,
              multi_valued=True, scoped=True, label="role at the school (student@school)"),
    Attribute("groups", "urn:oid:1.3.6.1.4.1.5923.1.5.1.1", "isMemberOf", "groups", None,
              multi_valued=True,
              aliases=("nlEduPersonUnit", "nlEduPersonOrgUnitId", MACE + "nlEduPersonOrgUnitId",
                       MACE + "nlEduPersonUnit"),
              label="classes and groups", microsoft=(MS_2008 + "groups",)),
    Attribute("eck_id", "urn:mace:surf.nl:attribute-def:eckid", "eckId", "eckid", None,
              sensitive=True, label="ECK iD", shape=ECK_ID),
    Attribute("profile_id", MACE + "nlEduPersonProfileId", "nlEduPersonProfileId",
              "nl_edu_person_profile_id", None, sensitive=True, label="profile id at the school"),
    Attribute("real_id", MACE + "nlEduPersonRealId", "nlEduPersonRealId",
              "nl_edu_person_real_id", None, sensitive=True, label="real id at the school"),
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


def _saml_index(microsoft: bool) -> dict[str, Attribute]:
    index: dict[str, Attribute] = {}
    for attr in VOCABULARY + INTERNAL:
        own = (attr.saml_name, attr.friendly_name, MACE + attr.friendly_name, *attr.aliases)
        for key in attr.microsoft if microsoft else own:
            index[key.lower()] = attr
    return index


_BY_SAML_NAME = _saml_index(microsoft=False)
_BY_MICROSOFT_NAME = _saml_index(microsoft=True)
_BY_CLAIM: Mapping[str, Attribute] = {a.oidc_claim: a for a in VOCABULARY + INTERNAL}


def is_sensitive(name: str) -> bool:
    attr = BY_NAME.get(name)
    return attr is not None and attr.sensitive


def by_saml_name(name: str) -> Attribute | None:
    """The attribute a school's SAML attribute Name (any accepted form) stands for."""
    key = name.lower()
    return _BY_SAML_NAME.get(key) or _BY_MICROSOFT_NAME.get(key)


def _problem(attr: Attribute, value: str, scopes: frozenset[str]) -> str | None:
    if len(value) > MAX_VALUE_CHARS:
        return f"longer than {MAX_VALUE_CHARS} characters"
    if UNCARRIABLE.search(value):
        return "contains control characters"
    if attr.accepts(value, scopes):
        return None
    if attr.scoped or attr.a_scope:
        return "its scope is not one of the school's"
    return "not of the expected shape"


def _collect(pairs: Iterable[tuple[Attribute | None, Iterable[str]]],
             scopes: frozenset[str]) -> Attributes:
    values: dict[str, list[str]] = {}
    dropped: dict[tuple[str, str], None] = {}  # (name, why), logged once each, in order
    for attr, found in pairs:
        if attr is None:
            continue
        bucket = values.setdefault(attr.name, [])
        for value in found:
            if not isinstance(value, str) or not value or value in bucket:
                continue
            why = _problem(attr, value, scopes)
            if why is None and len(bucket) >= MAX_VALUES:
                why = f"more than {MAX_VALUES} values"
            if why is None:
                bucket.append(value)
            else:
                dropped[(attr.name, why)] = None
    for name, why in dropped:
        log.warning("attribute value dropped: %s", why, extra={"attribute": name})
    return {name: tuple(vs) for name, vs in values.items() if vs}


def _as_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _own_or_microsoft(attributes: Mapping[str, Iterable[str]]
                      ) -> list[tuple[Attribute | None, list[str]]]:
    """Each attribute under its own names; under a Microsoft claim URI only where none of its
    own names came. Both with different values: the own name (urn:oid, ...) wins, and the
    conflict is logged by name, never by value."""
    own: list[tuple[Attribute | None, list[str]]] = []
    microsoft: list[tuple[str, Attribute, list[str]]] = []
    for key, vals in attributes.items():
        strings = _as_strings(list(vals))
        attr = _BY_SAML_NAME.get(key.lower())
        foreign = _BY_MICROSOFT_NAME.get(key.lower())
        if attr is not None or foreign is None:
            own.append((attr, strings))
        else:
            microsoft.append((key, foreign, strings))
    sent: dict[str, set[str]] = {}
    for attr, strings in own:
        if attr is not None:
            sent.setdefault(attr.name, set()).update(strings)
    for key, attr, strings in microsoft:
        if attr.name not in sent:
            own.append((attr, strings))
        elif set(strings) != sent[attr.name]:
            log.warning("attribute conflict: the school sent %s with other values than its "
                        "own name; those values are ignored", key,
                        extra={"attribute": attr.name})
    return own


def from_saml(attributes: Mapping[str, Iterable[str]], scopes: Iterable[str] = ()) -> Attributes:
    """Upstream SAML attributes (any accepted name form) -> internal attributes. `scopes`:
    the school's scopes (lower case), for the scoped attributes."""
    return _collect(_own_or_microsoft(attributes), frozenset(scopes))


def from_oidc(claims: Mapping[str, object], scopes: Iterable[str] = ()) -> Attributes:
    """Upstream OIDC claims -> internal attributes; unknown claims are dropped."""
    return _collect(((_BY_CLAIM.get(key), _as_strings(val)) for key, val in claims.items()),
                    frozenset(scopes))


def by_name(values: Mapping[str, object], scopes: Iterable[str] = ()) -> Attributes:
    """Values already under internal names (a school's mapping, broker/mapping.py), checked
    as any upstream's are (a scoped value only under one of `scopes`)."""
    return _collect(((BY_NAME.get(name), _as_strings(found)) for name, found in values.items()),
                    frozenset(scopes))


def to_saml(attributes: Attributes) -> dict[str, tuple[str, ...]]:
    """Internal attributes -> {urn:oid name: values}, for NameFormat uri."""
    return {BY_NAME[name].saml_name: vals for name, vals in attributes.items() if name in BY_NAME}


def to_oidc(attributes: Attributes, scopes: Iterable[str],
            claim: Callable[[Attribute], str] = lambda a: a.oidc_claim
            ) -> dict[str, str | list[str]]:
    """Internal attributes -> claims, bounded by the standard scopes the RP asked for; each
    named by `claim` (a supplier's profile, broker/profiles.py; by default its OIDCre name)."""
    granted = set(scopes)
    claims: dict[str, str | list[str]] = {}
    for name, vals in attributes.items():
        attr = BY_NAME.get(name)
        if attr is None or not vals or (
                attr.oidc_scope is not None and attr.oidc_scope not in granted):
            continue
        claims[claim(attr)] = list(vals) if attr.multi_valued else vals[0]
    return claims
