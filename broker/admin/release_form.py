"""The school admin's release form: one choice per attribute, turned into a proposed Policy.

No Flask here. Only the attributes shown on the form are read from it (what the supplier asks
for, and what is released to it today); any other field is ignored, so posting `school_id`,
`suspended_reason` or an attribute nobody asked for changes nothing.

The form also carries the fingerprint of the release it was built from (form_version.FIELD):
a save from a form built from another release than the current one (another admin saved in
between) is refused, so that one admin's old page never silently undoes another's change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from broker import attributes
from broker.admin import form_version
from broker.jsonvalue import Json
from broker.records import AttributeRequest, Policy, Supplier

ROLES = ("student", "employee")
"""eduPersonAffiliation values the form offers: a pupil and a teacher."""
BOTH = "student+employee"
CHOICES = ("none", "all", *ROLES)
FIELD_PREFIX = "release-"
Release = tuple[frozenset[str], dict[str, frozenset[str]]]
"""What a release entry sends: its attributes for everyone, and per role (none empty)."""


@dataclass(frozen=True)
class Row:
    name: str
    asked: AttributeRequest | None
    """The supplier's request, with its reason; None when it does not (or no longer) ask
    for it."""
    choice: str
    sensitive: bool


def released_to(policy: Policy | None, name: str) -> str:
    """The form's choice that shows how `policy` releases attribute `name`."""
    if policy is None:
        return "none"
    if name in policy.attributes:
        return "all"
    roles = {role for role in ROLES if name in policy.by_role.get(role, frozenset())}
    if roles == set(ROLES):
        return BOTH
    return roles.pop() if roles else "none"


def rows(supplier: Supplier, policy: Policy | None) -> list[Row]:
    """What the form shows: the requested attributes in the supplier's order, then any
    attribute released without being asked for (so the admin can withdraw it)."""
    asked = {r.attribute: r for r in supplier.requests}
    released = set(policy.attributes).union(*policy.by_role.values()) if policy else set()
    names = list(asked) + [a.name for a in attributes.VOCABULARY
                           if a.name in released and a.name not in asked]
    return [Row(name, asked.get(name), released_to(policy, name),
                attributes.is_sensitive(name)) for name in names if name in attributes.NAMES]


def released(supplier: Supplier, policy: Policy | None) -> tuple[Row, ...]:
    """The rows of what the release entry sends to someone (pupils, teachers or both)."""
    return tuple(row for row in rows(supplier, policy) if row.choice != "none")


def choices_from(form: Mapping[str, str], shown: list[Row]) -> dict[str, str]:
    """The choice per shown attribute; a missing or unknown value keeps what is released now."""
    picked: dict[str, str] = {}
    for row in shown:
        value = form.get(FIELD_PREFIX + row.name, row.choice)
        allowed = CHOICES + ((BOTH,) if row.choice == BOTH else ())
        picked[row.name] = value if value in allowed else row.choice
    return picked


def proposed_policy(school_id: str, supplier_id: str, current: Policy | None,
                    choices: Mapping[str, str]) -> Policy:
    """`current` with the choices applied; activation, agreement, suspension and other roles
    kept as they are (a pair without a release entry stays not activated)."""
    names = set(current.attributes) if current else set()
    by_role = {role: set(extra) for role, extra in (current.by_role.items() if current else ())}
    for name, choice in choices.items():
        names.discard(name)
        for role in ROLES:
            by_role.get(role, set()).discard(name)
        if choice == "all":
            names.add(name)
        for role in ROLES:
            if choice in (role, BOTH):
                by_role.setdefault(role, set()).add(name)
    release = Policy(school_id=school_id, supplier_id=supplier_id, active=False,
                     activated_once=False, attributes=frozenset(names),
                     by_role={role: frozenset(extra) for role, extra in sorted(by_role.items())
                              if extra})
    if current is None:
        return release
    return dataclasses.replace(current, attributes=release.attributes, by_role=release.by_role)


def release_of(policy: Policy | None) -> Release:
    """What `policy` releases; no entry releases nothing."""
    if policy is None:
        return frozenset(), {}
    return policy.attributes, {r: v for r, v in policy.by_role.items() if v}


def same_release(a: Policy | None, b: Policy) -> bool:
    return release_of(a) == release_of(b)


def fingerprint(policy: Policy | None) -> str:
    """A short fingerprint of what `policy` releases (its attributes and by_role): the same for
    the same release, in any process; another one after any change to it. Not secret: it only
    says which release a form was built from."""
    names, by_role = release_of(policy)
    return form_version.fingerprint([sorted(names), {r: sorted(v) for r, v in by_role.items()}])


def _names(value: Json) -> frozenset[str]:
    return frozenset(v for v in value if isinstance(v, str)) if isinstance(value, list) \
        else frozenset()


def state_release(state: Mapping[str, Json] | None) -> Release:
    """The release in an audit row's before or after (broker/registry/audit.py policy_state)."""
    values = state or {}
    by_role = values.get("by_role")
    roles = by_role.items() if isinstance(by_role, dict) else ()
    return _names(values.get("attributes")), {r: n for r, v in roles if (n := _names(v))}
