"""What a supplier asks for, and why: the supplier admin's one write. A change is recorded in
the audit trail of every school that has a release entry for the supplier (in the same
transaction), since each of those schools decides its release on what the supplier asks.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from broker import attributes
from broker.jsonvalue import Json
from broker.plain_text import is_plain, tidy
from broker.records import AttributeRequest
from broker.registry import audit
from broker.registry.ledger import Ledger
from broker.registry.models import ReleasePolicyRow, SupplierRow

MAX_WHY = 300
"""The longest reason, in characters, in any language."""

Fields = list[dict[str, str]]


def replace(ledger: Ledger, supplier_id: str, requests: Sequence[AttributeRequest],
            by: str) -> None:
    """The supplier's requests become `requests` (reasons stripped); ValueError says what is
    wrong (an unknown attribute, a reason missing or too long, an unknown supplier)."""
    unknown = {r.attribute for r in requests} - attributes.NAMES
    if unknown:
        raise ValueError("unknown attributes: " + ", ".join(sorted(unknown)))
    stripped = [AttributeRequest.of({k: v.strip() for k, v in r.fields().items()})
                for r in requests]
    wrong = {reason_problem(r) for r in stripped} - {None}
    if "missing_or_long" in wrong:
        raise ValueError(f"every request needs a reason of 1 to {MAX_WHY} characters")
    if wrong:
        raise ValueError("a reason must be plain text (no control or direction characters)")
    kept: Fields = [r.fields() for r in stripped]
    # Changes a supplier record: the commit raises the registry version (cache.py)
    with ledger.writing() as chain:
        row = chain.session.get(SupplierRow, supplier_id)
        if row is None:
            raise ValueError(f'unknown supplier "{supplier_id}"')
        before: Fields = list(row.requests)
        if before == kept:
            return
        row.requests = kept
        schools = chain.session.scalars(select(ReleasePolicyRow.school_id).where(
            ReleasePolicyRow.supplier_id == supplier_id))
        for school_id in sorted(schools):
            chain.add(audit.audit_row(school_id, supplier_id, by, "requests", state(before),
                                      state(kept)))


def reason_problem(request: AttributeRequest) -> str | None:
    """What is wrong with a request's reasons: "missing_or_long" (none written, or one over
    MAX_WHY characters; one that shows nothing is none), "not_plain" (a control or direction
    character), or None."""
    texts = request.texts
    if not texts or not all(map(tidy, texts)) or any(len(text) > MAX_WHY for text in texts):
        return "missing_or_long"
    return None if all(is_plain(text) for text in texts) else "not_plain"


def state(requests: Fields) -> dict[str, Json]:
    """Requests as the audit trail shows them: the attributes asked for, and the reasons."""
    return {"asks_for": [r["attribute"] for r in requests],
            "reasons": [dict(r) for r in requests]}
