"""The privacy officer's report: per supplier per month, people and attributes, from the
ledger; as a page and as CSV, for the school's own admins only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from broker.registry import Registry
from tests.admin.conftest import OIDC_SUPPLIER, SAML_SUPPLIER, SCHOOL_A, SCHOOL_B, Portal

REPORT = f"/admin/schools/{SCHOOL_A}/report"


@pytest.fixture
def entries(registry: Registry) -> None:
    ledger = registry.ledger()
    for at, supplier, pseudonym, names in (
            (datetime(2026, 3, 2, 9, tzinfo=UTC), SAML_SUPPLIER, "v1-anna", ["role"]),
            (datetime(2026, 3, 9, 9, tzinfo=UTC), SAML_SUPPLIER, "v1-anna", ["given_name"]),
            (datetime(2026, 3, 9, 10, tzinfo=UTC), SAML_SUPPLIER, "v1-bram", ["role"]),
            (datetime(2026, 3, 31, 22, 30, tzinfo=UTC), SAML_SUPPLIER, "v1-cas", ["=cmd"]),
            (datetime(2026, 3, 12, 9, tzinfo=UTC), OIDC_SUPPLIER, "v1-anna-o", []),
            (datetime(2025, 12, 31, 12, tzinfo=UTC), OIDC_SUPPLIER, "v1-old", ["role"])):
        ledger.append(at, SCHOOL_A, supplier, pseudonym, names, "saml")
    ledger.append(datetime(2026, 3, 10, 9, tzinfo=UTC), SCHOOL_B, SAML_SUPPLIER, "v1-lyceum",
                  ["email"], "saml")


@pytest.mark.usefixtures("entries")
def test_the_report_counts_people_per_supplier_per_month(school_a: Portal) -> None:
    page = school_a.get(REPORT, query_string={"year": "2026"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    body = html[html.index('<table id="report"'):]
    assert "2026-03" in body and "2026-04" in body and "2025-12" not in body
    assert "e-mail" not in body.lower() and "v1-anna" not in body, "no other school, no pseudonym"
    response = school_a.get(f"{REPORT}.csv", query_string={"year": "2026"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "loper-report-regenboog-2026-" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [
        ["month", "supplier", "supplier_name", "people", "logins", "attributes"],
        ["2026-03", SAML_SUPPLIER, "Rekenwonders", "2", "3", "given_name role"],
        ["2026-03", OIDC_SUPPLIER, "Taalapp", "1", "1", ""],
        ["2026-04", SAML_SUPPLIER, "Rekenwonders", "1", "1", "'=cmd"],  # Dutch time, no formula
    ]
    last_year = school_a.get(f"{REPORT}.csv", query_string={"year": "2025"}).get_data(
        as_text=True)
    assert "2025-12,taalapp,Taalapp,1,1,role" in last_year


@pytest.mark.parametrize("year", ["26", "1999", "9999", "2026x", "-2026"])
def test_a_bad_year_is_refused(school_a: Portal, year: str) -> None:
    for url in (REPORT, f"{REPORT}.csv"):
        response = school_a.get(url, query_string={"year": year})
        assert response.status_code == 400
        assert "choose a year such as" in response.get_data(as_text=True).replace(
            "kies een jaar als", "choose a year such as")


@pytest.mark.usefixtures("entries")
def test_another_schools_admin_sees_nothing(school_b: Portal) -> None:
    for url in (REPORT, f"{REPORT}.csv"):
        response = school_b.get(url, query_string={"year": "2026"})
        assert response.status_code == 404
        assert "v1-anna" not in response.get_data(as_text=True)
