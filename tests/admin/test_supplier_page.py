"""The supplier admin's page: what the supplier asks for and why (in each language, plain text
only), what schools then see, and which schools release what to the supplier now."""

from __future__ import annotations

import lxml.html
import pytest

from broker.records import AttributeRequest
from broker.registry import Registry
from broker.registry.admins import Admins
from tests.admin.conftest import OIDC_SUPPLIER, SAML_SUPPLIER, SCHOOL_A, Portal
from tests.admin.test_operator import text
from tests.registry.helpers import snapshot


def test_the_supplier_admin_edits_requests_and_schools_see_them(
        supplier_admin: Portal, school_a: Portal, registry: Registry) -> None:
    url = f"/admin/suppliers/{SAML_SUPPLIER}"
    page = text(supplier_admin.get(url))
    assert "greets the pupil by name" in page
    response = supplier_admin.save_from_page(url, {
        "ask-given_name": "yes", "why-given_name-en": "greets the pupil by name",
        "ask-school_id": "yes", "why-school_id-nl": "  koppelt de licenties  ",
        "why-school_id-en": "  links the school's licences  "})
    assert response.status_code == 302
    supplier = registry.supplier(SAML_SUPPLIER)
    assert supplier is not None
    assert [(r.attribute, r.why, r.why_in) for r in supplier.requests] == [
        ("given_name", "", (("en", "greets the pupil by name"),)),
        ("school_id", "", (("nl", "koppelt de licenties"), ("en", "links the school's licences")))]
    release = school_a.get(f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}",
                           query_string={"lang": "nl"})
    shown = lxml.html.fromstring(text(release)).xpath("//span[@data-user-text]")
    assert {(s.text, s.get("lang")) for s in shown} >= {
        ("koppelt de licenties", "nl"),  # the reader's language
        ("greets the pupil by name", "en")}  # the only one written, marked as English


def test_the_supplier_admin_sees_what_each_school_releases_to_them(
        supplier_admin: Portal, school_a: Portal, registry: Registry) -> None:
    """Their helpdesk's question ('why does this school's pupil arrive without a name?'):
    each school with a release entry, what it releases now and its status."""
    school_a.post(f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}/suspend",
                  {"reason": "contract under review"})
    doc = lxml.html.fromstring(text(supplier_admin.get(f"/admin/suppliers/{SAML_SUPPLIER}",
                                                       query_string={"lang": "en"})))
    rows = [[" ".join(c.text_content().split()) for c in row.xpath("./th|./td")]
            for row in doc.xpath('//table[@id="schools-table"]/tbody/tr')]
    assert rows == [
        ["Het Lyceum", "pseudonym, given name, classes and groups", "active"],
        ["OBS De Regenboog", "nothing", "suspended"]]  # its logins stop: nothing goes
    assert "contract under review" not in text(supplier_admin.get(
        f"/admin/suppliers/{SAML_SUPPLIER}"))  # the school's words stay with its pupils
    other = supplier_admin.get(f"/admin/suppliers/{OIDC_SUPPLIER}")
    assert other.status_code == 404  # another supplier's schools: not this admin's


def test_a_supplier_no_school_has_activated_is_told_it_receives_nothing(
        operator: Portal) -> None:
    page = text(operator.get(f"/admin/suppliers/{OIDC_SUPPLIER}", query_string={"lang": "en"}))
    assert "No school has activated you yet: you receive nothing" in page
    assert 'id="schools-table"' not in page


@pytest.mark.parametrize("why", ["greets\u202eeman yb", "a\x00b", "x\u2067y"])
def test_a_reason_must_be_plain_text(supplier_admin: Portal, registry: Registry,
                                     why: str) -> None:
    """Pupils and schools read the reason: no control characters, no direction overrides."""
    before = snapshot(registry)
    response = supplier_admin.save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}",
                                             {"ask-eck_id": "yes", "why-eck_id-en": why},
                                             query_string={"lang": "en"})
    assert response.status_code == 400
    assert "Use plain text: no control characters" in text(response)
    assert snapshot(registry) == before
    with pytest.raises(ValueError, match="plain text"):
        Admins(registry).set_requests(SAML_SUPPLIER, [AttributeRequest("eck_id", why)])
    assert snapshot(registry) == before


@pytest.mark.parametrize("why", ["", "   ", "x" * 301])
def test_a_request_needs_a_reason(supplier_admin: Portal, registry: Registry, why: str) -> None:
    before = snapshot(registry)
    response = supplier_admin.save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}",
                                             {"ask-eck_id": "yes", "why-eck_id-nl": why,
                                              "why-eck_id-en": why[:1]})
    assert response.status_code == 400
    assert snapshot(registry) == before


@pytest.mark.parametrize("why", ["\u200b", "\u2060\ufeff\u200b \u00ad", "\u3164\u2800"],
                         ids=["zero-width space", "joiners and a soft hyphen", "blank letters"])
def test_a_reason_that_shows_nothing_is_no_reason(supplier_admin: Portal, registry: Registry,
                                                  why: str) -> None:
    """Schools and pupils would read an empty reason: it counts as none, on the form and in
    the registry (a federation file's reasons)."""
    before = snapshot(registry)
    response = supplier_admin.save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}",
                                             {"ask-eck_id": "yes", "why-eck_id-nl": "  ",
                                              "why-eck_id-en": why}, query_string={"lang": "en"})
    assert response.status_code == 400 and "Give a reason (1 to 300 characters)" in text(response)
    assert snapshot(registry) == before
    with pytest.raises(ValueError):
        Admins(registry).set_requests(SAML_SUPPLIER, [AttributeRequest("eck_id", why)])
    assert snapshot(registry) == before


def test_a_reason_typed_without_asking_is_not_dropped(supplier_admin: Portal,
                                                      registry: Registry) -> None:
    before = snapshot(registry)
    response = supplier_admin.save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}",
                                             {"why-email-en": "sends the weekly report"},
                                             query_string={"lang": "en"})
    page = text(response)
    assert response.status_code == 400
    assert "Nothing saved: correct what is marked below." in page
    assert "You wrote a reason but did not tick “Ask”" in page
    doc = lxml.html.fromstring(page)
    assert doc.get_element_by_id("why-email-en").get("value") == "sends the weekly report"
    assert doc.get_element_by_id("ask-email").get("checked") is None  # as it was sent
    assert snapshot(registry) == before


def test_a_reason_too_long_is_not_called_missing(supplier_admin: Portal) -> None:
    response = supplier_admin.save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}",
                                             {"ask-email": "yes", "why-email-en": "x" * 301},
                                             query_string={"lang": "en"})
    assert response.status_code == 400
    assert "Give a reason (1 to 300 characters)." in text(response)
    assert "missing" not in text(response)
