"""A release page open in two tabs (or at two admins of one school): a save from a form built
from a release that has changed since is refused (409, nothing stored), never silently undoing
the other change; the page then shows the admin's choices against the release as it is now,
and saving again from it goes through."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from broker.admin import form_version, release_form
from broker.records import Policy
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.registry.audit import policy_state
from tests.admin.conftest import (
    ADMIN_A,
    PASSWORD,
    SAML_SUPPLIER,
    SCHOOL_A,
    Portal,
    as_admin,
)

RELEASE_A = f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}"
PRIVACY_OFFICER = "privacy@regenboog.example"
WARNING = {
    "nl": "Iemand heeft deze vrijgave gewijzigd nadat u deze pagina opende. Er is niets "
          "opgeslagen. Hieronder staan uw keuzes tegenover de vrijgave zoals die nu is; sla "
          "opnieuw op om ze toe te passen.",
    "en": "Someone changed this release after you opened this page. Nothing was saved. Below "
          "are your choices against the release as it is now; save again to apply them."}
BY = {"nl": f"Laatst gewijzigd door {PRIVACY_OFFICER} op ",
      "en": f"Last changed by {PRIVACY_OFFICER} on "}
NO_DIFFERENCE = {"nl": "Geen verschil met wat nu wordt verstuurd.",
                 "en": "No difference with what is sent now."}


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


class Tab:
    """One open release page: what its form would post, as a browser fills it in."""

    def __init__(self, portal: Portal, response: TestResponse) -> None:
        page = response.get_data(as_text=True)
        self.portal = portal
        self.fields = dict(re.findall(r'name="(release-[^"]+)" value="([^"]+)" checked', page))
        found = re.search(rf'name="{form_version.FIELD}" value="([^"]*)"', page)
        assert found, "the release form says what it was built from"
        self.fields[form_version.FIELD] = found.group(1)

    @classmethod
    def open(cls, portal: Portal) -> Tab:
        return cls(portal, portal.get(RELEASE_A))

    def submit(self, action: str, lang: str = "nl", **choices: str) -> TestResponse:
        self.fields.update({f"release-{name}": value for name, value in choices.items()})
        return self.portal.post(RELEASE_A, {**self.fields, "action": action},
                                query_string={"lang": lang})


@pytest.fixture
def privacy_officer(app: Flask, accounts: Admins) -> Portal:
    """The school's second admin, beside its ICT coordinator (school_a)."""
    accounts.add(PRIVACY_OFFICER, PASSWORD, "school", schools=[SCHOOL_A])
    return as_admin(app, PRIVACY_OFFICER)


@pytest.fixture
def email_released(school_a: Portal, registry: Registry) -> None:
    assert school_a.save_release(RELEASE_A, {"release-email": "all"}).status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.attributes == {"role", "email"}


def audit_rows(registry: Registry) -> int:
    return len(registry.audit_trail().entries(SCHOOL_A))


@pytest.mark.usefixtures("email_released")
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_old_tab_cannot_release_again_what_another_admin_withdrew(
        school_a: Portal, privacy_officer: Portal, registry: Registry, lang: str) -> None:
    tab_a, tab_b = Tab.open(privacy_officer), Tab.open(school_a)
    assert tab_a.submit("save", email="none").status_code == 302
    rows = audit_rows(registry)

    refused = tab_b.submit("save", lang, given_name="all")
    assert refused.status_code == 409
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.attributes == {"role"}, "e-mail stays withheld"
    assert not policy.by_role
    assert audit_rows(registry) == rows, "nothing saved, nothing recorded"
    page = text(refused)
    top = page.split('id="release-stale">', 1)[1].split("</div>", 1)[0]
    assert WARNING[lang] in top and BY[lang] in top
    assert 'href="#release-stale"' in page, "beside the Save button too"
    assert "Opgeslagen." not in page and "Saved." not in page
    again = Tab(school_a, refused)
    assert again.fields["release-email"] == "all", "the admin's own choices"
    assert again.fields["release-given_name"] == "all"

    assert again.submit("save", lang).status_code == 302, "saving again goes through"
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.attributes == {"role", "email", "given_name"}
    assert audit_rows(registry) == rows + 1


def test_a_change_saved_between_the_check_and_the_write_is_not_undone(
        school_a: Portal, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other admin's suspension lands in the moment between this save's check and its
    write: the write, which checks again inside its transaction, stores nothing, and the page
    says the release changed; the suspension stays."""
    tab = Tab.open(school_a)
    rows = audit_rows(registry)
    real = Registry.set_policy

    def another_admin_first(self: Registry, policy: Policy, **kwargs: object) -> None:
        self.suspend(SCHOOL_A, SAML_SUPPLIER, "privacy review", by=PRIVACY_OFFICER)
        real(self, policy, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Registry, "set_policy", another_admin_first)
    refused = tab.submit("save", "en", given_name="all")
    assert refused.status_code == 409 and WARNING["en"] in text(refused)
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.suspended_reason == "privacy review"
    assert policy.attributes == {"role"}, "the given name was not released"
    assert audit_rows(registry) == rows + 1, "the suspension alone"


def test_the_409_page_shows_what_saving_again_would_change(
        school_a: Portal, privacy_officer: Portal, email_released: None) -> None:
    tab_a, tab_b = Tab.open(privacy_officer), Tab.open(school_a)
    tab_a.submit("save", email="none")
    page = text(tab_b.submit("save", "en", given_name="all"))
    diff = page.split("Difference with now:", 1)[1].split("</p>", 1)[0]
    added = re.findall(r'<span class="badge ok">\+ ([^<]+)</span>', diff)
    assert len(added) == 2 and not re.findall(r"badge bad", diff), added


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_stale_save_that_equals_the_current_release_saves_nothing_and_warns(
        school_a: Portal, privacy_officer: Portal, registry: Registry,
        email_released: None, lang: str) -> None:
    tab_a, tab_b = Tab.open(privacy_officer), Tab.open(school_a)
    tab_a.submit("save", email="none")
    rows, before = audit_rows(registry), registry.policy(SCHOOL_A, SAML_SUPPLIER)
    response = tab_b.submit("save", lang, email="none")
    assert response.status_code == 409
    assert WARNING[lang] in text(response) and NO_DIFFERENCE[lang] in text(response)
    assert registry.policy(SCHOOL_A, SAML_SUPPLIER) == before
    assert audit_rows(registry) == rows, "no empty audit row"


def test_a_preview_from_an_old_tab_does_not_warn_and_saves_nothing(
        school_a: Portal, privacy_officer: Portal, registry: Registry,
        email_released: None) -> None:
    tab_a, tab_b = Tab.open(privacy_officer), Tab.open(school_a)
    built_from = tab_b.fields[form_version.FIELD]
    tab_a.submit("save", email="none")
    before = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    previewed = tab_b.submit("preview", given_name="all")
    assert previewed.status_code == 200
    assert 'id="release-stale"' not in previewed.get_data(as_text=True)
    assert registry.policy(SCHOOL_A, SAML_SUPPLIER) == before
    after_preview = Tab(school_a, previewed)
    assert after_preview.fields[form_version.FIELD] == built_from, (
        "a preview keeps what the form was built from ...")
    assert after_preview.submit("save").status_code == 409, "... so its save is still checked"
    assert registry.policy(SCHOOL_A, SAML_SUPPLIER) == before


@pytest.mark.parametrize("built_from", [None, "", "0" * 16, "not a fingerprint",
                                        "<script>alert(1)</script>"])
def test_a_save_without_the_forms_fingerprint_is_refused(school_a: Portal, registry: Registry,
                                                         built_from: str | None) -> None:
    """A page from before the field existed, or a hand-made POST: it may have been built from
    any release, so it is refused (nothing stored) rather than risk undoing a change."""
    rows, before = audit_rows(registry), registry.policy(SCHOOL_A, SAML_SUPPLIER)
    form = {"action": "save", "release-given_name": "all", "release-role": "none"}
    if built_from is not None:
        form[form_version.FIELD] = built_from
    response = school_a.post(RELEASE_A, form)
    assert response.status_code == 409
    assert WARNING["nl"] in text(response)
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert registry.policy(SCHOOL_A, SAML_SUPPLIER) == before
    assert audit_rows(registry) == rows
    assert Tab(school_a, response).submit("save").status_code == 302, "saving again works"
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.attributes == {"given_name"}


def test_a_form_built_from_the_current_release_saves_as_before(school_a: Portal,
                                                               registry: Registry) -> None:
    tab = Tab.open(school_a)
    response = tab.submit("save", given_name="student")
    assert response.status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.by_role == {"student": {"given_name"}}
    page = text(school_a.get(response.location))
    assert "Opgeslagen." in page and 'id="release-stale"' not in page


def test_an_unchanged_save_from_a_current_form_is_saved_without_an_audit_row(
        school_a: Portal, registry: Registry) -> None:
    """As before: "Opgeslagen.", and no audit row for a change that changes nothing."""
    rows = audit_rows(registry)
    response = Tab.open(school_a).submit("save")
    assert response.status_code == 302
    assert "Opgeslagen." in text(school_a.get(response.location))
    assert audit_rows(registry) == rows


def test_another_admins_change_of_something_else_does_not_make_the_form_stale(
        school_a: Portal, registry: Registry) -> None:
    """Only the release counts: a suspension in between keeps the form good (and is kept)."""
    tab = Tab.open(school_a)
    registry.suspend(SCHOOL_A, SAML_SUPPLIER, "privacy review", by=ADMIN_A)
    assert tab.submit("save", given_name="all").status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.attributes == {"role", "given_name"}
    assert policy.suspended_reason == "privacy review"


def test_a_change_from_the_command_line_is_named_as_such(school_a: Portal,
                                                         registry: Registry) -> None:
    tab = Tab.open(school_a)
    current = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert current is not None
    registry.set_policy(dataclasses.replace(current, attributes=frozenset()))
    page = text(tab.submit("save", "en", given_name="all"))
    top = page.split('id="release-stale">', 1)[1].split("</div>", 1)[0]
    assert "Last changed by " in top and "@" not in top


# The fingerprint itself, without HTTP.

def _policy(attrs: set[str], **by_role: set[str]) -> Policy:
    return Policy("s", "p", frozenset(attrs), {r: frozenset(v) for r, v in by_role.items()})


def test_the_fingerprint_is_stable_for_the_same_release() -> None:
    one = _policy({"role", "email"}, student={"groups", "given_name"}, employee={"email"})
    other = Policy("s", "p", frozenset({"email", "role"}),
                   {"employee": frozenset({"email"}),
                    "student": frozenset({"given_name", "groups"}), "staff": frozenset()},
                   active=False, suspended_reason="elsewhere", agreement="VO-1")
    assert release_form.fingerprint(one) == release_form.fingerprint(other)
    assert re.fullmatch(r"[0-9a-f]{16}", release_form.fingerprint(one))
    assert release_form.fingerprint(None) == release_form.fingerprint(_policy(set()))


@pytest.mark.parametrize("changed", [
    _policy({"role"}, student={"groups"}),
    _policy({"role", "email", "groups"}, student={"groups"}),
    _policy({"role", "email"}),
    _policy({"role", "email"}, employee={"groups"}),
    _policy({"role", "email"}, student={"groups"}, staff={"groups"}),
    _policy({"role"}, student={"groups", "email"}),
])
def test_the_fingerprint_changes_with_any_change_of_the_release(changed: Policy) -> None:
    assert (release_form.fingerprint(changed)
            != release_form.fingerprint(_policy({"role", "email"}, student={"groups"})))


@pytest.mark.parametrize("policy", [
    None, _policy(set()), _policy({"role", "email"}, student={"groups"}, employee=set())])
def test_an_audit_rows_release_reads_as_the_policys(policy: Policy | None) -> None:
    assert release_form.state_release(policy_state(policy)) == release_form.release_of(policy)
