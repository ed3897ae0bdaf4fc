"""Activating a supplier for a school: the school's decision that the supplier may have the
pseudonym (and whatever the school releases), under a processing agreement that may end.

No Flask here: the status of a pair for the overview, and the activation form read and checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from broker.plain_text import is_plain, tidy
from broker.records import Policy
from broker.registry.parse import MAX_AGREEMENT

WARN_DAYS = 30
"""The portal warns this many days before an agreement's last day."""


def can_suspend(policy: Policy | None) -> bool:
    """Suspending is the emergency stop of a supplier the school has activated (its
    agreement may have ended). A supplier never activated, or deactivated, gets nothing
    already: there is nothing to stop, and the school's decision about it is activation."""
    return policy is not None and policy.active


def status(policy: Policy | None, today: date) -> str:
    """"new" (never activated, though its release may be saved already), "inactive"
    (deactivated), "suspended", "ended" (past valid_until), "ending" (valid_until within
    WARN_DAYS) or "active"."""
    if policy is None or policy.never_activated:
        return "new"
    if not policy.active:
        return "inactive"
    if policy.suspended_reason is not None:
        return "suspended"
    if policy.valid_until is not None and policy.valid_until < today:
        return "ended"
    if policy.valid_until is not None and policy.valid_until <= today + timedelta(WARN_DAYS):
        return "ending"
    return "active"


@dataclass(frozen=True)
class Agreement:
    reference: str | None
    valid_until: date | None


@dataclass(frozen=True)
class AgreementForm:
    """What the admin typed (shown again on an error) and the text key of the first problem."""

    reference: str
    valid_until: str
    problem: str | None = None

    def agreement(self) -> Agreement:
        assert self.problem is None
        until = date.fromisoformat(self.valid_until) if self.valid_until else None
        return Agreement(self.reference or None, until)


def read_form(form: Mapping[str, str], today: date) -> AgreementForm:
    reference = tidy(form.get("agreement", ""))
    until = form.get("valid_until", "").strip()
    typed = AgreementForm(reference[:MAX_AGREEMENT], until[:10])
    if len(reference) > MAX_AGREEMENT:
        return AgreementForm(typed.reference, typed.valid_until, "agreement_too_long")
    if not is_plain(reference):  # pupils read it on /me
        return AgreementForm(typed.reference, typed.valid_until, "plain_text")
    if not until:
        return typed
    try:
        last_day = date.fromisoformat(until)
    except ValueError:
        return AgreementForm(typed.reference, typed.valid_until, "bad_valid_until")
    if len(until) != 10 or last_day < today:
        problem = "bad_valid_until" if len(until) != 10 else "valid_until_past"
        return AgreementForm(typed.reference, typed.valid_until, problem)
    return typed
