"""OIDC schools as Google Workspace and Entra ID are: several schools at one issuer, told apart
by [schools.require]; a multi-tenant Entra issuer is a template that needs `require.tid`."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.registry import FederationError, Registry, load_federation
from broker.upstream.oidc_kind import OidcSchool
from tests.registry.conftest import write_federation
from tests.registry.helpers import round_trip

TENANT = "6f1c5b1e-0d7a-4c3e-9a51-2b8f4d3c9e10"
SCHOOLS = f"""\
[[schools]]
id = "kompas"
name = "Het Kompas"
protocol = "oidc"
issuer = "https://accounts.google.com"
client_id = "kompas.apps.googleusercontent.com"
client_secret_env = "KOMPAS_SECRET"

[schools.require]
hd = ["kompas.example.nl"]

[[schools]]
id = "vlinder"
name = "De Vlinder"
protocol = "oidc"
issuer = "https://accounts.google.com"
client_id = "vlinder.apps.googleusercontent.com"
client_secret_env = "VLINDER_SECRET"

[schools.require]
hd = ["vlinder.example.nl", "vlinder-bovenbouw.example.nl"]

[[schools]]
id = "esdoorn"
name = "De Esdoorn"
protocol = "oidc"
issuer = "https://login.microsoftonline.com/{{tenantid}}/v2.0"
client_id = "1f2e3d4c-5b6a-7988-a0b1-c2d3e4f5a6b7"
client_secret_env = "ESDOORN_SECRET"
default_role = "student"

[schools.require]
tid = ["{TENANT}"]

[schools.claims]
role = "roles"
email = "preferred_username"

[schools.roles]
Leerling = "student"
Docent = "employee"
"""


def test_google_and_entra_schools_are_read(tmp_path: Path) -> None:
    schools = load_federation(write_federation(tmp_path, SCHOOLS)).schools
    configs = [s.config for s in schools]
    assert all(isinstance(c, OidcSchool) for c in configs)
    assert [c.require for c in configs if isinstance(c, OidcSchool)] == [
        {"hd": ("kompas.example.nl",)},
        {"hd": ("vlinder.example.nl", "vlinder-bovenbouw.example.nl")},
        {"tid": (TENANT,)}]
    assert schools[2].claims == {"role": "roles", "email": "preferred_username"}
    assert schools[2].roles == {"Leerling": "student", "Docent": "employee"}
    assert schools[2].default_role == "student"


def test_require_survives_export_import_export(registry: Registry, tmp_path: Path) -> None:
    exported = round_trip(registry, tmp_path, SCHOOLS)
    assert "[schools.require]" in exported and "[schools.roles]" in exported


def test_an_import_changing_how_answers_are_read_is_in_the_audit_trail(
        registry: Registry, tmp_path: Path) -> None:
    registry.import_federation(load_federation(write_federation(tmp_path, SCHOOLS)),
                               key_version=1)
    changed = SCHOOLS.replace('Docent = "employee"', 'Docent = "employee"\nStaf = "employee"')
    path = write_federation(tmp_path, changed, "again.toml")
    registry.import_federation(load_federation(path), key_version=1)
    [row] = [e for e in registry.audit_trail().entries("esdoorn") if e.action == "mapping"]
    assert row.before is not None and row.after is not None
    assert row.after["roles"] == {**row.before["roles"], "Staf": "employee"}
    assert str(row.reason) == f"federation import of {path}"
    assert not [e for e in registry.audit_trail().entries("kompas") if e.action == "mapping"]


KOMPAS, VLINDER, ESDOORN = ('schools[0] (id "kompas")', 'schools[1] (id "vlinder")',
                           'schools[2] (id "esdoorn")')
KOMPAS_HD = 'hd = ["kompas.example.nl"]'
VLINDER_HD = 'hd = ["vlinder.example.nl", "vlinder-bovenbouw.example.nl"]'
MANY = "\n".join(f'r{i} = "student"' for i in range(201))
GOOGLE, STICHTING = "https://accounts.google.com", "https://sso.stichting.example"
Edit = str | tuple[str, ...]
BAD: dict[str, tuple[Edit, Edit, str, str]] = {  # (old, new, entry, says) in SCHOOLS
    "a claim for a name outside the vocabulary": (
        'role = "roles"', 'nickname = "roles"', ESDOORN, 'unknown attribute nickname'),
    "a role mapped to a raw value": (
        'Docent = "employee"', 'Docent = "Docent"', ESDOORN,
        'field "roles.Docent": "Docent" is not a role; expected one of student, employee'),
    "a default role that is no role": (
        'default_role = "student"', 'default_role = "Leerling"', ESDOORN,
        '"Leerling" is not a role'),
    "absurdly many role values": ('Docent = "employee"', MANY, ESDOORN, "expected at most 200"),
    "a Google school without hd": (
        KOMPAS_HD, 'email_verified = ["true"]', KOMPAS,
        'lacks "hd"; every account of https://accounts.google.com'),
    "same issuer, the same domain required": (
        '"vlinder.example.nl", ', '"kompas.example.nl", ', VLINDER,
        'is already used by schools[0] (id "kompas")'),
    "one issuer, the first school without require": (
        (GOOGLE, f"[schools.require]\n{KOMPAS_HD}\n"), (STICHTING, ""), VLINDER,
        f'issuer "{STICHTING}" is already used by schools[0] (id "kompas"); expected a unique '
        "issuer, or [schools.require] on every school at it"),
    "one issuer, the second school without require": (
        (GOOGLE, f"[schools.require]\n{VLINDER_HD}\n"), (STICHTING, ""), VLINDER,
        f'issuer "{STICHTING}" is already used by schools[0] (id "kompas")'),
    "a template issuer without tid": (
        f'tid = ["{TENANT}"]', 'hd = ["esdoorn.example.nl"]', ESDOORN, 'lacks "tid"'),
    "a tenant id of a strange shape": (TENANT, "../x", ESDOORN, "is not a tenant id"),
    "require is not a table": (
        f"[schools.require]\n{KOMPAS_HD}\n", 'require = "kompas.example.nl"\n', KOMPAS,
        "expected a table of claim"),
    "an empty list of values": (KOMPAS_HD, "hd = []", KOMPAS, "expected an array of 1 to 64"),
    "absurdly many values": (
        KOMPAS_HD, "hd = [" + ", ".join(f'"d{i}.example"' for i in range(65)) + "]", KOMPAS,
        "expected an array of 1 to 64"),
    "an absurdly long value": (KOMPAS_HD, f'hd = ["{"k" * 300}"]', KOMPAS,
                               "at most 256 characters"),
    "absurdly many claims": (KOMPAS_HD, "\n".join(f'c{i} = ["x"]' for i in range(9)), KOMPAS,
                             "expected 1 to 8"),
}


@pytest.mark.parametrize("old, new, entry, says", BAD.values(), ids=BAD.keys())
def test_bad_require_claims_or_roles_are_refused(tmp_path: Path, old: Edit, new: Edit,
                                                 entry: str, says: str) -> None:
    text = SCHOOLS
    for was, now in zip(_edits(old), _edits(new), strict=True):
        assert was in text
        text = text.replace(was, now)
    _refused(tmp_path, text, entry, says)


def test_schools_at_one_issuer_each_with_require_are_read(tmp_path: Path) -> None:
    text = SCHOOLS.replace(GOOGLE, STICHTING)
    assert [s.id for s in load_federation(write_federation(tmp_path, text)).schools] == [
        "kompas", "vlinder", "esdoorn"]


def test_a_school_without_require_at_a_registered_schools_issuer_is_refused(
        registry: Registry, tmp_path: Path) -> None:
    registry.import_federation(load_federation(write_federation(
        tmp_path, SCHOOLS.replace(GOOGLE, STICHTING))), key_version=1)
    (tmp_path / "more").mkdir()
    text = SCHOOLS.replace(GOOGLE, STICHTING).replace('id = "kompas"', 'id = "anker"').replace(
        f"[schools.require]\n{KOMPAS_HD}\n", "")
    one = text[:text.index('[[schools]]\nid = "vlinder"')]
    with pytest.raises(FederationError) as raised:
        registry.import_federation(load_federation(write_federation(tmp_path / "more", one)),
                                   key_version=1)
    assert any('is already used by "kompas" in the registry' in p
               for p in raised.value.problems), raised.value.problems


def _edits(edit: Edit) -> tuple[str, ...]:
    return (edit,) if isinstance(edit, str) else edit


def test_two_schools_at_one_issuer_without_require_are_refused(tmp_path: Path) -> None:
    text = (SCHOOLS.replace("https://accounts.google.com", "https://sso.stichting.example")
            .replace(f"[schools.require]\n{KOMPAS_HD}\n", "")
            .replace(f"[schools.require]\n{VLINDER_HD}\n", ""))
    _refused(tmp_path, text, VLINDER, 'is already used by schools[0] (id "kompas")')


def _refused(tmp_path: Path, text: str, entry: str, says: str) -> None:
    with pytest.raises(FederationError) as raised:
        load_federation(write_federation(tmp_path, text))
    assert any(p.split(": ", 1)[1].startswith(entry) and says in p
               for p in raised.value.problems), raised.value.problems
