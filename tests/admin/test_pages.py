"""Every admin page in both languages: texts complete, headings, labels, no caching."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.test import TestResponse

from broker.admin import texts
from broker.profiles import PROFILES
from broker.registry.audit import ACTIONS
from tests.admin.conftest import SAML_SUPPLIER, SCHOOL_A, SCHOOL_B, Portal

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "admin"
DYNAMIC = {"change_": ("same", "added", "removed"),
           "action_": ACTIONS, "agreement_": ("ending", "ended"),
           "status_": ("new", "inactive", "suspended", "ended", "ending", "active"),
           "choice_": ("none", "all", "student", "employee", "student+employee"),
           "health_": ("store", "registry"),
           "outcome_": ("fetched", "unchanged", "refused"),
           "role_": ("operator", "school", "supplier"),
           "profile_": tuple(PROFILES), "choose_": tuple(PROFILES),
           "mapping_": tuple(f"{field}{part}" for field in ("require", "claims", "roles")
                             for part in ("", "_hint", "_example"))}


def test_every_text_a_template_uses_exists_in_both_languages() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\.([a-z_0-9]+)", source))
        for prefix in re.findall(r"t\['([a-z_]+)' ~", source):
            used |= {prefix + value for value in DYNAMIC[prefix]}
    for lang in texts.LANGUAGES:
        missing = used - texts.translator(lang).keys()
        assert not missing, f"{lang}: {sorted(missing)}"
        assert not any(name in dir(dict) for name in used), "t.keys would be dict.keys"


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


@pytest.mark.parametrize("lang", texts.LANGUAGES)
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
