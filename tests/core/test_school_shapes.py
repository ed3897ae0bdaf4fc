"""Test people in a school's own shape (broker/upstream/*_shapes.py), read back by the kind's
`read`, the code a real login reads answers with: what the release preview shows a school's
admin. The shapes follow the providers' documentation (see the modules)."""

from __future__ import annotations

from dataclasses import replace

from broker.admin.school_samples import shaped
from broker.attributes import MS_2008, MS_CLAIMS, MS_IDENTITY
from broker.records import Behind, School
from broker.upstream.oidc_kind import OidcSchool
from broker.upstream.saml_kind import SamlSchool
from tests.registry.conftest import REGENBOOG_IDP
from tests.registry.metadata_xml import idp_metadata

TENANT = "6f1c5b1e-0d7a-4c3e-9a51-2b8f4d3c9e10"
KOMPAS = School("kompas", "Het Kompas", OidcSchool(
    "https://accounts.google.com", "c", require={"hd": ("kompas.example.nl",)}),
    default_role="student")
ESDOORN = School("esdoorn", "De Esdoorn", OidcSchool(
    "https://login.microsoftonline.com/{tenantid}/v2.0", "c", require={"tid": (TENANT,)}),
    claims={"role": "roles", "email": "preferred_username"},
    roles={"Leerling": "student", "Docent": "employee"}, domains=("esdoorn.nl",))
ADFS = School("linde", "CBS De Linde", SamlSchool(
    idp_metadata("https://adfs.linde.nl/adfs/services/trust"),
    "https://adfs.linde.nl/adfs/services/trust"),
    claims={"role": MS_2008 + "role"}, roles={"Leerlingen": "student",
                                              "Medewerkers": "employee"})
ENTRA_SAML = School("berk", "De Berk", SamlSchool(
    idp_metadata(f"https://sts.windows.net/{TENANT}/"), f"https://sts.windows.net/{TENANT}/"),
    roles={"Leerling": "student", "Docent": "employee"})
OID = School("regenboog", "OBS De Regenboog", SamlSchool(idp_metadata(REGENBOOG_IDP),
                                                         REGENBOOG_IDP),
             domains=("regenboog.nl",))
HUB = replace(OID, id="entree", name="Entree", hub=True, domains=(),
              claims={"school_id": "urn:mace:dir:attribute-def:nlEduPersonHomeOrganizationId"})
DE_ES = School("de-es", "OBS De Es", Behind("entree", {"school_id": "22YY04"}))
SCHOOLS = {s.id: s for s in (KOMPAS, ESDOORN, ADFS, ENTRA_SAML, OID, HUB, DE_ES)}


def both(school: School) -> tuple[dict[str, object], dict[str, object]]:
    pupil, teacher = shaped(school, SCHOOLS.get)
    assert pupil.problem is None and teacher.problem is None
    return dict(pupil.sent) | {"read": dict(pupil.attributes)}, dict(teacher.sent) | {
        "read": dict(teacher.attributes)}


def test_a_google_workspace_school() -> None:
    pupil, teacher = both(KOMPAS)
    assert pupil["iss"] == "https://accounts.google.com" and pupil["hd"] == "kompas.example.nl"
    assert pupil["email_verified"] is True and "roles" not in pupil
    assert pupil["read"] == {"given_name": ("Sanne",), "family_name": ("de Vries",),
                             "display_name": ("Sanne de Vries",),
                             "email": ("sanne.devries@kompas.example.nl",),
                             "role": ("student",)}  # Google sends none: the default role
    assert teacher["read"]["role"] == ("student",)


def test_a_google_workspace_school_telling_its_teachers_by_their_domain() -> None:
    """The teacher's address is in the teachers' domain, as the role read from it."""
    split = replace(KOMPAS, claims={"role": "hd"}, config=replace(
        KOMPAS.config, require={"hd": ("leerling.kompas.nl", "kompas.nl")}),
        roles={"leerling.kompas.nl": "student", "kompas.nl": "employee"})
    pupil, teacher = both(split)
    assert (pupil["hd"], pupil["read"]["email"], pupil["read"]["role"]) == (
        "leerling.kompas.nl", ("sanne.devries@leerling.kompas.nl",), ("student",))
    assert (teacher["hd"], teacher["read"]["email"], teacher["read"]["role"]) == (
        "kompas.nl", ("bram.visser@kompas.nl",), ("employee",))


def test_an_entra_id_school() -> None:
    pupil, teacher = both(ESDOORN)
    assert pupil["tid"] == TENANT and pupil["ver"] == "2.0"
    assert pupil["iss"] == f"https://login.microsoftonline.com/{TENANT}/v2.0"
    assert pupil["roles"] == ["Leerling"] and teacher["roles"] == ["Docent"]
    assert all(len(g) == 36 for g in teacher["groups"])  # type: ignore[union-attr]
    assert pupil["read"] == {"display_name": ("Sanne de Vries",), "role": ("student",),
                             "email": ("sanne.devries@esdoorn.nl",)}  # no GUIDs as groups
    assert teacher["read"]["role"] == ("employee",)


def test_an_adfs_school_with_microsoft_claim_uris() -> None:
    pupil, teacher = both(ADFS)
    assert pupil[MS_2008 + "role"] == ["Leerlingen"] and MS_CLAIMS + "upn" in pupil
    assert pupil["read"]["role"] == ("student",) and teacher["read"]["role"] == ("employee",)
    assert teacher["read"]["groups"] == ("Groep 7a", "Leerkrachten")
    assert pupil["read"]["given_name"] == ("Sanne",)


def test_an_entra_id_saml_school() -> None:
    pupil, _ = both(ENTRA_SAML)
    assert pupil[MS_IDENTITY + "tenantid"] and pupil[MS_2008 + "role"] == ["Leerling"]
    assert pupil["read"]["role"] == ("student",) and "groups" not in pupil["read"]
    assert pupil["read"]["display_name"] == ("Sanne de Vries",)


def test_a_school_of_the_education_vocabulary_with_its_domain() -> None:
    pupil, _ = both(OID)
    assert pupil["urn:oid:1.3.6.1.4.1.5923.1.1.1.1"] == ["student"]
    assert pupil["read"]["scoped_affiliation"] == ("student@regenboog.nl",)
    assert pupil["read"]["school_domain"] == ("regenboog.nl",)


def test_a_school_behind_a_hub_is_shaped_and_read_as_the_hubs_answer() -> None:
    pupil, _ = both(DE_ES)
    assert pupil["urn:mace:dir:attribute-def:nlEduPersonHomeOrganizationId"] == ["22YY04"]
    assert pupil["read"]["school_id"] == ("22YY04",)


def test_a_school_whose_hub_is_gone_has_no_shaped_people() -> None:
    assert shaped(replace(DE_ES, config=Behind("nowhere", {"school_id": "1"})),
                  SCHOOLS.get) == ()
