"""The operator's page of a school: how its answers are read (`require`, `claims`, `roles`,
`default_role`), shown, changed, checked as an import checks it, and recorded in the school's
audit trail. Every wrong form is refused with the reason, and nothing changes."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from broker.registry import Registry, load_federation
from broker.registry.audit import AuditEntry
from tests.admin.conftest import ADMIN_B, OPERATOR, SCHOOL_A, SCHOOL_B, Portal
from tests.registry.conftest import write_federation
from tests.registry.helpers import snapshot
from tests.registry.test_federation_hubs import HUB
from tests.registry.test_federation_oidc_schools import SCHOOLS

LYCEUM = f"/admin/operator/schools/{SCHOOL_B}"
VLINDER = "/admin/operator/schools/vlinder"
ENTRA = {"require": "", "claims": "role = roles\nemail = preferred_username",
         "roles": "Leerling = student\nDocent = employee", "default_role": "student"}


def text(response: object) -> str:
    """The page, unescaped, with the <code> around a problem's values taken out."""
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return html.unescape(re.sub(r"</?code>", "", page))


@pytest.fixture
def schools(registry: Registry, tmp_path: Path) -> Registry:
    registry.import_federation(load_federation(write_federation(tmp_path, SCHOOLS + HUB)),
                               key_version=1)
    return registry


def mapping_rows(registry: Registry, school: str) -> list[AuditEntry]:
    return [e for e in registry.audit_trail().entries(school) if e.action == "mapping"]


def test_the_operator_sees_how_a_schools_answers_are_read(operator: Portal,
                                                         schools: Registry) -> None:
    assert VLINDER in text(operator.get("/admin/operator"))
    page = text(operator.get(VLINDER))
    assert "hd = vlinder.example.nl\nhd = vlinder-bovenbouw.example.nl</textarea>" in page
    page = text(operator.get("/admin/operator/schools/esdoorn"))
    assert "Leerling = student\nDocent = employee</textarea>" in page
    assert "role = roles\nemail = preferred_username</textarea>" in page
    assert '<option value="student" selected>' in page


def test_the_operator_changes_a_schools_mapping_and_the_trail_says_so(
        operator: Portal, registry: Registry) -> None:
    saved = operator.post(LYCEUM, {**ENTRA, "require": "tid = 6f1c5b1e-0d7a-4c3e"})
    assert saved.status_code == 302, text(saved)[:2000]
    school = registry.school(SCHOOL_B)
    assert school is not None
    assert school.claims == {"role": "roles", "email": "preferred_username"}
    assert school.roles == {"Leerling": "student", "Docent": "employee"}
    assert school.default_role == "student"
    assert school.config.require == {"tid": ("6f1c5b1e-0d7a-4c3e",)}
    [row] = mapping_rows(registry, SCHOOL_B)
    assert row.actor == OPERATOR and row.before == {
        "claims": {}, "roles": {}, "default_role": None, "require": None}
    assert row.after is not None
    assert row.after["roles"] == {"Leerling": "student", "Docent": "employee"}
    page = text(operator.get(LYCEUM))
    assert "Opgeslagen" in page
    shown = page.split('id="school-employee"', 1)[1]
    assert re.search(r'"roles": \[\s*"Docent"', shown)  # sent as Entra ID would (tid set)
    assert re.search(r'"role": \[\s*"employee"', shown)  # and read through the new mapping
    school_admin = Portal(operator.client.application.test_client())
    school_admin.login(ADMIN_B)
    trail = text(school_admin.get(f"/admin/schools/{SCHOOL_B}/audit?action=mapping"))
    assert "claims en rollen gewijzigd" in trail and OPERATOR in trail
    again = operator.post(LYCEUM, {**ENTRA, "require": "tid = 6f1c5b1e-0d7a-4c3e"})
    assert again.status_code == 302 and len(mapping_rows(registry, SCHOOL_B)) == 1


BAD = {
    "a name outside the vocabulary": ({"claims": "rol = roles"}, "claims.rol: onbekend "
                                      "gegeven rol; verwacht een van branch_id"),
    "a role that is no role": ({"roles": "Leerling = leerling"}, 'roles.Leerling: "leerling" is '
                               "geen rol; verwacht een van student, employee"),
    "a default role that is no role": ({"default_role": "admin"},
                                       'default_role: "admin" is geen rol'),
    "a line without =": ({"claims": "role roles"}, "claims: regel 1 heeft niet de vorm"),
    "a name twice": ({"roles": "A = student\nA = employee"}, 'regel 2 noemt "A" nog een keer'),
    "absurdly many roles": ({"roles": "\n".join(f"r{i} = student" for i in range(201))},
                            "roles: heeft 201 regels; verwacht hoogstens 200"),
    "an absurdly long text": ({"claims": "x = y\n" * 1001}, "verwacht hoogstens 1000 regels"),
    "an absurdly long claim name": ({"claims": f"role = {'r' * 600}"},
                                    "claims.role: heeft 600 tekens; verwacht hoogstens 512"),
    "an absurdly long role value": ({"roles": f"{'L' * 513} = student"},
                                    "heeft 513 tekens; verwacht hoogstens 512"),
    "too many required claims": ({"require": "\n".join(f"c{i} = x" for i in range(9))},
                                 "require: heeft 9 claims; verwacht 1 tot 8"),
    "a Google school without hd": ({"require": "email_verified = true"}, 'mist "hd"'),
    "the same domain as another school at Google": (
        {"require": "hd = kompas.example.nl"},
        'issuer met vereiste claimwaarde "https://accounts.google.com hd = kompas.example.nl" '
        'wordt al gebruikt door "kompas" in het register'),
}


@pytest.mark.parametrize("change, says", BAD.values(), ids=BAD.keys())
def test_a_wrong_mapping_is_refused_and_changes_nothing(operator: Portal, schools: Registry,
                                                       change: dict[str, str],
                                                       says: str) -> None:
    before = snapshot(schools)
    form = {"require": "hd = vlinder.example.nl", "claims": "", "roles": "Docent = employee",
            "default_role": "student", **change}
    refused = operator.post(VLINDER, form)
    page = text(refused)
    assert refused.status_code == 400
    assert 'role="alert"' in page and "Niets opgeslagen" in page
    assert says in page, page[page.find('id="problems"'):][:1500]
    assert snapshot(schools) == before and mapping_rows(schools, "vlinder") == []


def test_two_schools_at_one_issuer_cannot_lose_what_tells_them_apart(operator: Portal,
                                                                     schools: Registry) -> None:
    """Lyceum's issuer is its own; giving Vlinder's issuer a school without require is what an
    import refuses, and so is a school losing its require beside another at its issuer."""
    before = snapshot(schools)
    refused = operator.post("/admin/operator/schools/kompas", {
        "require": "hd = vlinder-bovenbouw.example.nl", "claims": "", "roles": ""})
    assert refused.status_code == 400 and "wordt al gebruikt door" in text(refused)
    assert snapshot(schools) == before


def test_a_school_behind_a_hub_is_read_with_the_hubs_mapping(operator: Portal,
                                                            schools: Registry) -> None:
    page = text(operator.get("/admin/operator/schools/de-linde"))
    assert 'id="behind-hub"' in page and "school_id = 11ZZ03" in page and "<textarea" not in page
    assert operator.post("/admin/operator/schools/de-linde", ENTRA).status_code == 404
    hub = text(operator.get("/admin/operator/schools/entree"))
    assert "CBS De Linde" in hub and "school_id = nlEduPersonHomeOrganizationId" in hub


def test_only_the_operator_may_open_or_change_it(school_b: Portal, registry: Registry) -> None:
    before = snapshot(registry)
    assert school_b.get(LYCEUM).status_code == 403
    assert school_b.post(LYCEUM, ENTRA).status_code == 403
    assert school_b.get(f"/admin/operator/schools/{SCHOOL_A}").status_code == 403
    assert snapshot(registry) == before


def test_an_unknown_school_is_not_found(operator: Portal) -> None:
    assert operator.get("/admin/operator/schools/nobody").status_code == 404
    assert operator.post("/admin/operator/schools/nobody", ENTRA).status_code == 404
