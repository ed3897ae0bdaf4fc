"""OIDC schools as Google Workspace and Entra ID are: several schools at one issuer, told apart
by [schools.require]; a multi-tenant Entra issuer is a template that needs `require.tid`."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.registry import FederationError, Registry, dump_federation, load_federation
from broker.upstream.oidc_kind import OidcSchool
from tests.registry.conftest import write_federation

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
    registry.import_federation(load_federation(write_federation(tmp_path, SCHOOLS)),
                               key_version=1)
    exported = dump_federation(registry.export_federation())
    assert "[schools.require]" in exported and "[schools.roles]" in exported
    (tmp_path / "copy").mkdir()
    again = load_federation(write_federation(tmp_path / "copy", exported))
    other = Registry(f"sqlite:///{tmp_path / 'other.sqlite'}")
    try:
        other.upgrade()
        other.import_federation(again, key_version=1)
        assert dump_federation(other.export_federation()) == exported
        assert other.export_federation().schools == registry.export_federation().schools
    finally:
        other.close()


BAD = {
    "a claim for a name outside the vocabulary": (
        SCHOOLS.replace('role = "roles"', 'nickname = "roles"'),
        'schools[2] (id "esdoorn")', 'unknown attribute "nickname"'),
    "a role mapped to a raw value": (
        SCHOOLS.replace('Docent = "employee"', 'Docent = "Docent"'),
        'schools[2] (id "esdoorn")', 'expected a table of the school\'s role value = "student"'),
    "a default role that is no role": (
        SCHOOLS.replace('default_role = "student"', 'default_role = "Leerling"'),
        'schools[2] (id "esdoorn")', '"Leerling" is not a role'),
    "absurdly many role values": (
        SCHOOLS.replace('Docent = "employee"',
                        "\n".join(f'r{i} = "student"' for i in range(201))),
        'schools[2] (id "esdoorn")', "expected at most 200"),
    "same issuer, no require": (
        SCHOOLS.replace("https://accounts.google.com", "https://sso.stichting.example")
        .replace('[schools.require]\nhd = ["kompas.example.nl"]\n', "").replace(
            '[schools.require]\nhd = ["vlinder.example.nl", "vlinder-bovenbouw.example.nl"]\n',
            ""),
        'schools[1] (id "vlinder")', 'is already used by schools[0] (id "kompas")'),
    "a Google school without hd": (
        SCHOOLS.replace('hd = ["kompas.example.nl"]', 'email_verified = ["true"]'),
        'schools[0] (id "kompas")', 'lacks "hd"; every account of https://accounts.google.com'),
    "same issuer, the same domain required": (
        SCHOOLS.replace('"vlinder.example.nl", ', '"kompas.example.nl", '),
        'schools[1] (id "vlinder")', 'is already used by schools[0] (id "kompas")'),
    "a template issuer without tid": (
        SCHOOLS.replace(f'tid = ["{TENANT}"]', 'hd = ["esdoorn.example.nl"]'),
        'schools[2] (id "esdoorn")', 'lacks "tid"'),
    "a tenant id of a strange shape": (
        SCHOOLS.replace(TENANT, "../x"), 'schools[2] (id "esdoorn")', "is not a tenant id"),
    "require is not a table": (
        SCHOOLS.replace('[schools.require]\nhd = ["kompas.example.nl"]\n',
                        'require = "kompas.example.nl"\n'),
        'schools[0] (id "kompas")', "expected a table of claim"),
    "an empty list of values": (
        SCHOOLS.replace('hd = ["kompas.example.nl"]', "hd = []"),
        'schools[0] (id "kompas")', "expected an array of 1 to 64"),
    "absurdly many values": (
        SCHOOLS.replace('hd = ["kompas.example.nl"]',
                        "hd = [" + ", ".join(f'"d{i}.example"' for i in range(65)) + "]"),
        'schools[0] (id "kompas")', "expected an array of 1 to 64"),
    "an absurdly long value": (
        SCHOOLS.replace('hd = ["kompas.example.nl"]', f'hd = ["{"k" * 300}"]'),
        'schools[0] (id "kompas")', "at most 256 characters"),
    "absurdly many claims": (
        SCHOOLS.replace('hd = ["kompas.example.nl"]',
                        "\n".join(f'c{i} = ["x"]' for i in range(9))),
        'schools[0] (id "kompas")', "expected 1 to 8"),
}


@pytest.mark.parametrize("text, entry, says", BAD.values(), ids=BAD.keys())
def test_bad_require_is_refused(tmp_path: Path, text: str, entry: str, says: str) -> None:
    with pytest.raises(FederationError) as raised:
        load_federation(write_federation(tmp_path, text))
    assert any(p.split(": ", 1)[1].startswith(entry) and says in p
               for p in raised.value.problems), raised.value.problems
