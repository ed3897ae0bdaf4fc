"""Authentication context: what a supplier asks of the school's login, and whether an answer
meets it (SAML core 3.3.2.2.1 RequestedAuthnContext; OIDC Core 3.1.2.1 acr_values).

The comparisons `minimum`, `maximum` and `better` need an order of classes. Loper keeps a
small one, from weakest to strongest:

    1  urn:oasis:names:tc:SAML:2.0:ac:classes:Password
    2  urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport
    3  urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract,
       https://refeds.org/profile/mfa

A class outside this list satisfies only a request that names it exactly (and never `better`).
No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from broker.errors import LoginTooWeak
from broker.records import Supplier

AC = "urn:oasis:names:tc:SAML:2.0:ac:classes:"
REFEDS_MFA = "https://refeds.org/profile/mfa"
STRENGTH = {
    AC + "Password": 1,
    AC + "PasswordProtectedTransport": 2,
    AC + "MobileTwoFactorContract": 3,
    REFEDS_MFA: 3,
}
COMPARISONS = ("exact", "minimum", "maximum", "better")
MAX_CLASSES = 16
MAX_CLASS = 1024
"""Caps on a request: classes, and characters of one class."""


@dataclass(frozen=True)
class AcrRequest:
    """What the supplier asked: kept in the pending login, passed on to the school."""

    classes: tuple[str, ...]
    comparison: str = "exact"
    required: bool = True
    """SAML: an answer that does not satisfy it is refused (NoAuthnContext). OIDC acr_values
    are voluntary: passed on, never a reason to refuse."""


def problem(classes: Sequence[str], comparison: str = "exact") -> str | None:
    """Why a requested context cannot be accepted, or None."""
    if comparison not in COMPARISONS:
        return (f"the Comparison {comparison[:40]!r} is not one of "
                + ", ".join(COMPARISONS))
    if len(classes) > MAX_CLASSES:
        return f"it names {len(classes)} classes; at most {MAX_CLASSES} are accepted"
    if any(not c or len(c) > MAX_CLASS for c in classes):
        return f"a class is empty or longer than {MAX_CLASS} characters"
    return None


def _meets(asserted: str, wanted: str, comparison: str) -> bool:
    mine, theirs = STRENGTH.get(asserted), STRENGTH.get(wanted)
    if comparison == "better":
        return mine is not None and theirs is not None and mine > theirs
    if asserted == wanted:
        return True
    if comparison == "exact" or mine is None or theirs is None:
        return False
    return mine >= theirs if comparison == "minimum" else mine <= theirs


def satisfies(asserted: str | None, classes: Sequence[str], comparison: str = "exact") -> bool:
    """Does the school's class (None: it named none) meet one of `classes` by `comparison`?
    Nothing asked for: always."""
    if not classes:
        return True
    return asserted is not None and any(_meets(asserted, c, comparison) for c in classes)


def answered(request: AcrRequest | None, asserted: str | None) -> bool:
    """False only when a required request is not met by the school's class."""
    return (request is None or not request.required
            or satisfies(asserted, request.classes, request.comparison))


def check_employee(supplier: Supplier, roles: Sequence[str], asserted: str | None) -> None:
    """Raise LoginTooWeak when an employee's login is weaker than the supplier's
    employee_acr (compared as `minimum`)."""
    wanted = supplier.employee_acr
    if wanted and "employee" in roles and not satisfies(asserted, (wanted,), "minimum"):
        raise LoginTooWeak(f"{supplier.name} requires teachers to log in with a stronger "
                           "method (such as a second factor) than this login at your school. "
                           "Log in at your school again with that method, or ask your ICT "
                           "coordinator.", back_url=supplier.url, supplier_name=supplier.name)
