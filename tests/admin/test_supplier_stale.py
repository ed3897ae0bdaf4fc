"""The supplier admin's page open in two tabs (or at two admins of one supplier): a save from a
form built from requests that have changed since is refused (409, nothing stored, no school
told), never silently dropping or rewording what the other asked for; the page then shows what
the admin typed with a warning, and saving again from it goes through."""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest
from werkzeug.test import TestResponse

from broker.admin import form_version, supplier_notice
from broker.records import AttributeRequest, Supplier
from broker.registry import Registry
from broker.registry.admins import Admins
from tests.admin.conftest import SAML_SUPPLIER, SCHOOL_A, SCHOOL_B, Portal
from tests.admin.test_operator import text

REQUESTS = f"/admin/suppliers/{SAML_SUPPLIER}"
WARNING = {
    "nl": "Iemand heeft gewijzigd waar deze dienst om vraagt nadat u deze pagina opende. Er is "
          "niets opgeslagen en geen school ingelicht.",
    "en": "Someone changed what this service asks for after you opened this page. Nothing was "
          "saved and no school was told."}
ROLE_WHY = "shows pupils and teachers different screens"


class Tab:
    """One open page of the supplier's requests: the fields its form would send."""

    def __init__(self, portal: Portal, response: TestResponse) -> None:
        self.portal = portal
        form = lxml.html.fromstring(response.get_data(as_text=True)).xpath(
            '//form[.//input[starts-with(@name, "ask-")]]')[0]
        self.fields: dict[str, str] = {
            field.get("name"): field.get("value") or "" for field in form.xpath(".//input")
            if field.get("type") != "checkbox" or field.get("checked") is not None}
        self.fields.pop("csrf_token")

    @classmethod
    def open(cls, portal: Portal) -> Tab:
        return cls(portal, portal.get(REQUESTS))

    def save(self, changes: dict[str, str | None] | None = None,
             lang: str = "nl") -> TestResponse:
        """Save with `changes` typed (a field set to None: a box unticked)."""
        for name, value in (changes or {}).items():
            if value is None:
                self.fields.pop(name, None)
            else:
                self.fields[name] = value
        return self.portal.post(REQUESTS, dict(self.fields), query_string={"lang": lang})


def _asked(registry: Registry) -> dict[str, AttributeRequest]:
    supplier = registry.supplier(SAML_SUPPLIER)
    assert supplier is not None
    return {r.attribute: r for r in supplier.requests}


def _audit_rows(registry: Registry) -> int:
    return sum(len(registry.audit_trail().entries(s)) for s in (SCHOOL_A, SCHOOL_B))


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[supplier_notice.Difference]]:
    """What the schools are told, each time the page tells them something."""
    told: list[supplier_notice.Difference] = []
    real = supplier_notice.tell_schools

    def spy(supplier: Supplier, changed: supplier_notice.Difference) -> int:
        if changed:
            told.append(changed)
        return real(supplier, changed)

    monkeypatch.setattr(supplier_notice, "tell_schools", spy)
    yield told


@pytest.fixture
def role_not_asked(registry: Registry) -> None:
    supplier = registry.supplier(SAML_SUPPLIER)
    assert supplier is not None
    Admins(registry).set_requests(
        SAML_SUPPLIER, [r for r in supplier.requests if r.attribute != "role"])


@pytest.mark.usefixtures("role_not_asked")
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_old_tab_cannot_drop_what_another_tab_just_asked_for(
        supplier_admin: Portal, registry: Registry,
        notices: list[supplier_notice.Difference], lang: str) -> None:
    tab_a, tab_b = Tab.open(supplier_admin), Tab.open(supplier_admin)
    saved = tab_a.save({"ask-role": "yes", "why-role-en": ROLE_WHY})
    assert saved.status_code == 302
    assert "Opgeslagen." in text(supplier_admin.get(saved.location))
    assert "role" in _asked(registry) and len(notices) == 1
    rows, asked = _audit_rows(registry), _asked(registry)

    refused = tab_b.save({"why-given_name-en": "greets the pupil by their first name"}, lang)
    assert refused.status_code == 409
    assert _asked(registry) == asked, "tab A's request for the role is kept, nothing reworded"
    assert _audit_rows(registry) == rows, "nothing saved, nothing recorded"
    assert len(notices) == 1, "no school is told"
    page = text(refused)
    top = page.split('id="requests-stale">', 1)[1].split("</div>", 1)[0]
    assert WARNING[lang] in top
    assert "Opgeslagen." not in page and "Saved." not in page
    again = Tab(supplier_admin, refused)
    assert again.fields["why-given_name-en"] == "greets the pupil by their first name"
    assert "ask-role" not in again.fields, "what the admin typed, not what is asked now"

    assert again.save(lang=lang).status_code == 302, "saving again goes through"
    now = _asked(registry)
    assert "role" not in now and now["given_name"].reason("en")[0] == (
        "greets the pupil by their first name")
    assert _audit_rows(registry) == rows + 2, "one row per school with a release entry"
    assert len(notices) == 2


def test_a_stale_save_with_a_mistake_says_both_and_stores_nothing(
        supplier_admin: Portal, registry: Registry,
        notices: list[supplier_notice.Difference]) -> None:
    tab_a, tab_b = Tab.open(supplier_admin), Tab.open(supplier_admin)
    assert tab_a.save({"ask-eck_id": "yes", "why-eck_id-en": "links licences"}).status_code == 302
    asked = _asked(registry)
    refused = tab_b.save({"ask-school_id": "yes"}, "en")
    assert refused.status_code == 409
    assert WARNING["en"] in text(refused)
    assert "Give a reason (1 to 300 characters)" in text(refused)
    assert _asked(registry) == asked and len(notices) == 1
    fixed = Tab(supplier_admin, refused).save({"why-school_id-en": "links the licences"})
    assert fixed.status_code == 302
    assert set(_asked(registry)) == {"given_name", "role", "groups", "email", "school_id"}


@pytest.mark.parametrize("built_from", [None, "", "0" * 16, "not a fingerprint",
                                        "<script>alert(1)</script>"])
def test_a_save_without_the_forms_fingerprint_is_refused(
        supplier_admin: Portal, registry: Registry,
        notices: list[supplier_notice.Difference], built_from: str | None) -> None:
    """A page from before the field existed, or a hand-made POST: it may have been built from
    any requests, so it is refused (nothing stored, no school told) rather than risk dropping
    a request another admin just made."""
    rows, asked = _audit_rows(registry), _asked(registry)
    form = {"ask-given_name": "yes", "why-given_name-en": "greets the pupil"}
    if built_from is not None:
        form[form_version.FIELD] = built_from
    response = supplier_admin.post(REQUESTS, dict(form))
    assert response.status_code == 409
    assert WARNING["nl"] in text(response)
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert _asked(registry) == asked and _audit_rows(registry) == rows and not notices
    assert Tab(supplier_admin, response).save().status_code == 302, "saving again works"
    assert list(_asked(registry)) == ["given_name"]


def test_a_form_built_from_the_current_requests_saves_as_before(
        supplier_admin: Portal, registry: Registry,
        notices: list[supplier_notice.Difference]) -> None:
    response = Tab.open(supplier_admin).save({"ask-email": None, "why-email-nl": "",
                                              "why-email-en": ""})
    assert response.status_code == 302
    assert "email" not in _asked(registry)
    assert [n.dropped for n in notices] == [("email",)]
    page = text(supplier_admin.get(response.location))
    assert "Opgeslagen." in page and 'id="requests-stale"' not in page


def test_a_page_with_a_mistake_is_built_from_the_requests_as_they_are(
        supplier_admin: Portal, registry: Registry) -> None:
    """The 400 page (a reason missing) carries the current fingerprint: correcting it saves."""
    refused = Tab.open(supplier_admin).save({"ask-school_id": "yes"})
    assert refused.status_code == 400 and 'id="requests-stale"' not in text(refused)
    fixed = Tab(supplier_admin, refused).save({"why-school_id-nl": "koppelt de licenties"})
    assert fixed.status_code == 302
    assert "school_id" in _asked(registry)


def test_the_fingerprint_changes_with_any_reason_and_not_otherwise() -> None:
    one = [AttributeRequest("given_name", "", (("nl", "begroet"), ("en", "greets"))).fields()]
    same = [{"why_en": "greets", "attribute": "given_name", "why_nl": "begroet"}]
    reworded = [AttributeRequest("given_name", "", (("nl", "begroet"), ("en", "hi"))).fields()]
    assert form_version.fingerprint(one) == form_version.fingerprint(same)
    assert form_version.fingerprint(one) != form_version.fingerprint(reworded)
    assert form_version.fingerprint([]) != form_version.fingerprint(one)
