"""Every admin page in both languages: headings, labels, no caching. (The catalogues
themselves: tests/core/test_i18n.py.)"""

from __future__ import annotations

import re

import pytest
from werkzeug.test import TestResponse

from tests.admin.conftest import SAML_SUPPLIER, SCHOOL_A, SCHOOL_B, Portal

LANGUAGES = ("nl", "en")


OPERATOR_PAGES = ["/admin/operator", "/admin/operator/suppliers/new",
                  "/admin/operator/schools/new", "/admin/account",
                  f"/admin/schools/{SCHOOL_A}", f"/admin/schools/{SCHOOL_B}",
                  f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}",
                  f"/admin/schools/{SCHOOL_B}/suppliers/taalapp",
                  f"/admin/schools/{SCHOOL_A}/ledger", f"/admin/schools/{SCHOOL_A}/audit",
                  f"/admin/operator/schools/{SCHOOL_A}", f"/admin/operator/schools/{SCHOOL_B}",
                  f"/admin/suppliers/{SAML_SUPPLIER}",
                  "/admin/schools"]


def _check(response: TestResponse, lang: str) -> str:
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert page.count("<h1") == 1
    for field in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page):
        assert f'for="{field}"' in page, f"no label for #{field}"
    return page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_renders_in_both_languages(operator: Portal, lang: str) -> None:
    for url in OPERATOR_PAGES:
        _check(operator.get(url, query_string={"lang": lang}), lang)


def test_the_language_is_remembered_and_follows_the_browser(portal: Portal) -> None:
    page = portal.get("/admin/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert '<html lang="nl">' in portal.get("/admin/login").get_data(as_text=True)
    portal.get("/admin/login", query_string={"lang": "en"})
    assert '<html lang="en">' in portal.get("/admin/login").get_data(as_text=True)


def test_the_login_page(portal: Portal) -> None:
    page = _check(portal.get("/admin/login"), "nl")
    assert 'autocomplete="current-password"' in page and "<script" not in page


def test_loper_s_own_fault_sends_the_admin_to_the_operator(
        school_a: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not to 'your school's ICT coordinator': that is who reads the admin portal."""
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a fault inside Loper")

    monkeypatch.setattr("broker.admin.ledger._entries", broken)
    response = school_a.get(f"/admin/schools/{SCHOOL_A}/ledger", query_string={"lang": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "give the code below to the federation&#39;s operator" in page
    assert "ICT coordinator" not in page and "a fault inside Loper" not in page


def _language_link(page: str) -> str | None:
    found = re.search(r'<a class="lang" href="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize(("posted", "form", "link"), [
    (f"/admin/schools/{SCHOOL_A}/suppliers/taalapp/suspend", {"reason": "x"},
     f"/admin/schools/{SCHOOL_A}/suppliers/taalapp?lang=nl"),  # a button on the release page
    (f"/admin/schools/{SCHOOL_A}/admins/invite", {"email": "not an address"},
     f"/admin/schools/{SCHOOL_A}/admins?lang=nl"),
    (f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}", {"action": "preview"},
     f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}?lang=nl"),
])
def test_a_page_answering_a_form_links_to_its_page_in_the_other_language(
        school_a: Portal, posted: str, form: dict[str, str], link: str) -> None:
    """What was typed is not posted again: the link fetches the form's page afresh."""
    school_a.get(f"/admin/schools/{SCHOOL_A}", query_string={"lang": "en"})
    response = school_a.post(posted, form)
    assert response.status_code in (200, 400, 409)
    assert _language_link(response.get_data(as_text=True)) == link
    assert school_a.get(link).status_code == 200


@pytest.mark.parametrize(("lang", "words"), [
    ("nl", ("Vers houden vanaf deze URL", "Zonder vinkje: Loper haalt de metadata eenmalig op")),
    ("en", ("Keep it fresh from this URL", "Unticked: Loper fetches the metadata once")),
])
def test_the_metadata_url_field_says_what_keeping_it_fresh_means(
        operator: Portal, lang: str, words: tuple[str, str]) -> None:
    """A metadata URL in the form is kept fresh as a source (broker/registry/entity_source.py)
    or, unticked, is a copy of that moment: the operator reads which beside the field."""
    for url in ("/admin/operator/schools/new", "/admin/operator/suppliers/new"):
        page = _check(operator.get(url, query_string={"lang": lang}), lang)
        assert all(w in page for w in words) and "[[metadata_sources]]" in page
        assert 'aria-describedby="metadata_url_once"' in page


def test_an_admin_of_one_school_keeps_its_links_on_the_account_page(school_a: Portal,
                                                                    operator: Portal) -> None:
    """Where a newly invited admin lands: the school's own pages stay one click away, and the
    page names the school (not its id)."""
    account = school_a.get("/admin/account", query_string={"lang": "en"}).get_data(as_text=True)
    assert re.search(r"school admin\S*: OBS De Regenboog<", account), account[:3000]
    nav = account.split("</nav>")[0]
    assert f'href="/admin/schools/{SCHOOL_A}/audit"' in nav
    assert f'href="/admin/schools/{SCHOOL_A}/ledger"' in nav
    operators = operator.get("/admin/account").get_data(as_text=True).split("</nav>")[0]
    assert "/audit" not in operators  # an operator has no school of their own
