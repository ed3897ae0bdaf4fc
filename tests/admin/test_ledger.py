"""The school's release ledger: filters, the CSV for the privacy officer, and retention."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from broker.registry import Federation, Registry
from tests.admin.conftest import OIDC_SUPPLIER, SAML_SUPPLIER, SCHOOL_A, SCHOOL_B, Portal

LEDGER = f"/admin/schools/{SCHOOL_A}/ledger"


@pytest.fixture
def entries(registry: Registry) -> None:
    ledger = registry.ledger()
    for day, supplier, pseudonym, names in (
            (1, SAML_SUPPLIER, "v1-march-first", ["role"]),
            (10, OIDC_SUPPLIER, "v1-march-tenth", ["given_name", "groups"]),
            (20, SAML_SUPPLIER, "v1-march-twentieth", [])):
        ledger.append(datetime(2026, 3, day, 12, 0, tzinfo=UTC), SCHOOL_A, supplier, pseudonym,
                      names, "saml" if supplier == SAML_SUPPLIER else "oidc")
    ledger.append(datetime(2026, 3, 10, 9, tzinfo=UTC), SCHOOL_B, SAML_SUPPLIER, "v1-lyceum",
                  ["given_name"], "saml")


def shown(portal: Portal, query: dict[str, str]) -> list[str]:
    page = portal.get(LEDGER, query_string=query).get_data(as_text=True)
    return [p for p in ("v1-march-first", "v1-march-tenth", "v1-march-twentieth", "v1-lyceum")
            if p in page]


@pytest.mark.usefixtures("entries")
@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["v1-march-first", "v1-march-tenth", "v1-march-twentieth"]),
    ({"supplier": SAML_SUPPLIER}, ["v1-march-first", "v1-march-twentieth"]),
    ({"from": "2026-03-10"}, ["v1-march-tenth", "v1-march-twentieth"]),
    ({"to": "2026-03-10"}, ["v1-march-first", "v1-march-tenth"]),
    ({"from": "2026-03-10", "to": "2026-03-10", "supplier": OIDC_SUPPLIER}, ["v1-march-tenth"]),
    ({"from": "2026-04-01"}, []),
    ({"from": "0001-01-01", "to": "9999-12-31"},  # the first and last days there are
     ["v1-march-first", "v1-march-tenth", "v1-march-twentieth"]),
])
def test_filters(school_a: Portal, query: dict[str, str], expected: list[str]) -> None:
    assert shown(school_a, query) == expected


@pytest.mark.parametrize(("at", "day", "day_before"), [
    (datetime(2026, 3, 19, 23, 30, tzinfo=UTC), "2026-03-20", "2026-03-19"),  # winter, UTC+1
    (datetime(2026, 6, 30, 22, 30, tzinfo=UTC), "2026-07-01", "2026-06-30"),  # summer, UTC+2
], ids=["winter", "summer"])
def test_the_days_of_a_filter_are_the_dutch_days_the_rows_show(
        school_a: Portal, registry: Registry, at: datetime, day: str, day_before: str) -> None:
    """Half past midnight in Dutch time is still the day before in UTC: the row is shown on
    the Dutch day, and that is the day that finds it."""
    registry.ledger().append(at, SCHOOL_A, SAML_SUPPLIER, "v1-march-first", ["role"], "saml")
    assert shown(school_a, {"from": day, "to": day}) == ["v1-march-first"]
    assert shown(school_a, {"from": day_before, "to": day_before}) == []
    assert shown(school_a, {"to": day_before}) == []
    assert shown(school_a, {"from": day}) == ["v1-march-first"]


@pytest.mark.parametrize("query", [{"from": "10-03-2026"}, {"to": "2026-02-30"},
                                   {"from": "2026-03-10", "to": "2026-03-01"},
                                   {"supplier": "no-such-supplier"}])
def test_bad_filters_are_a_clear_400(school_a: Portal, query: dict[str, str]) -> None:
    response = school_a.get(LEDGER, query_string=query)
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert school_a.get(LEDGER + ".csv", query_string=query).status_code == 400


@pytest.mark.parametrize("path", ["ledger", "ledger.csv", "audit", "audit.csv"])
def test_the_last_day_there_is_means_no_end(school_a: Portal, path: str) -> None:
    """31-12-9999 typed as "for ever": every page and download answers, none fails."""
    response = school_a.get(f"/admin/schools/{SCHOOL_A}/{path}", query_string={"to": "9999-12-31"})
    assert response.status_code == 200


@pytest.mark.usefixtures("entries")
def test_the_csv_export(school_a: Portal) -> None:
    response = school_a.get(LEDGER + ".csv", query_string={"supplier": SAML_SUPPLIER})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="loper-ledger-{SCHOOL_A}-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["time_utc", "school", "supplier", "supplier_name", "pseudonym",
                       "attributes", "protocol"]
    assert rows[1:] == [
        ["2026-03-20T12:00:00+00:00", SCHOOL_A, SAML_SUPPLIER, "Rekenwonders",
         "v1-march-twentieth", "", "saml"],
        ["2026-03-01T12:00:00+00:00", SCHOOL_A, SAML_SUPPLIER, "Rekenwonders",
         "v1-march-first", "role", "saml"]]


def test_the_csv_cannot_carry_a_formula(school_a: Portal, registry: Registry) -> None:
    supplier = registry.supplier(SAML_SUPPLIER)
    assert supplier is not None
    registry.import_federation(Federation(suppliers=(
        replace(supplier, name='=HYPERLINK("https://evil.example")'),)), key_version=1)
    registry.ledger().append(datetime.now(UTC), SCHOOL_A, SAML_SUPPLIER, "v1-x", [], "saml")
    body = school_a.get(LEDGER + ".csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body and ',"=HYPERLINK' not in body and ",=HYPERLINK" not in body


def test_the_page_links_the_csv_with_the_same_filters(school_a: Portal) -> None:
    page = school_a.get(LEDGER, query_string={"supplier": SAML_SUPPLIER, "from": "2026-03-01"})
    assert (f"/ledger.csv?supplier={SAML_SUPPLIER}&amp;from=2026-03-01"
            in page.get_data(as_text=True))
