"""Cross-tenant access: an admin reaches their own school or supplier and nothing else.

Another tenant's id in the URL is a 404 (the same as an unknown id, so nothing is learnt);
another tenant's id in a form field is ignored. Every refused write leaves the registry as
it was.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from broker.registry import Registry
from broker.registry.admins import Admins
from tests.admin.conftest import (
    OIDC_SUPPLIER,
    PASSWORD,
    SAML_SUPPLIER,
    SCHOOL_A,
    SCHOOL_B,
    Portal,
    as_admin,
)
from tests.registry.helpers import snapshot

B_PAGES = [f"/admin/schools/{SCHOOL_B}",
           f"/admin/schools/{SCHOOL_B}/suppliers/{SAML_SUPPLIER}",
           f"/admin/schools/{SCHOOL_B}/ledger",
           f"/admin/schools/{SCHOOL_B}/ledger.csv"]


@pytest.mark.parametrize("url", B_PAGES + [u.replace(SCHOOL_B, "no-such-school") for u in B_PAGES])
def test_another_schools_pages_look_like_unknown_ones(school_a: Portal, url: str) -> None:
    response = school_a.get(url)
    assert response.status_code == 404
    assert "Het Lyceum" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "form"), [
    (f"/suppliers/{SAML_SUPPLIER}", {"action": "save", "release-given_name": "none",
                                     "release-groups": "none", "release-email": "all"}),
    (f"/suppliers/{SAML_SUPPLIER}", {"action": "preview", "release-email": "all"}),
    (f"/suppliers/{SAML_SUPPLIER}/suspend", {"reason": "taken over"}),
    (f"/suppliers/{SAML_SUPPLIER}/resume", {}),
])
def test_writes_to_another_school_are_refused_and_change_nothing(
        school_a: Portal, registry: Registry, path: str, form: dict[str, object]) -> None:
    registry.suspend(SCHOOL_B, OIDC_SUPPLIER, "B's own decision")
    before = snapshot(registry)
    for url in (f"/admin/schools/{SCHOOL_B}{path}",
                f"/admin/schools/{SCHOOL_B}{path.replace(SAML_SUPPLIER, OIDC_SUPPLIER)}"):
        assert school_a.post(url, form).status_code == 404
    assert snapshot(registry) == before


def test_ids_of_another_tenant_in_form_fields_are_ignored(school_a: Portal,
                                                         registry: Registry) -> None:
    lyceum_before = registry.policy(SCHOOL_B, SAML_SUPPLIER)
    response = school_a.save_release(f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}", {
        "release-given_name": "all",
        "school_id": SCHOOL_B, "school": SCHOOL_B, "supplier_id": OIDC_SUPPLIER,
        "supplier": OIDC_SUPPLIER})
    assert response.status_code == 302
    assert registry.policy(SCHOOL_B, SAML_SUPPLIER) == lyceum_before
    assert registry.policy(SCHOOL_A, OIDC_SUPPLIER) is None
    mine = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert mine is not None and mine.attributes == {"given_name", "role"}


def test_fields_not_on_the_form_are_ignored(school_a: Portal, registry: Registry) -> None:
    response = school_a.save_release(f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}", {
        "release-role": "all",
        "suspended_reason": "sneaky", "valid_until": "2000-01-01",
        "release-eck_id": "all", "release-display_name": "student",
        "attributes": "eck_id", "by_role": "{}", "key_version": "9", "sector": "other"})
    assert response.status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None
    assert policy.attributes == {"role"} and not policy.by_role
    assert policy.suspended_reason is None and policy.valid_until is None
    supplier = registry.supplier(SAML_SUPPLIER)
    assert supplier is not None and supplier.sector == SAML_SUPPLIER


def test_suspend_form_cannot_name_another_school(school_a: Portal, registry: Registry) -> None:
    school_a.post(f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}/suspend",
                  {"reason": "privacy review", "school_id": SCHOOL_B})
    a, b = registry.policy(SCHOOL_A, SAML_SUPPLIER), registry.policy(SCHOOL_B, SAML_SUPPLIER)
    assert a is not None and a.suspended_reason == "privacy review"
    assert b is not None and b.suspended_reason is None


def test_the_ledger_shows_only_the_own_school(school_a: Portal, registry: Registry) -> None:
    ledger = registry.ledger()
    now = datetime.now(UTC)
    ledger.append(now, SCHOOL_A, SAML_SUPPLIER, "v1-aaaa-mine", ["role"], "saml")
    ledger.append(now, SCHOOL_B, SAML_SUPPLIER, "v1-bbbb-theirs", ["given_name"], "saml")
    for url in (f"/admin/schools/{SCHOOL_A}/ledger?school={SCHOOL_B}",
                f"/admin/schools/{SCHOOL_A}/ledger.csv?school_id={SCHOOL_B}"):
        body = school_a.get(url).get_data(as_text=True)
        assert "v1-aaaa-mine" in body and "v1-bbbb-theirs" not in body


@pytest.mark.parametrize(("method", "url"), [
    ("GET", "/admin/operator"),
    ("GET", "/admin/operator/suppliers/new"),
    ("POST", "/admin/operator/suppliers/new"),
    ("GET", "/admin/operator/schools/new"),
    ("POST", "/admin/operator/schools/new"),
    ("POST", "/admin/operator/ledger/verify"),
])
def test_school_and_supplier_admins_are_not_operators(app: Flask, registry: Registry,
                                                     method: str, url: str) -> None:
    before = snapshot(registry)
    form = {"id": "intruder", "name": "Intruder", "protocol": "oidc",
            "redirect_uris": "https://intruder.example/cb"}
    for email in ("ict@regenboog.example", "dev@rekenwonders.example"):
        portal = as_admin(app, email)
        response = portal.get(url) if method == "GET" else portal.post(url, form)
        assert response.status_code == 403
    assert snapshot(registry) == before


def test_a_school_admin_cannot_edit_a_suppliers_requests(school_a: Portal,
                                                        registry: Registry) -> None:
    before = snapshot(registry)
    assert school_a.get(f"/admin/suppliers/{SAML_SUPPLIER}").status_code == 404
    response = school_a.post(f"/admin/suppliers/{SAML_SUPPLIER}",
                             {"ask-eck_id": "yes", "why-eck_id-en": "we want it"})
    assert response.status_code == 404
    assert snapshot(registry) == before


def test_a_supplier_admin_reaches_only_their_own_supplier(supplier_admin: Portal,
                                                         registry: Registry) -> None:
    before = snapshot(registry)
    assert supplier_admin.get(f"/admin/suppliers/{OIDC_SUPPLIER}").status_code == 404
    assert supplier_admin.post(f"/admin/suppliers/{OIDC_SUPPLIER}",
                               {"ask-email": "yes", "why-email-en": "x"}).status_code == 404
    for url in B_PAGES[:2] + [f"/admin/schools/{SCHOOL_A}"]:
        assert supplier_admin.get(url).status_code == 404
    assert snapshot(registry) == before


def test_a_supplier_admin_cannot_redirect_a_save_to_another_supplier(
        supplier_admin: Portal, registry: Registry) -> None:
    taalapp = registry.supplier(OIDC_SUPPLIER)
    response = supplier_admin.save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}", {
        "ask-role": "yes", "why-role-en": "different screens", "supplier_id": OIDC_SUPPLIER,
        "id": OIDC_SUPPLIER})
    assert response.status_code == 302
    assert registry.supplier(OIDC_SUPPLIER) == taalapp
    mine = registry.supplier(SAML_SUPPLIER)
    assert mine is not None and [r.attribute for r in mine.requests] == ["role"]


def test_an_admin_of_two_schools_sees_both_and_no_other(app: Flask, accounts: Admins,
                                                       registry: Registry) -> None:
    accounts.add("bestuur@stichting.example", PASSWORD, "school", schools=[SCHOOL_A, SCHOOL_B])
    portal = Portal(app.test_client())
    response = portal.login("bestuur@stichting.example")
    assert response.location.endswith("/admin/schools")
    listing = portal.get("/admin/schools").get_data(as_text=True)
    assert "OBS De Regenboog" in listing and "Het Lyceum" in listing
    assert portal.get(f"/admin/schools/{SCHOOL_B}").status_code == 200
    assert portal.get("/admin/operator").status_code == 403


def test_the_operator_reaches_every_school_and_supplier(operator: Portal) -> None:
    for url in B_PAGES + [f"/admin/schools/{SCHOOL_A}", f"/admin/suppliers/{OIDC_SUPPLIER}"]:
        assert operator.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_the_login(portal: Portal, registry: Registry) -> None:
    before = snapshot(registry)
    response = portal.get(f"/admin/schools/{SCHOOL_A}")
    assert response.status_code == 302 and "/admin/login" in response.location
    response = portal.post(f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}/suspend",
                           {"reason": "anonymous"})
    assert response.status_code == 302 and "/admin/login" in response.location
    assert snapshot(registry) == before
