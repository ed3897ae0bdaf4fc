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


MS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
MS_2008 = "http://schemas.microsoft.com/ws/2008/06/identity/claims/"


@pytest.mark.parametrize(("name", "internal"), [
    (MS + "givenname", "given_name"), (MS + "surname", "family_name"),
    (MS + "emailaddress", "email"), (MS_2008 + "role", "role"), (MS_2008 + "groups", "groups"),
    ("http://schemas.microsoft.com/identity/claims/displayname", "display_name"),
])
def test_microsoft_claim_uris_are_read(name: str, internal: str) -> None:
    assert attributes.from_saml({name: ["x"]}) == {internal: ("x",)}


@pytest.mark.parametrize("name", [
    MS + "name", MS + "upn", "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "http://schemas.microsoft.com/identity/claims/tenantid"])
def test_microsoft_login_names_and_ids_are_not_vocabulary(name: str) -> None:
    assert attributes.from_saml({name: ["sanne@regenboog.example"]}) == {}


def test_the_own_name_wins_a_conflict_logged_by_name_only(
        caplog: pytest.LogCaptureFixture) -> None:
    got = attributes.from_saml({MS + "givenname": ["Mallory"], "urn:oid:2.5.4.42": ["Sanne"],
                                MS + "surname": ["de Vries"], "sn": ["de Vries"]})
    assert got == {"given_name": ("Sanne",), "family_name": ("de Vries",)}
    [conflict] = [r for r in caplog.records if r.name == "loper.attributes"]
    assert getattr(conflict, "attribute", None) == "given_name"
    assert MS + "givenname" in conflict.getMessage()
    assert "Mallory" not in caplog.text and "Sanne" not in caplog.text


@pytest.mark.parametrize(("name", "internal", "claim"), [
    ("urn:mace:dir:attribute-def:nlEduPersonHomeOrganization", "school_name",
     "nl_edu_person_home_organization"),
    ("nlEduPersonHomeOrganizationBranchId", "branch_id",
     "nl_edu_person_home_organization_branch_id"),
    ("nlEduPersonProfileId", "profile_id", "nl_edu_person_profile_id"),
    ("urn:mace:dir:attribute-def:nlEduPersonRealId", "real_id", "nl_edu_person_real_id"),
])
def test_the_entree_names(name: str, internal: str, claim: str) -> None:
    assert attributes.from_saml({name: ["11ZZ03"]}) == {internal: ("11ZZ03",)}
    assert attributes.from_oidc({claim: "11ZZ03"}) == {internal: ("11ZZ03",)}
    assert attributes.to_oidc({internal: ("11ZZ03",)}, ()) == {
        claim: ["11ZZ03"] if attributes.BY_NAME[internal].multi_valued else "11ZZ03"}


def test_profile_and_real_ids_are_sensitive() -> None:
    assert attributes.is_sensitive("profile_id") and attributes.is_sensitive("real_id")
    assert not attributes.is_sensitive("school_name")


def test_scoped_affiliation_keeps_only_the_schools_scopes(
        caplog: pytest.LogCaptureFixture) -> None:
    sent = {"urn:oid:1.3.6.1.4.1.5923.1.1.1.9": [
        "student@regenboog.example", "member@REGENBOOG.example", "employee@evil.example",
        "student", "@regenboog.example"]}
    got = attributes.from_saml(sent, scopes={"regenboog.example"})
    assert got == {"scoped_affiliation": ("student@regenboog.example",
                                          "member@REGENBOOG.example")}
    assert attributes.from_saml(sent) == {}  # no scope known: none is the school's
    assert attributes.from_oidc({"eduperson_scoped_affiliation": ["a@b.example"]}) == {}
    assert "evil.example" not in caplog.text
    assert {getattr(r, "attribute", None) for r in caplog.records} == {"scoped_affiliation"}


def test_absurd_counts_and_sizes_are_capped(caplog: pytest.LogCaptureFixture) -> None:
    many = [f"group-{i}" for i in range(attributes.MAX_VALUES * 40)]
    huge = "x" * (attributes.MAX_VALUE_CHARS + 1)
    got = attributes.from_saml({"isMemberOf": many, "givenName": [huge, "Sanne"]})
    assert got == {"groups": tuple(many[:attributes.MAX_VALUES]), "given_name": ("Sanne",)}
    assert len(caplog.records) == 2 and huge not in caplog.text


@pytest.mark.parametrize("value", ["Sa\x01nne", "Sanne\x00", "Sa\x7fnne", "Sa\ud800nne"])
def test_a_value_no_answer_can_carry_is_dropped_by_name(
        value: str, caplog: pytest.LogCaptureFixture) -> None:
    got = attributes.from_oidc({"given_name": value, "family_name": "de Vries"})
    assert got == {"family_name": ("de Vries",)}
    (record,) = caplog.records
    assert record.__dict__["attribute"] == "given_name"
    assert "control characters" in record.getMessage()
    assert value not in caplog.text
