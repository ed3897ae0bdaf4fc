"""A school activates a supplier under a processing agreement; until then it gets nothing."""

from __future__ import annotations

import html
from datetime import timedelta

import lxml.html
import pytest
from babel.dates import format_date

from broker import localtime
from broker.registry import Registry
from tests.admin.conftest import OIDC_SUPPLIER, SAML_SUPPLIER, SCHOOL_A, SCHOOL_B, Portal

NEW_A = f"/admin/schools/{SCHOOL_A}/suppliers/{OIDC_SUPPLIER}"
TODAY = localtime.today()  # the day an agreement is counted in


def text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def test_a_new_supplier_shows_as_new_with_its_requests_and_reasons(school_a: Portal) -> None:
    page = text(school_a.get(f"/admin/schools/{SCHOOL_A}?lang=nl"))
    assert "1 nieuwe leverancier wacht op uw besluit" in page
    row = page[page.index("Taalapp"):]
    row = row[:row.index("</tr>")]
    assert "nieuw" in row and "greets the pupil" in row and "Bekijken en activeren" in row
    assert "niets" in row, "a new supplier gets nothing, not even the pseudonym"


def test_activating_with_an_agreement(school_a: Portal, registry: Registry) -> None:
    until = TODAY + timedelta(days=365)
    response = school_a.post(f"{NEW_A}/activate", {"agreement": "VO-2026-17",
                                                    "valid_until": until.isoformat()})
    assert response.status_code == 302
    policy = registry.policy(SCHOOL_A, OIDC_SUPPLIER)
    assert policy is not None and policy.active
    assert (policy.agreement, policy.valid_until) == ("VO-2026-17", until)
    assert policy.attributes == frozenset(), "activation releases the pseudonym only"
    page = text(school_a.get(f"/admin/schools/{SCHOOL_A}?lang=en"))
    assert "new supplier(s)" not in page


def test_activating_without_an_agreement_date(school_a: Portal, registry: Registry) -> None:
    assert school_a.post(f"{NEW_A}/activate", {}).status_code == 302
    policy = registry.policy(SCHOOL_A, OIDC_SUPPLIER)
    assert policy is not None and policy.active and policy.valid_until is None


@pytest.mark.parametrize(("typed", "says"), [
    ({"valid_until": "next summer"}, "The date is not valid; use YYYY-MM-DD"),
    ({"valid_until": "20270801"}, "The date is not valid; use YYYY-MM-DD"),
    ({"valid_until": "2027-02-30"}, "The date is not valid; use YYYY-MM-DD"),
    ({"valid_until": (TODAY - timedelta(days=1)).isoformat()}, "That date is in the past"),
    ({"agreement": "x" * 201}, "The reference is too long"),
], ids=["words", "basic format", "no such day", "past", "long reference"])
def test_bad_activation_input_is_refused_and_nothing_stored(
        school_a: Portal, registry: Registry, typed: dict[str, str], says: str) -> None:
    school_a.get(f"{NEW_A}?lang=en")
    response = school_a.post(f"{NEW_A}/activate", typed)
    assert response.status_code == 400
    assert says in text(response) and "Nothing was saved" in text(response)
    assert registry.policy(SCHOOL_A, OIDC_SUPPLIER) is None
    assert registry.audit_trail().entries(SCHOOL_A, supplier_id=OIDC_SUPPLIER) == []


def test_the_activation_form_needs_the_csrf_token(school_a: Portal, registry: Registry) -> None:
    response = school_a.post(f"{NEW_A}/activate", {"valid_until": "2030-01-01"}, csrf=False)
    assert response.status_code == 400
    assert "form_expired" in text(response)
    assert registry.policy(SCHOOL_A, OIDC_SUPPLIER) is None


def test_another_schools_supplier_page_cannot_be_activated(school_b: Portal,
                                                           registry: Registry) -> None:
    assert school_b.post(f"{NEW_A}/activate", {}).status_code == 404
    assert registry.policy(SCHOOL_A, OIDC_SUPPLIER) is None


def test_deactivating_keeps_the_release_on_record(school_a: Portal, registry: Registry) -> None:
    release = f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}"
    response = school_a.post(f"{release}/deactivate", {"reason": "contract stopped"})
    assert response.status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and not policy.active and policy.attributes == {"role"}
    page = text(school_a.get(f"/admin/schools/{SCHOOL_A}?lang=en"))
    row = page[page.index("Rekenwonders"):]
    assert "not active" in row[:row.index("</tr>")]


def _receives_now(portal: Portal, supplier: str) -> str:
    """What the school's overview says `supplier` receives now, in Dutch."""
    doc = lxml.html.fromstring(text(portal.get(f"/admin/schools/{SCHOOL_A}?lang=nl")))
    [cell] = doc.xpath(f'//tr[th[contains(., "{supplier}")]]/td[@data-label="Krijgt nu"]')
    return " ".join(cell.text_content().split())


def test_a_suspended_supplier_or_an_ended_agreement_receives_nothing(
        school_a: Portal, registry: Registry) -> None:
    """A privacy officer reading the overview is told what goes out: nothing, while logins to
    the supplier are refused."""
    assert _receives_now(school_a, "Rekenwonders").startswith("pseudoniem, rol")
    registry.suspend(SCHOOL_A, SAML_SUPPLIER, "under review")
    assert _receives_now(school_a, "Rekenwonders").startswith("niets niet vrijgegeven")
    registry.resume(SCHOOL_A, SAML_SUPPLIER)
    registry.activate(SCHOOL_A, SAML_SUPPLIER, agreement="A-1",
                      valid_until=TODAY - timedelta(days=1))
    assert _receives_now(school_a, "Rekenwonders").startswith("niets niet vrijgegeven")


def test_the_portal_warns_thirty_days_before_an_agreement_ends(school_a: Portal,
                                                               registry: Registry) -> None:
    registry.activate(SCHOOL_A, SAML_SUPPLIER, agreement="A-1",
                      valid_until=TODAY + timedelta(days=30))
    registry.activate(SCHOOL_B, SAML_SUPPLIER, agreement="B-1",
                      valid_until=TODAY + timedelta(days=30))
    page = text(school_a.get(f"/admin/schools/{SCHOOL_A}?lang=en"))
    last = format_date(TODAY + timedelta(days=30), "long", locale="en")  # as dates read
    assert f"The processing agreement with Rekenwonders is ending: {last} is its last" in page
    registry.activate(SCHOOL_A, SAML_SUPPLIER, agreement="A-1",
                      valid_until=TODAY + timedelta(days=31))
    assert "is ending" not in text(school_a.get(f"/admin/schools/{SCHOOL_A}?lang=en"))


def test_the_preview_of_a_new_supplier_shows_what_it_would_get(school_a: Portal) -> None:
    page = text(school_a.get(f"{NEW_A}?lang=en"))
    assert "gets nothing from your school now" in page
    assert "once activated" in page


def _row(page: str, name: str) -> str:
    row = page[page.index(f'scope="row">{name}'):]
    return row[:row.index("</tr>")]


def test_a_supplier_not_active_offers_activation_not_suspension(
        school_a: Portal, registry: Registry) -> None:
    """Suspending stops a supplier the school lets in; one never activated, or deactivated,
    gets nothing already, and its page offers the activation alone."""
    registry.deactivate(SCHOOL_A, SAML_SUPPLIER)
    for url in (NEW_A, f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}"):
        page = text(school_a.get(f"{url}?lang=en"))
        assert f'action="{url}/activate"' in page and "Activate" in page
        assert f'action="{url}/suspend"' not in page, url
        assert "Stop this supplier at once" not in page, url
    registry.activate(SCHOOL_A, SAML_SUPPLIER, agreement=None, valid_until=None)
    active = f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}"
    page = text(school_a.get(f"{active}?lang=en"))
    assert f'action="{active}/suspend"' in page and "Stop this supplier at once" in page


@pytest.mark.parametrize("supplier", [OIDC_SUPPLIER, SAML_SUPPLIER],
                         ids=["never activated", "deactivated"])
def test_suspending_a_supplier_not_active_is_refused_and_nothing_stored(
        school_a: Portal, registry: Registry, supplier: str) -> None:
    """A hand-made POST: 409 with the reason on the page, no entry, no audit row, and the
    overview still reads as before (a new supplier stays new, with the nudge)."""
    if supplier == SAML_SUPPLIER:
        registry.deactivate(SCHOOL_A, SAML_SUPPLIER)
    before = registry.policy(SCHOOL_A, supplier)
    trail = registry.audit_trail().entries(SCHOOL_A, supplier_id=supplier)
    overview = text(school_a.get(f"/admin/schools/{SCHOOL_A}?lang=en"))
    url = f"/admin/schools/{SCHOOL_A}/suppliers/{supplier}"
    response = school_a.post(f"{url}/suspend", {"reason": "datalek in onderzoek"},
                             query_string={"lang": "en"})
    assert response.status_code == 409
    page = text(response)
    name = "Taalapp" if supplier == OIDC_SUPPLIER else "Rekenwonders"
    assert (f'id="suspend-refused">{name} is not active for your school and gets nothing: '
            "there is nothing to stop. Only a supplier you have activated can be suspended. "
            "Nothing was saved.") in page
    assert f'action="{url}/activate"' in page and f'action="{url}/suspend"' not in page
    assert registry.policy(SCHOOL_A, supplier) == before
    assert registry.audit_trail().entries(SCHOOL_A, supplier_id=supplier) == trail
    assert text(school_a.get(f"/admin/schools/{SCHOOL_A}?lang=en")) == overview
    if supplier == OIDC_SUPPLIER:
        assert before is None
        assert "1 new supplier waits for your decision" in overview
        assert "new" in _row(overview, "Taalapp") and "nothing" in _row(overview, "Taalapp")

