"""Changes of a school's release entry for one supplier (its activation, agreement, release
and suspension), each written with its audit row in the same transaction (Ledger.writing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

from broker.records import Policy
from broker.registry import audit, convert
from broker.registry.ledger import Chain
from broker.registry.models import ReleasePolicyRow, SchoolRow, SupplierRow

Change = Callable[[Policy | None], Policy | None]
"""The entry as it is (None: none yet) -> as it becomes (None, or the same: no change)."""


def write(chain: Chain, school_id: str, supplier_id: str, change: Change, by: str,
          reason: audit.Reason = None) -> str:
    """Apply `change` to the pair's entry and record it in the audit trail, in `chain`'s
    transaction. Returns "added", "updated" or "unchanged"; ValueError for unknown ids."""
    session = chain.session
    row = session.get(ReleasePolicyRow, (school_id, supplier_id))
    before = convert.policy_record(row) if row is not None else None
    after = _marked(before, change(before))
    if after is None or after == before:
        return "unchanged"
    if row is None:
        for kind, ident in ((SchoolRow, school_id), (SupplierRow, supplier_id)):
            if session.get(kind, ident) is None:
                raise ValueError(f'unknown {kind.__tablename__[:-1]} "{ident}"')
    outcome = convert.upsert(session, row, ReleasePolicyRow, convert.policy_values(after))
    chain.add(audit.policy_row(before, after, by, reason))
    return outcome


def _marked(before: Policy | None, after: Policy | None) -> Policy | None:
    """`after` with `activated_once` as the registry alone decides it, whatever the caller's
    Policy says: true from the first time the pair is active on, never cleared."""
    if after is None:
        return None
    once = after.active or (before is not None and before.activated_once)
    return dataclasses.replace(after, activated_once=once)


class ReleaseChanged(Exception):
    """The entry is no longer the one a change was made from (another admin saved it in
    between): nothing was stored."""


def replaced_by(policy: Policy,
                if_current: Callable[[Policy | None], bool] | None = None) -> Change:
    """`policy` in place of the entry; `if_current`: only if the entry as it stands inside the
    write passes it (else ReleaseChanged, and the transaction stores nothing)."""
    def change(current: Policy | None) -> Policy:
        if if_current is not None and not if_current(current):
            raise ReleaseChanged(f"{policy.school_id}/{policy.supplier_id} changed meanwhile")
        return policy
    return change


def activated(school_id: str, supplier_id: str, agreement: str | None,
              valid_until: date | None) -> Change:
    """The supplier may have the pseudonym and whatever the school releases to it."""
    return lambda current: dataclasses.replace(
        current or Policy(school_id, supplier_id), active=True, agreement=agreement,
        valid_until=valid_until)


def deactivated(current: Policy | None) -> Policy | None:
    """Nothing any more; the release stays on record."""
    return dataclasses.replace(current, active=False) if current is not None else None


def suspended(school_id: str, supplier_id: str, reason: str) -> Change:
    """Every login stops at once (a pair not yet activated stays so, suspended)."""
    return lambda current: dataclasses.replace(
        current or Policy(school_id, supplier_id, active=False, activated_once=False),
        suspended_reason=reason)


def resumed(current: Policy | None) -> Policy | None:
    return dataclasses.replace(current, suspended_reason=None) if current is not None else None
