"""broker/acr.py: the comparisons, the order of classes, the caps, a teacher's minimum."""

from __future__ import annotations

import pytest

from broker import acr
from broker.errors import LoginTooWeak
from broker.records import Supplier, SupplierConfig

PPT = acr.AC + "PasswordProtectedTransport"
PASSWORD = acr.AC + "Password"
MFA = acr.REFEDS_MFA
MOBILE = acr.AC + "MobileTwoFactorContract"


@pytest.mark.parametrize(("asserted", "classes", "comparison", "met"), [
    (PPT, (PPT,), "exact", True),
    (MFA, (PPT,), "exact", False),
    (MFA, (PPT,), "minimum", True),
    (MOBILE, (MFA,), "minimum", True),
    (PASSWORD, (PPT,), "minimum", False),
    (PPT, (PPT,), "minimum", True),
    (PPT, (MFA,), "maximum", True),
    (MFA, (PPT,), "maximum", False),
    (MFA, (PPT,), "better", True),
    (PPT, (PPT,), "better", False),
    (MFA, (PASSWORD, MFA), "exact", True),
    ("urn:school:own", ("urn:school:own",), "exact", True),
    ("urn:school:own", ("urn:school:own",), "minimum", True),
    ("urn:school:own", ("urn:school:own",), "better", False),
    ("urn:school:own", (PASSWORD,), "minimum", False),
    (MFA, ("urn:school:own",), "minimum", False),
    (None, (PPT,), "minimum", False),
    (None, (), "exact", True),
], ids=lambda value: str(value).rsplit(":", 1)[-1].rsplit("/", 1)[-1])
def test_comparisons(asserted: str | None, classes: tuple[str, ...], comparison: str,
                     met: bool) -> None:
    assert acr.satisfies(asserted, classes, comparison) is met


def test_only_a_required_request_can_be_unanswered() -> None:
    assert not acr.answered(acr.AcrRequest((MFA,)), PPT)
    assert acr.answered(acr.AcrRequest((MFA,), required=False), PPT)
    assert acr.answered(None, None)


@pytest.mark.parametrize(("classes", "comparison", "says"), [
    ((PPT,), "atleast", "Comparison"),
    ((PPT,) * 17, "exact", "17 classes"),
    (("x" * 1025,), "exact", "1024"),
    (("",), "exact", "empty"),
])
def test_problems(classes: tuple[str, ...], comparison: str, says: str) -> None:
    problem = acr.problem(classes, comparison)
    assert problem is not None and says in problem


def test_within_the_caps_is_no_problem() -> None:
    assert acr.problem((PPT,) * 16, "better") is None
    assert acr.problem(("x" * 1024,)) is None


def supplier(employee_acr: str | None) -> Supplier:
    return Supplier("app", "De App", SupplierConfig(), "app", 1, url="https://app.example",
                    employee_acr=employee_acr)


def test_a_teacher_below_the_suppliers_minimum_is_refused() -> None:
    with pytest.raises(LoginTooWeak) as refused:
        acr.check_employee(supplier(MFA), ("employee",), PPT)
    assert "stronger" in str(refused.value) and refused.value.back_url == "https://app.example"


@pytest.mark.parametrize(("employee_acr", "roles", "asserted"), [
    (MFA, ("employee",), MFA), (MFA, ("employee",), MOBILE), (MFA, ("student",), PPT),
    (None, ("employee",), None),
])
def test_others_pass(employee_acr: str | None, roles: tuple[str, ...],
                     asserted: str | None) -> None:
    acr.check_employee(supplier(employee_acr), roles, asserted)
