"""A school admin releases attributes per supplier, previews exactly what is sent, suspends."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime

import pytest

from broker import attributes
from broker.admin import preview as previews
from broker.admin import release_form
from broker.context import Broker
from broker.downstream.saml_kind import SamlSupplier
from broker.errors import SupplierSuspended
from broker.identity import AuthnContext, Person
from broker.pseudonym import anchor
from broker.records import AttributeRequest, Policy, Supplier
from broker.registry import Federation, Registry
from broker.registry.admins import Admins
from broker.release import decide
from tests.admin.conftest import (
    OIDC_SUPPLIER,
    SAML_SUPPLIER,
    SCHOOL_A,
    SCHOOL_B,
    Portal,
)

RELEASE_A = f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}"
OID = {a.name: a.saml_name for a in attributes.VOCABULARY}


def text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def checked(page: str, name: str) -> str:
    found = re.search(rf'name="release-{name}" value="([^"]+)" checked', page)
    assert found, f"no choice checked for {name}"
    return found.group(1)


def test_the_page_shows_what_is_asked_why_and_what_is_released(school_a: Portal) -> None:
    page = text(school_a.get(RELEASE_A))
    for why in ("greets the pupil by name", "shows pupils and teachers different screens",
                "groups pupils by class for their teacher", "sends the teacher a weekly report"):
        assert why in page
    assert checked(page, "role") == "all"
    assert checked(page, "given_name") == "none"
    assert 'name="release-eck_id"' not in page, "not asked for, not released: not offered"


def test_saving_releases_per_attribute_and_per_role(school_a: Portal, registry: Registry) -> None:
    response = school_a.save_release(RELEASE_A, {"release-role": "all",
                                                 "release-given_name": "all",
                                                 "release-groups": "student",
                                                 "release-email": "employee"})
    assert response.status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None
    assert policy.attributes == {"role", "given_name"}
    assert policy.by_role == {"student": {"groups"}, "employee": {"email"}}
    page = text(school_a.get(response.location))
    assert "Opgeslagen." in page or "Saved." in page
    assert checked(page, "groups") == "student" and checked(page, "email") == "employee"


def test_saving_keeps_the_suspension(school_a: Portal, registry: Registry) -> None:
    registry.suspend(SCHOOL_A, SAML_SUPPLIER, "contract under review")
    school_a.save_release(RELEASE_A, {"release-given_name": "all"})
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.suspended_reason == "contract under review"
    assert "given_name" in policy.attributes


def test_withdrawing_everything_leaves_the_pseudonym_only(school_a: Portal,
                                                          registry: Registry) -> None:
    school_a.save_release(RELEASE_A, {"release-role": "none"})
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and not policy.attributes and not policy.by_role


def _expected(broker: Broker, school_id: str, supplier_id: str, policy: Policy | None,
              sample: str) -> tuple[str, dict[str, tuple[str, ...]]]:
    """What a real login would release for the sample person: via decide, like the flow."""
    school, supplier = broker.registry.school(school_id), broker.registry.supplier(supplier_id)
    assert school is not None and supplier is not None
    person = Person(school_id, anchor(broker.pseudonym_keys, school_id, f"loper-preview:{sample}"),
                    previews.sample_attributes(school, sample), AuthnContext(datetime.now(UTC)))
    released = decide(person, school, supplier, policy, broker.pseudonym_keys, date.today())
    return released.subject, attributes.to_saml(released.attributes)


def test_the_preview_is_what_decide_releases_and_saves_nothing(
        school_a: Portal, broker: Broker, registry: Registry) -> None:
    before = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    form = {"action": "preview", "sample": "teacher", "release-role": "all",
            "release-given_name": "all", "release-email": "employee", "release-groups": "none"}
    page = text(school_a.post(RELEASE_A, form))
    assert registry.policy(SCHOOL_A, SAML_SUPPLIER) == before, "a preview saves nothing"
    proposed = Policy(SCHOOL_A, SAML_SUPPLIER, frozenset({"role", "given_name"}),
                      {"employee": frozenset({"email"})})
    subject, sent = _expected(broker, SCHOOL_A, SAML_SUPPLIER, proposed, "teacher")
    assert re.fullmatch(r"v1-[a-z2-7]{52}", subject)
    assert f'id="preview-subject">{subject}<' in page
    table = page.split('id="preview-table"', 1)[1].split("</table>", 1)[0]
    names = re.findall(r"<code>(urn:[^<]+)</code>", table)
    assert set(names) == set(sent) | {attributes.PAIRWISE_ID}
    assert f"{subject}@127.0.0.1" in table
    for values in sent.values():
        assert ", ".join(values) in table
    added = re.findall(r'<tr class="added">.*?<code>([^<]+)', table)
    assert set(added) == {OID["given_name"], OID["email"]}
    assert "nog niet opgeslagen" in page or "not saved yet" in page


def test_the_preview_shows_what_a_role_does_not_get(school_a: Portal) -> None:
    form = {"action": "preview", "sample": "pupil", "release-role": "all",
            "release-email": "employee"}
    page = text(school_a.post(RELEASE_A, form))
    assert OID["email"] not in page.split('id="preview-table"', 1)[1].split("</table>")[0]


def test_the_preview_shows_removed_attributes(school_a: Portal) -> None:
    page = text(school_a.post(RELEASE_A, {"action": "preview", "release-role": "none"}))
    removed = re.findall(r'<tr class="removed">.*?<code>([^<]+)', page)
    assert removed == [OID["role"]]


def test_the_preview_of_a_suspended_supplier_says_nothing_is_sent(
        school_a: Portal, registry: Registry) -> None:
    registry.suspend(SCHOOL_A, SAML_SUPPLIER, "under review")
    page = text(school_a.post(RELEASE_A, {"action": "preview", "release-role": "all"}))
    assert "under review" in page
    assert OID["role"] in page, "and what it would get once resumed"


def test_the_oidc_preview_shows_id_token_and_userinfo(school_b: Portal, broker: Broker,
                                                      registry: Registry) -> None:
    url = f"/admin/schools/{SCHOOL_B}/suppliers/{OIDC_SUPPLIER}"
    page = text(school_b.post(url, {"action": "preview", "sample": "pupil",
                                    "release-given_name": "all"}))
    proposed = Policy(SCHOOL_B, OIDC_SUPPLIER, frozenset({"given_name"}))
    subject, _ = _expected(broker, SCHOOL_B, OIDC_SUPPLIER, proposed, "pupil")
    blocks = [json.loads(b) for b in re.findall(r"<pre>(.*?)</pre>", page, re.S)]
    id_token, userinfo = blocks
    assert id_token["sub"] == subject and id_token["aud"] == OIDC_SUPPLIER
    assert id_token["iss"] == broker.settings.base_url
    assert id_token["given_name"] == "Sanne"
    assert userinfo == {"sub": subject, "given_name": "Sanne"}
    assert "Voorbeeld: Sanne de Vries, leerling groep 7 (verzonnen)" in page  # no real pupil


def test_an_admin_can_type_a_test_value_for_every_attribute(school_a: Portal) -> None:
    page = school_a.get(RELEASE_A + "?lang=en").get_data(as_text=True)
    for attr in attributes.VOCABULARY:
        assert f'<input id="test-{attr.name}" name="test-{attr.name}"' in page, attr.name
    assert '<label for="test-given_name">given name</label>' in page
    response = school_a.post(RELEASE_A, {"action": "preview", "sample": "custom",
                                         "release-given_name": "all", "test-given_name": "Piet"})
    page = response.get_data(as_text=True)
    assert 'name="test-given_name" type="text" value="Piet"' in page, "what was typed stays"


def test_typed_values_are_previewed_and_escaped(school_a: Portal) -> None:
    script = "<script>alert(1)</script>"
    response = school_a.post(RELEASE_A, {"action": "preview", "sample": "custom",
                                         "release-given_name": "all",
                                         "test-given_name": script, "test-role": "student"})
    raw = response.get_data(as_text=True)
    assert script not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_suspend_and_resume(school_a: Portal, broker: Broker, registry: Registry) -> None:
    response = school_a.post(f"{RELEASE_A}/suspend", {"reason": "  privacy   review  "})
    assert response.status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.suspended_reason == "privacy review"
    assert policy.attributes == {"role"}, "suspending keeps the release for later"
    school, supplier = registry.school(SCHOOL_A), registry.supplier(SAML_SUPPLIER)
    assert school is not None and supplier is not None
    person = Person(SCHOOL_A, "anchor", {"role": ("student",)}, AuthnContext(datetime.now(UTC)))
    with pytest.raises(SupplierSuspended) as caught:
        decide(person, school, supplier, policy, broker.pseudonym_keys, date.today())
    assert caught.value.params == {"school": "OBS De Regenboog", "supplier": "Rekenwonders"}
    assert caught.value.reason == "privacy review"

    assert school_a.post(f"{RELEASE_A}/resume").status_code == 302
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.suspended_reason is None


def test_a_new_agreement_for_a_suspended_supplier_does_not_call_it_active(
        school_a: Portal, registry: Registry) -> None:
    school_a.post(f"{RELEASE_A}/suspend", {"reason": "privacy review"})
    saved = school_a.post(f"{RELEASE_A}/activate", {"agreement": "VO-100"},
                          query_string={"lang": "en"},
                          follow_redirects=True).get_data(as_text=True)
    assert "The supplier stays suspended" in saved and "the supplier is active" not in saved
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.agreement == "VO-100"
    assert policy.suspended_reason == "privacy review"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "\u200b\u2060\ufeff"])
def test_a_suspension_needs_a_reason(school_a: Portal, registry: Registry, reason: str) -> None:
    response = school_a.post(f"{RELEASE_A}/suspend", {"reason": reason})
    assert response.status_code == 400
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.suspended_reason is None


@pytest.mark.parametrize("reason", ["datalek\u202e.kennisgeving", "a\x00b", "x\u2066y"])
def test_a_suspension_reason_must_be_plain_text(school_a: Portal, registry: Registry,
                                                reason: str) -> None:
    """Pupils read the reason: a direction override could show them another text."""
    response = school_a.post(f"{RELEASE_A}/suspend", {"reason": reason},
                             query_string={"lang": "en"})
    assert response.status_code == 400
    assert "Use plain text: no control characters" in text(response)
    policy = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    assert policy is not None and policy.suspended_reason is None


def test_an_agreement_reference_and_a_deactivation_reason_must_be_plain_text(
        school_a: Portal, registry: Registry) -> None:
    before = registry.policy(SCHOOL_A, SAML_SUPPLIER)
    for url, form, shown in (
            (f"{RELEASE_A}/activate", {"agreement": "VO-\u202e71"}, "activate-error"),
            (f"{RELEASE_A}/deactivate", {"reason": "klaar\x00"}, "deactivate-error")):
        response = school_a.post(url, form, query_string={"lang": "en"})
        assert response.status_code == 400, url
        assert f'id="{shown}">Use plain text' in text(response)
    assert registry.policy(SCHOOL_A, SAML_SUPPLIER) == before


def test_the_overview_shows_status_and_waiting_requests(school_a: Portal,
                                                        registry: Registry) -> None:
    registry.activate(SCHOOL_A, OIDC_SUPPLIER, agreement=None, valid_until=None)
    registry.suspend(SCHOOL_A, OIDC_SUPPLIER, "no contract")
    page = text(school_a.get(f"/admin/schools/{SCHOOL_A}"))
    rows = {name: row for row in page.split("<tr>")[1:]
            for name in ("Rekenwonders", "Taalapp") if f'scope="row">{name}' in row}
    assert "opgeschort" in rows["Taalapp"] or "suspended" in rows["Taalapp"]
    assert "actief" in rows["Rekenwonders"] or "active" in rows["Rekenwonders"]
    assert "voornaam" in rows["Rekenwonders"] or "given name" in rows["Rekenwonders"]


def test_script_in_names_and_reasons_is_escaped_everywhere(
        school_a: Portal, operator: Portal, registry: Registry) -> None:
    script = "<script>alert(1)</script>"
    supplier = registry.supplier(SAML_SUPPLIER)
    assert supplier is not None
    registry.import_federation(Federation(suppliers=(Supplier(
        id=supplier.id, name=f"Reken{script}", config=supplier.config, sector=supplier.sector,
        key_version=supplier.key_version, requests=(AttributeRequest("given_name", script),)),)),
        key_version=1)
    school_a.post(f"{RELEASE_A}/suspend", {"reason": script})
    registry.ledger().append(datetime.now(UTC), SCHOOL_A, SAML_SUPPLIER, "v1-x", ["role"], "saml")
    for portal, url in ((school_a, f"/admin/schools/{SCHOOL_A}"), (school_a, RELEASE_A),
                        (school_a, f"/admin/schools/{SCHOOL_A}/ledger"),
                        (operator, "/admin/operator"),
                        (operator, f"/admin/suppliers/{SAML_SUPPLIER}")):
        raw = portal.get(url).get_data(as_text=True)
        assert script not in raw, url
        assert "&lt;script&gt;" in raw, url


# The form logic itself, without HTTP.

def _policy(attrs: set[str], **by_role: set[str]) -> Policy:
    return Policy("s", "p", frozenset(attrs), {r: frozenset(v) for r, v in by_role.items()},
                  suspended_reason="kept", valid_until=date(2030, 1, 1))


@pytest.mark.parametrize(("policy", "name", "choice"), [
    (None, "email", "none"),
    (_policy({"email"}), "email", "all"),
    (_policy(set(), student={"email"}), "email", "student"),
    (_policy(set(), employee={"email"}), "email", "employee"),
    (_policy(set(), student={"email"}, employee={"email"}), "email", "student+employee"),
    (_policy(set(), staff={"email"}), "email", "none"),
])
def test_released_to(policy: Policy | None, name: str, choice: str) -> None:
    assert release_form.released_to(policy, name) == choice


def test_the_proposal_changes_only_the_shown_attributes_and_keeps_the_rest() -> None:
    current = _policy({"role", "school_id"}, student={"groups"}, staff={"email"})
    proposed = release_form.proposed_policy("s", "p", current,
                                            {"role": "employee", "groups": "all",
                                             "email": "student"})
    assert proposed.attributes == {"school_id", "groups"}
    assert proposed.by_role == {"employee": {"role"}, "student": {"email"},
                                "staff": {"email"}}
    assert proposed.suspended_reason == "kept" and proposed.valid_until == date(2030, 1, 1)


def test_unknown_choices_keep_what_is_released() -> None:
    supplier = Supplier("p", "P", SamlSupplier("", "https://p.example"), "p", 1,
                        requests=(AttributeRequest("email", "why"),))
    shown = release_form.rows(supplier, _policy({"email"}))
    assert release_form.choices_from({"release-email": "everyone!"}, shown) == {"email": "all"}
    assert release_form.choices_from({}, shown) == {"email": "all"}



def test_the_overview_flags_data_released_that_the_supplier_no_longer_asks_for(
        school_a: Portal, registry: Registry) -> None:
    """Data minimisation: when a supplier stops asking for an attribute the school still
    releases, the school's overview says so at the top and on the supplier's line."""
    overview = f"/admin/schools/{SCHOOL_A}"
    assert "does not (or no longer) ask for" not in text(school_a.get(overview))
    Admins(registry).set_requests(SAML_SUPPLIER, [AttributeRequest("given_name", "greets")])
    page = text(school_a.get(overview, query_string={"lang": "en"}))
    assert "1 supplier receives data it does not (or no longer) ask for" in page
    assert "not (or no longer) asked for: role (pupil, teacher)" in page
