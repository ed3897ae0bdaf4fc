"""The one release decision: what does this supplier get for this person?

Called by the login flow and by the admin's preview alike, so a preview is exactly what is
sent. A supplier the school has not activated (no release entry for the pair, or one the
school deactivated) gets nothing; an activated one gets the pseudonym, and every other
attribute needs the school's release, per attribute, optionally per role. The processing
agreement's `valid_until` is its last valid day: from the day after, nothing is released.
"""

from __future__ import annotations

from datetime import date

from broker.errors import SupplierNotActivated, SupplierSuspended
from broker.identity import Person, Released
from broker.keys import PseudonymKeys
from broker.pseudonym import pseudonym
from broker.records import Policy, School, Supplier


def released_names(policy: Policy | None, roles: tuple[str, ...]) -> frozenset[str]:
    """The attribute names the school releases to this supplier for someone with these roles."""
    if policy is None:
        return frozenset()
    names = set(policy.attributes)
    for role in roles:
        names |= policy.by_role.get(role, frozenset())
    return frozenset(names)


def check_open(school: School, supplier: Supplier, policy: Policy | None, today: date) -> None:
    """Raise SupplierNotActivated when the school has not activated the supplier, and
    SupplierSuspended when it suspended the supplier or their agreement lapsed."""
    names = {"school": school.name, "supplier": supplier.name}
    if policy is None or not policy.active:
        raise SupplierNotActivated(
            f"school {school.id} has not activated supplier {supplier.id}", params=names,
            supplier_name=supplier.name, back_url=supplier.url)
    if policy.suspended_reason is not None:
        raise SupplierSuspended(
            f"school {school.id} has suspended supplier {supplier.id}", params=names,
            reason=policy.suspended_reason, supplier_name=supplier.name, back_url=supplier.url)
    if policy.valid_until is not None and today > policy.valid_until:
        raise SupplierSuspended(
            f"the agreement of school {school.id} with supplier {supplier.id} ran until "
            f"{policy.valid_until.isoformat()}", code="agreement_ended", params=names,
            supplier_name=supplier.name, back_url=supplier.url)


def decide(person: Person, school: School, supplier: Supplier, policy: Policy | None,
           keys: PseudonymKeys, today: date) -> Released:
    """Person + school + supplier -> Released, or SupplierSuspended."""
    check_open(school, supplier, policy, today)
    names = released_names(policy, person.roles)
    attributes = {name: values for name, values in person.attributes.items() if name in names}
    return Released(
        school_id=school.id,
        supplier_id=supplier.id,
        subject=pseudonym(keys, supplier.key_version, supplier.sector, person.anchor),
        attributes=attributes,
        authn=person.authn,
    )
