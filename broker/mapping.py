"""A school's own names for the vocabulary: `[schools.claims]`, `[schools.roles]` and
`default_role`, applied in one place for every protocol.

The protocol adapter reads what it can by the vocabulary's standard names (attributes.py,
`from_saml` / `from_oidc`); this module then takes, per vocabulary name the school maps, the
values of the school's own claim or attribute Name instead (an Entra ID `roles` or `upn`, an
ADFS claim URI), turns the school's role values into Loper's, and refuses answers of absurd
size. No I/O, no Flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from broker.attributes import by_name
from broker.errors import UpstreamRejected
from broker.identity import Attributes
from broker.records import School

ROLES = ("student", "employee")
"""What a school's role values map to (besides the school's `guardian_role`)."""
MAX_ITEMS = 500
"""Claims or attributes in one answer."""
MAX_VALUES = 1000
"""Values of one claim or attribute (a teacher in many groups, not more)."""
MAX_CHARS = 4096
"""Characters of one value."""
GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
"""An Entra ID group's object id: meaningless to a supplier, so never a group unless mapped."""


def translates_roles(school: School) -> bool:
    """A school that names its roles (or a default) gets only Loper's role values."""
    return bool(school.roles) or school.default_role is not None or "role" in (school.claims or {})


def map_attributes(school: School, raw: Mapping[str, object], standard: Attributes,
                   scopes: Iterable[str] = ()) -> Attributes:
    """`standard` (what the adapter read by the vocabulary's names) with the school's mapping
    applied to the school's `raw` claims or attributes; mapped scoped values are kept only
    under one of the school's `scopes`, as the adapter's own."""
    check_size(raw)
    found = dict(standard)
    claims = school.claims or {}
    for name, source in claims.items():
        found.pop(name, None)
        found.update(by_name({name: _lookup(raw, source)}, scopes))
    if "groups" not in claims and "groups" in found:
        found["groups"] = tuple(g for g in found["groups"] if not GUID.fullmatch(g))
    if translates_roles(school):
        found["role"] = _roles(school, found.get("role", ()))
    return {name: values for name, values in found.items() if values}


def check_size(raw: Mapping[str, object]) -> None:
    """Refuse an answer too large to be a person's: too many claims, values, or characters."""
    if len(raw) > MAX_ITEMS:
        raise UpstreamRejected(f"Your school's answer carries {len(raw)} claims or attributes; "
                               f"Loper accepts at most {MAX_ITEMS}.")
    for key, value in raw.items():
        values = value if isinstance(value, list | tuple) else [value]
        shown = key[:80] if key.isprintable() else "(unprintable name)"
        if len(values) > MAX_VALUES:
            raise UpstreamRejected(f"Your school's answer carries {len(values)} values of "
                                   f"'{shown}'; Loper accepts at most {MAX_VALUES}.")
        if len(key) > MAX_CHARS or any(isinstance(v, str) and len(v) > MAX_CHARS
                                       for v in values):
            raise UpstreamRejected(f"Your school's answer carries a value of '{shown}' longer "
                                   f"than {MAX_CHARS} characters.")


def _lookup(raw: Mapping[str, object], source: str) -> object:
    if source in raw:
        return raw[source]
    folded = source.lower()  # SAML attribute Names are compared without case
    return next((v for k, v in raw.items() if k.lower() == folded), None)


def role_targets(guardian_role: str | None) -> tuple[str, ...]:
    """What a school's role values may map to: Loper's roles and the school's guardian role."""
    return (*ROLES, *((guardian_role,) if guardian_role else ()))


def _roles(school: School, values: tuple[str, ...]) -> tuple[str, ...]:
    """The school's role values as Loper's; a value that maps to nothing is dropped, never
    passed on, and nobody left without a role gets the default role (or none)."""
    targets = role_targets(school.guardian_role)
    table = school.roles or {}
    mapped: list[str] = []
    for value in values:
        role = table.get(value, value if value in targets else None)
        if role is not None and role not in mapped:
            mapped.append(role)
    if not mapped and school.default_role is not None:
        mapped.append(school.default_role)
    return tuple(mapped)
