"""The parent view of /me: a parent who logs in through their child's school sees the child's
overview, where the school says who the parent is and whose parent.

What a school provides (see the README): `guardian_role` in its federation entry, the role
value (eduPersonAffiliation, or the school's role claim) its login gives parents; and, in the
parent's login, `guardianOf` (SAML) or `guardian_of` (OIDC) listing each child as their id at
the school (the same id Loper identifies the pupil by) or, at a school that links by ECK iD,
their ECK iD. A child the school does not name is never shown.
"""

from __future__ import annotations

from broker.attributes import ECK_ID, GUARDIAN_OF
from broker.identity import Person
from broker.keys import PseudonymKeys
from broker.pseudonym import anchor, eck_hash
from broker.records import School
from broker.registry import Registry

MAX_CHILDREN = 12
PUPIL = {"role": ("student",)}
"""What a child's overview assumes of them: a pupil (for what each app would get now)."""


def is_guardian(school: School, person: Person) -> bool:
    return school.guardian_role is not None and school.guardian_role in person.roles


def children(registry: Registry, keys: PseudonymKeys, school: School,
             parent: Person) -> list[Person]:
    """The children this parent's school names, as pupils of the school; none for others."""
    if not is_guardian(school, parent):
        return []
    found: list[Person] = []
    for value in parent.attributes.get(GUARDIAN_OF.name, ())[:MAX_CHILDREN]:
        raw = (registry.eck_ids().anchor_at(eck_hash(keys, value), school.id)
               if ECK_ID.fullmatch(value) else anchor(keys, school.id, value))
        if raw is None:  # an ECK iD none of the school's pupils arrived with
            continue
        child = Person(school.id, registry.resolve_anchor(raw), PUPIL, parent.authn)
        if child not in found:
            found.append(child)
    return found
