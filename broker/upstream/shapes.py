"""Test people in a school's own shape, for the admin's preview: what the school's software
would send about a pupil or a teacher, before Loper reads it.

Each protocol kind builds the answer itself (oidc_shapes.py, saml_shapes.py: an Entra ID or
Google ID token, an Entra ID or ADFS assertion with Microsoft's claim URIs, or the education
vocabulary); this module holds what they share: the person, and the school's own role value
and domain for them. No I/O.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from broker.records import School


@dataclass(frozen=True)
class Sample:
    """A test person, in Loper's terms: the kinds turn it into the school's shape."""

    role: str
    """"student" or "employee": the school's own value for it is sent (`role_value`)."""
    given_name: str
    family_name: str
    subject: str
    """A stable id at the school (Entra's oid, Google's sub, a NameID)."""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)
    """Vocabulary name -> value the answer must carry as well (the `match` of a school behind a
    hub), under the name the school's mapping reads it by."""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def email(self, domain: str) -> str:
        return f"{self.given_name}.{self.family_name}".lower().replace(" ", "") + f"@{domain}"


def guid(*parts: str) -> str:
    """A stable object id of Entra ID's shape (a tenant, a person, a group), from `parts`."""
    return str(uuid.UUID(hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]))


def role_value(school: School, role: str) -> str:
    """The school's own value for `role`: the first of its `[schools.roles]` that maps to it,
    else Loper's value itself."""
    return next((value for value, target in (school.roles or {}).items() if target == role),
                role)


def domain(school: School, fallback: str | None = None) -> str:
    """The school's first domain, else `fallback`, else an example domain of its id."""
    return school.domains[0] if school.domains else fallback or f"{school.id}.example"


def put(answer: dict[str, object], school: School, sample: Sample, role_name: str | None,
        names: Mapping[str, str], many: bool) -> dict[str, object]:
    """`answer` with the role under the name the school's mapping reads it by (or `role_name`;
    None: a shape that carries no role) and the sample's extra values under theirs (or
    `names`, the protocol's own); lists of values where `many`."""
    def value(text: str) -> object:
        return [text] if many else text

    claims = school.claims or {}
    source = claims.get("role", role_name)
    if source is not None:
        answer[source] = value(role_value(school, sample.role))
    for name, text in sample.extra.items():
        answer[claims.get(name, names.get(name, name))] = value(text)
    return answer
