"""The one release decision."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from broker.downstream.oidc_kind import OidcSupplier
from broker.downstream.saml_kind import SamlSupplier
from broker.errors import SupplierNotActivated, SupplierSuspended
from broker.identity import AuthnContext, Person
from broker.keys import PseudonymKeys
from broker.records import Policy, School, Supplier
from broker.release import decide
from broker.upstream.saml_kind import SamlSchool

KEYS = PseudonymKeys(anchor=b"a" * 32, versions={1: b"1" * 32}, current=1)
SCHOOL = School(id="regenboog", name="OBS De Regenboog",
                config=SamlSchool("", "https://idp.regenboog.example"))
SAML_SP = SamlSupplier("", "https://rekenwonders.example/sp")
SUPPLIER = Supplier(id="rekenwonders", name="Rekenwonders", config=SAML_SP,
                    sector="rekenwonders", key_version=1, url="https://rekenwonders.example/")
TODAY = date(2026, 11, 28)


def person(role: str = "student") -> Person:
    return Person(school_id="regenboog", anchor="f00d",
                  attributes={"role": (role,), "given_name": ("Sanne",),
                              "email": ("sanne@regenboog.example",), "eck_id": ("eck-1",)},
                  authn=AuthnContext(datetime(2026, 11, 28, 8, 0, tzinfo=UTC)))


def policy(**kwargs: object) -> Policy:
    return Policy(school_id="regenboog", supplier_id="rekenwonders", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("entry", [None, policy(attributes=frozenset({"role"}), active=False)],
                         ids=["no release entry", "deactivated"])
def test_a_supplier_not_activated_gets_nothing(entry: Policy | None) -> None:
    with pytest.raises(SupplierNotActivated) as caught:
        decide(person(), SCHOOL, SUPPLIER, entry, KEYS, TODAY)
    assert caught.value.params == {"school": "OBS De Regenboog", "supplier": "Rekenwonders"}
    assert caught.value.status == 403
    assert caught.value.code == "supplier_not_activated"


def test_activated_with_no_attributes_releases_the_pseudonym_only() -> None:
    released = decide(person(), SCHOOL, SUPPLIER, policy(), KEYS, TODAY)
    assert released.attributes == {}
    assert released.subject.startswith("v1-")


def test_only_released_attributes_leave() -> None:
    released = decide(person(), SCHOOL, SUPPLIER,
                      policy(attributes=frozenset({"given_name", "role"})), KEYS, TODAY)
    assert released.attributes == {"given_name": ("Sanne",), "role": ("student",)}


def test_role_conditions_add_attributes_for_that_role_only() -> None:
    rule = policy(attributes=frozenset({"role"}), by_role={"employee": frozenset({"email"})})
    assert "email" not in decide(person("student"), SCHOOL, SUPPLIER, rule, KEYS, TODAY).attributes
    teacher = decide(person("employee"), SCHOOL, SUPPLIER, rule, KEYS, TODAY)
    assert teacher.attributes["email"] == ("sanne@regenboog.example",)


def test_eck_id_needs_its_own_explicit_release() -> None:
    everything_else = frozenset({"role", "given_name", "email"})
    assert "eck_id" not in decide(person(), SCHOOL, SUPPLIER, policy(attributes=everything_else),
                                  KEYS, TODAY).attributes
    explicit = policy(attributes=everything_else | {"eck_id"})
    assert decide(person(), SCHOOL, SUPPLIER, explicit, KEYS, TODAY).attributes["eck_id"]


def test_suspended_supplier_gets_nothing_and_the_page_names_both() -> None:
    with pytest.raises(SupplierSuspended) as caught:
        decide(person(), SCHOOL, SUPPLIER, policy(suspended_reason="datalek in onderzoek"),
               KEYS, TODAY)
    assert caught.value.params == {"school": "OBS De Regenboog", "supplier": "Rekenwonders"}
    assert caught.value.reason == "datalek in onderzoek"
    assert caught.value.status == 403


def test_lapsed_agreement_stops_release() -> None:
    with pytest.raises(SupplierSuspended):
        decide(person(), SCHOOL, SUPPLIER,
               policy(attributes=frozenset({"role"}), valid_until=date(2026, 7, 31)), KEYS, TODAY)


def test_valid_until_is_the_last_day_with_releases() -> None:
    """On its valid_until day the agreement still holds; the day after, nothing leaves."""
    entry = policy(attributes=frozenset({"role"}), valid_until=TODAY)
    assert decide(person(), SCHOOL, SUPPLIER, entry, KEYS, TODAY).attributes == {
        "role": ("student",)}
    with pytest.raises(SupplierSuspended, match="ran until 2026-11-28"):
        decide(person(), SCHOOL, SUPPLIER, entry, KEYS, date(2026, 11, 29))


def test_the_pseudonym_follows_the_suppliers_sector() -> None:
    sibling = Supplier(id="rekenwonders-plus", name="Rekenwonders Plus",
                       config=OidcSupplier("rekenwonders-plus"),
                       sector="rekenwonders", key_version=1)
    other = Supplier(id="taalapp", name="Taalapp", config=SAML_SP, sector="taalapp",
                     key_version=1)
    a = decide(person(), SCHOOL, SUPPLIER, policy(), KEYS, TODAY).subject
    assert decide(person(), SCHOOL, sibling, policy(), KEYS, TODAY).subject == a
    assert decide(person(), SCHOOL, other, policy(), KEYS, TODAY).subject != a
