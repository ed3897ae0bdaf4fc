"""A school decides what a new supplier gets before it switches the supplier on: the saved
release makes no difference to anyone until the activation. The supplier stays "new" on the
overview (sorted with the new ones), its own page does not list the school, and the audit
trail records a release, not a deactivation."""

from __future__ import annotations

import html

from flask import Flask

from broker.registry import Registry
from broker.registry.admins import Admins
from tests.admin.conftest import OIDC_SUPPLIER, PASSWORD, SCHOOL_A, Portal, as_admin

RELEASE = f"/admin/schools/{SCHOOL_A}/suppliers/{OIDC_SUPPLIER}"
OVERVIEW = f"/admin/schools/{SCHOOL_A}?lang=nl"
TAALAPP_ADMIN = "dev@taalapp.example"
NEW, ACTIVE, INACTIVE = ('<span class="badge warn">nieuw</span>',
                         '<span class="badge ok">actief</span>',
                         '<span class="badge bad">niet actief</span>')


def _page(portal: Portal, url: str) -> str:
    return html.unescape(portal.get(url).get_data(as_text=True))


def _row(page: str, name: str) -> str:
    row = page[page.index(f'scope="row">{name}'):]
    return row[:row.index("</tr>")]


def _prepare(school_a: Portal) -> None:
    """Save a release for Taalapp, never activated at school A."""
    response = school_a.save_release(RELEASE, {"release-given_name": "all"})
    assert response.status_code == 302


def test_a_release_saved_before_activating_leaves_the_supplier_new(
        school_a: Portal, registry: Registry) -> None:
    _prepare(school_a)
    policy = registry.policy(SCHOOL_A, OIDC_SUPPLIER)
    assert policy is not None and policy.attributes == {"given_name"}
    assert (policy.active, policy.activated_once) == (False, False)
    page = _page(school_a, OVERVIEW)
    assert "1 nieuwe leverancier wacht op uw besluit" in page
    row = _row(page, "Taalapp")
    assert NEW in row and "Bekijken en activeren" in row and "niets" in row
    assert "niet actief" not in row
    assert page.index('scope="row">Taalapp') < page.index('scope="row">Rekenwonders'), (
        "sorted with the new ones, first")
    release_page = _page(school_a, f"{RELEASE}?lang=nl")
    assert NEW in release_page and f'action="{RELEASE}/activate"' in release_page
    [saved] = registry.audit_trail().entries(SCHOOL_A, supplier_id=OIDC_SUPPLIER)
    assert saved.action == "release" and saved.before is None
    assert saved.after is not None and "activated_once" not in saved.after


def test_activating_then_deactivating_a_prepared_supplier(
        school_a: Portal, registry: Registry) -> None:
    _prepare(school_a)
    assert school_a.post(f"{RELEASE}/activate", {}).status_code == 302
    policy = registry.policy(SCHOOL_A, OIDC_SUPPLIER)
    assert policy is not None and (policy.active, policy.activated_once) == (True, True)
    assert policy.attributes == {"given_name"}, "the prepared release now goes out"
    page = _page(school_a, OVERVIEW)
    assert ACTIVE in _row(page, "Taalapp") and "nieuwe leverancier" not in page
    assert school_a.post(f"{RELEASE}/deactivate", {}).status_code == 302
    policy = registry.policy(SCHOOL_A, OIDC_SUPPLIER)
    assert policy is not None and (policy.active, policy.activated_once) == (False, True)
    page = _page(school_a, OVERVIEW)
    assert INACTIVE in _row(page, "Taalapp") and "nieuwe leverancier" not in page
    actions = [e.action for e in registry.audit_trail().entries(SCHOOL_A,
                                                                 supplier_id=OIDC_SUPPLIER)]
    assert actions == ["deactivate", "activate", "release"]


def test_the_suppliers_page_lists_a_school_once_it_activated(
        app: Flask, accounts: Admins, school_a: Portal) -> None:
    accounts.add(TAALAPP_ADMIN, PASSWORD, "supplier", supplier_id=OIDC_SUPPLIER)
    supplier = as_admin(app, TAALAPP_ADMIN)
    own = f"/admin/suppliers/{OIDC_SUPPLIER}?lang=nl"
    _prepare(school_a)
    assert "OBS De Regenboog" not in _page(supplier, own), "not decided yet: like no entry"
    assert school_a.post(f"{RELEASE}/activate", {}).status_code == 302
    row = _row(_page(supplier, own), "OBS De Regenboog")
    assert ACTIVE in row and "voornaam" in row
