"""The attribute vocabulary: forgiving on input, strict on output."""

from __future__ import annotations

import pytest

from broker import attributes


@pytest.mark.parametrize("name", ["urn:oid:2.5.4.42", "givenName", "GIVENNAME",
                                  "urn:mace:dir:attribute-def:givenName"])
def test_saml_input_accepts_oid_mace_and_friendly_names(name: str) -> None:
    assert attributes.from_saml({name: ["Sanne"]}) == {"given_name": ("Sanne",)}


def test_unknown_upstream_attributes_are_dropped() -> None:
    got = attributes.from_saml({"urn:oid:2.5.4.42": ["Sanne"], "bsn": ["123456782"],
                                "urn:oid:1.2.3.4": ["x"]})
    assert got == {"given_name": ("Sanne",)}
    assert attributes.from_oidc({"given_name": "Sanne", "phone_number": "06"}) == {
        "given_name": ("Sanne",)}


def test_values_merge_across_name_forms_without_duplicates() -> None:
    got = attributes.from_saml({"eduPersonAffiliation": ["student"],
                                "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ["student", "member"]})
    assert got == {"role": ("student", "member")}


def test_non_string_and_empty_values_are_ignored() -> None:
    assert attributes.from_oidc({"email": 42, "given_name": "", "groups": ["a", 3]}) == {
        "groups": ("a",)}


def test_saml_output_uses_oid_names() -> None:
    assert attributes.to_saml({"given_name": ("Sanne",), "role": ("student",)}) == {
        "urn:oid:2.5.4.42": ("Sanne",), "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ("student",)}


def test_oidc_output_needs_the_standard_scope_for_standard_claims() -> None:
    released = {"given_name": ("Sanne",), "email": ("s@x.example",), "role": ("student",),
                "eck_id": ("e",)}
    assert attributes.to_oidc(released, ["openid"]) == {"eduperson_affiliation": ["student"],
                                                        "eckid": "e"}
    assert attributes.to_oidc(released, ["openid", "profile", "email"]) == {
        "given_name": "Sanne", "email": "s@x.example", "eduperson_affiliation": ["student"],
        "eckid": "e"}


def test_eck_id_is_sensitive() -> None:
    assert attributes.is_sensitive("eck_id")
    assert not attributes.is_sensitive("given_name")


ECK = "https://ketenid.nl/201703/1a5c9c7203901866532c2d72ce056e1d29cacc70836fe2bc3a517f3f9a53eed3"


@pytest.mark.parametrize("value", [ECK, "https://ketenid.nl/201703/ABCDEF0123"])
def test_an_eck_id_of_the_edu_k_shape_is_kept(value: str) -> None:
    assert attributes.from_saml({"eckId": [value]}) == {"eck_id": (value,)}
    assert attributes.from_oidc({"eckid": value}) == {"eck_id": (value,)}


@pytest.mark.parametrize("value", [
    "1a5c9c7203901866", "http://ketenid.nl/201703/1a5c", "https://ketenid.nl.evil.example/1/ab",
    "https://ketenid.nl/201703/1a5c/../x", "https://ketenid.nl/201703/", f"{ECK}\n",
    "https://ketenid.nl/201703/1a5c?x=1", "urn:collab:person:school.example:sanne"])
def test_a_malformed_eck_id_is_dropped_by_name_never_by_value(
        value: str, caplog: pytest.LogCaptureFixture) -> None:
    got = attributes.from_saml({"urn:mace:surf.nl:attribute-def:eckid": [value],
                                "givenName": ["Sanne"]})
    assert got == {"given_name": ("Sanne",)}
    assert attributes.from_oidc({"eckid": value}) == {}
    dropped = [r for r in caplog.records if r.name == "loper.attributes"]
    assert dropped and all(getattr(r, "attribute", None) == "eck_id" for r in dropped)
    assert value.strip() not in caplog.text


def test_surfconext_collab_person_id_is_not_an_eck_id() -> None:
    assert attributes.from_saml({"urn:oid:1.3.6.1.4.1.1076.20.40.40.1": [ECK]}) == {}


def test_a_parents_children_are_read_but_never_part_of_the_vocabulary() -> None:
    children = ["3f9c2a7e", "https://ketenid.nl/201703/9b2e4f"]
    assert attributes.from_saml({"guardianOf": children}) == {"guardian_of": tuple(children)}
    assert attributes.from_oidc({"guardian_of": children}) == {"guardian_of": tuple(children)}
    assert "guardian_of" not in attributes.NAMES
    assert attributes.to_saml({"guardian_of": ("x",)}) == {}
    assert attributes.to_oidc({"guardian_of": ("x",)}, ["openid"]) == {}
