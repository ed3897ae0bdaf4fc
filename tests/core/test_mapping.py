"""broker/mapping.py: a school's own claim names and role values, for OIDC and SAML alike."""

from __future__ import annotations

from typing import Any

import pytest

from broker.attributes import from_oidc, from_saml
from broker.errors import UpstreamRejected
from broker.mapping import MAX_CHARS, MAX_ITEMS, MAX_VALUES, map_attributes
from broker.records import School
from broker.upstream.oidc_kind import OidcSchool

GROUP_GUID = "c0ffee00-aaaa-bbbb-cccc-000000000001"
ENTRA = {"iss": "https://login.microsoftonline.com/6f1c5b1e-0d7a-4c3e-9a51-2b8f4d3c9e10/v2.0",
         "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "ver": "2.0",
         "tid": "6f1c5b1e-0d7a-4c3e-9a51-2b8f4d3c9e10",
         "oid": "00000000-0000-0000-66f3-3332eca7ea81", "name": "Sanne de Vries",
         "preferred_username": "sanne@esdoorn.example.nl", "upn": "sanne@esdoorn.example.nl",
         "roles": ["Leerling"], "groups": [GROUP_GUID]}


def school(**mapping: Any) -> School:
    return School(id="esdoorn", name="De Esdoorn",
                  config=OidcSchool(issuer="https://op.example", client_id="loper"), **mapping)


def oidc(s: School, claims: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return dict(map_attributes(s, claims, from_oidc(claims)))


def test_without_a_mapping_entra_claims_give_only_the_name() -> None:
    assert oidc(school(), ENTRA) == {"display_name": ("Sanne de Vries",)}


def test_entra_roles_and_upn_become_usable_through_the_mapping() -> None:
    mapped = school(claims={"role": "roles", "email": "preferred_username"},
                    roles={"Leerling": "student", "Docent": "employee"})
    assert oidc(mapped, ENTRA) == {"display_name": ("Sanne de Vries",), "role": ("student",),
                                   "email": ("sanne@esdoorn.example.nl",)}


def test_group_guids_pass_only_when_mapped() -> None:
    assert "groups" not in oidc(school(), {**ENTRA, "groups": [GROUP_GUID]})
    assert oidc(school(), {"groups": [GROUP_GUID, "4B"]})["groups"] == ("4B",)
    assert oidc(school(claims={"groups": "groups"}), ENTRA)["groups"] == (GROUP_GUID,)


@pytest.mark.parametrize("default, expected", [("student", ("student",)), (None, None)])
def test_a_role_that_maps_to_nothing_is_never_passed_on(default: str | None,
                                                        expected: tuple[str, ...] | None) -> None:
    mapped = school(claims={"role": "roles"}, roles={"Docent": "employee"}, default_role=default)
    assert oidc(mapped, {**ENTRA, "roles": ["Beheerder", "Leerling"]}).get("role") == expected


def test_the_roles_table_wins_and_loper_values_pass() -> None:
    mapped = school(roles={"staff": "employee", "student": "employee"})
    claims = {"eduperson_affiliation": ["student", "staff", "member", "employee"]}
    assert oidc(mapped, claims)["role"] == ("employee",)


def test_a_guardian_role_may_be_a_target() -> None:
    mapped = school(roles={"Ouder": "parent"}, guardian_role="parent")
    assert oidc(mapped, {"eduperson_affiliation": ["Ouder"]})["role"] == ("parent",)


def test_a_school_without_roles_keeps_its_role_values() -> None:
    claims = {"eduperson_affiliation": ["student", "member"]}
    assert oidc(school(), claims)["role"] == ("student", "member")


def test_saml_attribute_names_map_too() -> None:
    role_uri = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
    raw = {role_uri: ["Leerling"], "urn:oid:2.5.4.42": ["Sanne"],
           "HTTP://SCHEMAS.XMLSOAP.ORG/ws/2005/05/identity/claims/upn": ["s@x.example"]}
    mapped = school(claims={"role": role_uri,
                            "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"},
                    roles={"Leerling": "student"})
    assert dict(map_attributes(mapped, raw, from_saml(raw))) == {
        "given_name": ("Sanne",), "role": ("student",), "email": ("s@x.example",)}


def test_eck_id_shape_is_checked_when_mapped() -> None:
    mapped = school(claims={"eck_id": "urn:custom:eck"})
    assert "eck_id" not in oidc(mapped, {"urn:custom:eck": "not-an-eck-id"})


ABSURD = {
    "too many claims": ({f"c{i}": "x" for i in range(MAX_ITEMS + 1)}, f"at most {MAX_ITEMS}"),
    "too many values": ({"groups": ["4B"] * (MAX_VALUES + 1)}, "values of 'groups'"),
    "too long a value": ({"name": "x" * (MAX_CHARS + 1)}, "value of 'name' longer"),
}


@pytest.mark.parametrize("claims, says", ABSURD.values(), ids=ABSURD.keys())
def test_absurd_answers_are_refused(claims: dict[str, Any], says: str) -> None:
    with pytest.raises(UpstreamRejected, match=says):
        oidc(school(), claims)
