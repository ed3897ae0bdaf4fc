"""The audit trail: every admin action on a school's data, shown to that school's admins."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime, timedelta

import pytest

from broker.localtime import LOCAL_TIME
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.registry.audit import AuditEntry
from tests.admin.conftest import (
    ADMIN_A,
    OIDC_SUPPLIER,
    OPERATOR,
    PASSWORD,
    SAML_SUPPLIER,
    SCHOOL_A,
    SCHOOL_B,
    Portal,
)

AUDIT_A = f"/admin/schools/{SCHOOL_A}/audit"
SUPPLIER_A = f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}"
NEW_A = f"/admin/schools/{SCHOOL_A}/suppliers/{OIDC_SUPPLIER}"


def text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def by_admins(registry: Registry, school: str = SCHOOL_A) -> list[AuditEntry]:
    """Oldest first, without the rows of the test's set-up: the federation import and the
    accounts created for it."""
    found = registry.audit_trail().entries(school)
    return [e for e in reversed(found) if not str(e.reason or "").startswith("federation import")
            and str(e.reason) != "account created"]


def test_each_portal_action_is_recorded_with_before_and_after(school_a: Portal,
                                                             registry: Registry) -> None:
    until = (datetime.now(UTC).date() + timedelta(days=200)).isoformat()
    school_a.post(f"{NEW_A}/activate", {"agreement": "VO-17", "valid_until": until})
    school_a.post(f"{NEW_A}/activate", {"agreement": "VO-18", "valid_until": until})
    school_a.save_release(SUPPLIER_A, {"release-given_name": "all"})
    school_a.post(f"{SUPPLIER_A}/suspend", {"reason": "datalek in onderzoek"})
    school_a.post(f"{SUPPLIER_A}/resume", {})
    school_a.post(f"{SUPPLIER_A}/deactivate", {"reason": "contract gestopt"})
    entries = by_admins(registry)
    assert [(e.action, e.supplier_id, e.actor) for e in entries] == [
        ("activate", OIDC_SUPPLIER, ADMIN_A), ("agreement", OIDC_SUPPLIER, ADMIN_A),
        ("release", SAML_SUPPLIER, ADMIN_A), ("suspend", SAML_SUPPLIER, ADMIN_A),
        ("resume", SAML_SUPPLIER, ADMIN_A), ("deactivate", SAML_SUPPLIER, ADMIN_A)]
    activated, agreement, released, suspended, _, deactivated = entries
    assert activated.before is None
    assert activated.after is not None and activated.after["agreement"] == "VO-17"
    assert activated.after["valid_until"] == until and activated.after["attributes"] == []
    assert agreement.before is not None and agreement.before["agreement"] == "VO-17"
    assert released.before is not None and released.after is not None
    assert released.before["attributes"] == ["role"]
    assert released.after["attributes"] == ["given_name", "role"]
    assert suspended.reason == "datalek in onderzoek"
    assert suspended.after is not None and suspended.after["suspended_reason"] == suspended.reason
    assert deactivated.reason == "contract gestopt"
    assert deactivated.after is not None and deactivated.after["active"] is False
    assert registry.ledger().verify().ok


def test_a_change_that_changes_nothing_is_not_recorded(school_a: Portal,
                                                       registry: Registry) -> None:
    school_a.post(f"{SUPPLIER_A}/resume", {})  # not suspended
    school_a.save_release(SUPPLIER_A, {"release-role": "all"})  # as it is
    assert by_admins(registry) == []


def test_operator_actions_appear_in_the_schools_trail(operator: Portal, school_a: Portal,
                                                      registry: Registry) -> None:
    operator.post(f"{SUPPLIER_A}/suspend", {"reason": "security incident"})
    page = text(school_a.get(f"{AUDIT_A}?lang=en"))
    assert OPERATOR in page and "security incident" in page and "suspended" in page
    assert [e.actor for e in by_admins(registry)] == [OPERATOR]


def test_the_import_that_activated_a_pair_is_in_the_trail(registry: Registry) -> None:
    imported = [e for e in registry.audit_trail().entries(SCHOOL_A)
                if e.supplier_id == SAML_SUPPLIER]
    assert [(e.action, e.before) for e in imported] == [("activate", None)]
    assert imported[0].actor == "operator (command line)"
    assert imported[0].reason is not None and "federation.toml" in str(imported[0].reason)


def test_the_page_filters_by_action_supplier_and_dates(school_a: Portal,
                                                       registry: Registry) -> None:
    school_a.post(f"{NEW_A}/activate", {})
    school_a.post(f"{SUPPLIER_A}/suspend", {"reason": "under review"})
    suspended = text(school_a.get(f"{AUDIT_A}?lang=en&action=suspend"))
    assert "under review" in suspended and "activated" not in suspended.split("<tbody>")[1]
    only_taalapp = text(school_a.get(f"{AUDIT_A}?lang=en&supplier={OIDC_SUPPLIER}"))
    assert "under review" not in only_taalapp and "activated" in only_taalapp
    today = datetime.now(LOCAL_TIME).date()  # the day the rows show
    later = text(school_a.get(f"{AUDIT_A}?lang=en&from={today + timedelta(days=1)}"))
    assert "No changes found." in later
    now = text(school_a.get(f"{AUDIT_A}?lang=en&from={today}&to={today}"))
    assert "under review" in now


@pytest.mark.parametrize(("query", "says"), [
    ("action=delete_everything", "Unknown action in the filter."),
    ("from=yesterday", "A date is not valid"),
    ("supplier=nobody", "Unknown supplier in the filter."),
    ("from=2026-02-01&to=2026-01-01", "The end date is before the start date."),
])
def test_bad_filters_say_what_is_wrong(school_a: Portal, query: str, says: str) -> None:
    response = school_a.get(f"{AUDIT_A}?lang=en&{query}")
    assert response.status_code == 400
    assert says in text(response)
    assert school_a.get(f"{AUDIT_A}.csv?lang=en&{query}").status_code == 400


@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_for_the_privacy_officer(school_a: Portal, separator: str) -> None:
    school_a.post(f"{SUPPLIER_A}/suspend", {"reason": "=cmd|' /C calc'!A0; under review"})
    response = school_a.get(f"{AUDIT_A}.csv?sep={separator}&action=suspend")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "loper-audit-regenboog-" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=separator))
    assert rows[0] == ["time_utc", "school", "supplier", "actor", "action", "before", "after",
                       "reason", "ledger_row"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["school"], row["supplier"], row["actor"], row["action"]) == (
        SCHOOL_A, SAML_SUPPLIER, ADMIN_A, "suspend")
    assert row["reason"].startswith("'="), "a cell must never run as a formula"
    assert '"suspended_reason": null' in row["before"]


def test_the_page_links_both_csv_files(school_a: Portal) -> None:
    page = text(school_a.get(AUDIT_A))
    assert 'id="csv" href="/admin/schools/regenboog/audit.csv"' in page
    assert 'id="csv-semicolon" href="/admin/schools/regenboog/audit.csv?sep=;"' in page


def test_an_unknown_separator_is_refused(school_a: Portal) -> None:
    assert school_a.get(f"{AUDIT_A}.csv?sep=%09").status_code == 400


@pytest.mark.parametrize("path", ["audit", "audit.csv"])
def test_another_schools_trail_is_not_found(school_b: Portal, path: str) -> None:
    assert school_b.get(f"/admin/schools/{SCHOOL_A}/{path}").status_code == 404
    assert school_b.get(f"/admin/schools/{SCHOOL_B}/{path}").status_code == 200


def test_another_schools_changes_never_show(school_a: Portal, school_b: Portal,
                                            registry: Registry) -> None:
    school_b.post(f"/admin/schools/{SCHOOL_B}/suppliers/{SAML_SUPPLIER}/suspend",
                  {"reason": "B's own decision"})
    assert "B's own decision" not in text(school_a.get(AUDIT_A))
    assert by_admins(registry) == []


def test_admin_account_changes_are_recorded_in_the_schools_they_serve(
        accounts: Admins, registry: Registry) -> None:
    accounts.add("privacy@regenboog.example", PASSWORD, "school",
                 schools=[SCHOOL_A, SCHOOL_B])
    accounts.set_password("privacy@regenboog.example", PASSWORD + "!")
    account = accounts.by_email("privacy@regenboog.example")
    assert account is not None
    accounts.set_totp(account.id, None)  # off already: nothing changes, nothing recorded
    accounts.set_totp(account.id, "JBSWY3DPEHPK3PXP", by="privacy@regenboog.example")
    for school in (SCHOOL_A, SCHOOL_B):
        rows = [e for e in reversed(registry.audit_trail().entries(school))
                if e.after is not None and e.after.get("email") == "privacy@regenboog.example"]
        assert [str(e.reason) for e in rows] == [
            "account created", "password reset: every session of the account ended",
            "second factor turned on"]
        created, reset, totp = rows
        assert created.before is None and created.after is not None
        assert created.after["schools"] == [SCHOOL_B, SCHOOL_A]
        assert reset.before == reset.after
        assert totp.before is not None and totp.after is not None
        assert (totp.before["second_factor"], totp.after["second_factor"]) == (False, True)
        assert totp.actor == "privacy@regenboog.example"
        assert "JBSWY3DPEHPK3PXP" not in str(totp.after) and "argon2" not in str(reset.after)
    assert registry.ledger().verify().ok
