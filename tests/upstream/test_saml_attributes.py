"""What Loper reads from a school's SAML attributes, in the shapes Entra ID, ADFS and Entree
really send them, through the SAML upstream against a real pysaml2 IdP."""

from __future__ import annotations

import logging

import pytest
from lxml import etree

from broker.records import School
from broker.saml.scopes import scopes
from broker.upstream.saml import SamlUpstream
from broker.upstream.saml_kind import SamlSchool
from tests.upstream.saml_idp import NS, SAML, Login, SchoolIdp, Tamper

MS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
MS_2008 = "http://schemas.microsoft.com/ws/2008/06/identity/claims/"
MS_ID = "http://schemas.microsoft.com/identity/claims/"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SHIBMD = "urn:mace:shibboleth:metadata:1.0"
UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
GROUP = "7b1a4c6e-2f0e-4d55-9b4f-0c1d2e3f4a5b"

# The claims of Microsoft's "SAML token claims reference" (Entra ID) and of an ADFS relying
# party trust with the usual LDAP-attribute rules.
ENTRA = [
    (MS_ID + "tenantid", ["6f1c2d3e-aaaa-bbbb-cccc-1234567890ab"]),
    (MS_ID + "objectidentifier", ["3f2504e0-4f89-11d3-9a0c-0305e82c3301"]),
    (MS + "name", ["sanne@regenboog.onmicrosoft.com"]),
    (MS + "surname", ["de Vries"]),
    (MS + "givenname", ["Sanne"]),
    (MS_ID + "displayname", ["Sanne de Vries"]),
    (MS_ID + "identityprovider", ["https://sts.windows.net/6f1c2d3e/"]),
    ("http://schemas.microsoft.com/claims/authnmethodsreferences",
     ["http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"]),
    (MS + "emailaddress", ["sanne@regenboog.example"]),
    (MS_2008 + "groups", [GROUP]),
]
ADFS = [
    (MS + "upn", ["sanne@regenboog.local"]),
    (MS + "givenname", ["Sanne"]),
    (MS + "surname", ["de Vries"]),
    (MS + "emailaddress", ["sanne@regenboog.example"]),
    (MS_2008 + "role", ["Leerling"]),
    (MS_2008 + "groups", ["Groep 7b", "Alle leerlingen"]),
]


def statement(attributes: list[tuple[str, list[str]]],
              name_format: str | None = None) -> etree._Element:
    root = etree.Element(f"{{{SAML}}}AttributeStatement", nsmap={"saml": SAML})
    for name, values in attributes:
        attribute = etree.SubElement(root, f"{{{SAML}}}Attribute", Name=name)
        if name_format is not None:
            attribute.set("NameFormat", name_format)
        for value in values:
            etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value
    return root


def answer(login: Login, attributes: list[tuple[str, list[str]]],
           name_format: str | None = None) -> dict[str, tuple[str, ...]]:
    """The school's answer with exactly these attributes, and what Loper read from it."""
    request, state = login.start()
    tamper = Tamper(login.idp, request)

    def replace(root: etree._Element) -> None:
        old = root.find(".//saml:AttributeStatement", NS)
        old.getparent().replace(old, statement(attributes, name_format))

    return dict(login.finish(tamper.edit(replace).signed(), state).identity.attributes)


def scoped_metadata(idp: SchoolIdp, *values: str, regexp: bool = False) -> str:
    """The IdP's metadata, publishing these shibmd:Scope values."""
    root = etree.fromstring(idp.metadata_xml().encode())
    descriptor = root.find(f"{{{MD}}}IDPSSODescriptor")
    extensions = etree.Element(f"{{{MD}}}Extensions")
    for value in values:
        etree.SubElement(extensions, f"{{{SHIBMD}}}Scope", nsmap={"shibmd": SHIBMD},
                         regexp="true" if regexp else "false").text = value
    descriptor.insert(0, extensions)
    return etree.tostring(root).decode()


@pytest.mark.parametrize("name_format", [None, UNSPECIFIED])
def test_an_entra_id_answer(login: Login, name_format: str | None) -> None:
    """Entra's group ids are no classes: dropped unless the school maps groups itself."""
    assert answer(login, ENTRA, name_format) == {
        "given_name": ("Sanne",), "family_name": ("de Vries",),
        "display_name": ("Sanne de Vries",), "email": ("sanne@regenboog.example",)}


@pytest.mark.parametrize("name_format", [UNSPECIFIED, URI])
def test_an_adfs_answer(login: Login, name_format: str) -> None:
    assert answer(login, ADFS, name_format) == {
        "given_name": ("Sanne",), "family_name": ("de Vries",),
        "email": ("sanne@regenboog.example",), "role": ("Leerling",),
        "groups": ("Groep 7b", "Alle leerlingen")}


def test_an_entra_school_identifies_people_by_object_id(login: Login, idp: SchoolIdp) -> None:
    school = idp.school(subject=MS_ID + "objectidentifier")
    request, state = login.start()
    tamper = Tamper(idp, request).edit(lambda root: root.find(
        ".//saml:AttributeStatement", NS).append(statement(ENTRA)[1]))
    subject = login.finish(tamper.signed(), state, school).identity.subject
    assert subject == "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


def test_the_urn_oid_name_wins_over_the_microsoft_name(
        login: Login, caplog: pytest.LogCaptureFixture) -> None:
    got = answer(login, [(MS + "givenname", ["Mallory"]), ("urn:oid:2.5.4.42", ["Sanne"]),
                         (MS + "surname", ["de Vries"])], URI)
    assert got == {"given_name": ("Sanne",), "family_name": ("de Vries",)}
    [conflict] = [r for r in caplog.records if r.name == "loper.attributes"]
    assert getattr(conflict, "attribute", None) == "given_name"
    assert "Mallory" not in caplog.text and "Sanne" not in caplog.text


AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.9"
SCOPED = [(AFFILIATION, ["student@regenboog.example", "member@regenboog.example",
                         "employee@lyceum.example"])]


def test_scoped_affiliation_only_in_the_schools_scope(
        upstream: SamlUpstream, idp: SchoolIdp, caplog: pytest.LogCaptureFixture) -> None:
    school = School("regenboog", "OBS De Regenboog",
                    SamlSchool(scoped_metadata(idp, "Regenboog.example"), idp.entity_id))
    login = Login(upstream, idp, school)
    assert answer(login, SCOPED, URI)["scoped_affiliation"] == (
        "student@regenboog.example", "member@regenboog.example")
    assert "lyceum" not in caplog.text
    assert [getattr(r, "attribute", None) for r in caplog.records
            if r.name == "loper.attributes"] == ["scoped_affiliation"]


def test_scoped_affiliation_without_scopes_in_the_metadata(login: Login) -> None:
    assert "scoped_affiliation" not in answer(login, SCOPED, URI)


def test_the_scopes_of_the_schools_own_entity_only(idp: SchoolIdp) -> None:
    assert scopes(scoped_metadata(idp, "a.example", " B.example "), idp.entity_id) == (
        "a.example", "b.example")
    assert scopes(scoped_metadata(idp, "a.example", regexp=True), idp.entity_id) == ()
    assert scopes(scoped_metadata(idp, "a.example"), "https://other.example") == ()
    assert scopes("<not xml", idp.entity_id) == ()


SENSITIVE = [("urn:mace:dir:attribute-def:nlEduPersonProfileId", ["profile-8c1f"]),
             ("urn:mace:dir:attribute-def:nlEduPersonRealId", ["real-2b7e"]),
             ("urn:mace:surf.nl:attribute-def:eckid", ["https://ketenid.nl/201703/1a5c9c72"]),
             ("urn:mace:dir:attribute-def:nlEduPersonHomeOrganization", ["OBS De Regenboog"]),
             ("urn:mace:dir:attribute-def:nlEduPersonHomeOrganizationBranchId", ["11ZZ03"])]


def test_the_entree_attributes_and_no_sensitive_value_in_any_log(
        login: Login, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="loper")
    bad = [(name, ["x" * 2000, values[0]] + ["noise"] * 300) for name, values in SENSITIVE]
    got = answer(login, bad, URI)
    assert got == {"profile_id": ("profile-8c1f", "noise"), "real_id": ("real-2b7e", "noise"),
                   "eck_id": ("https://ketenid.nl/201703/1a5c9c72",),
                   "school_name": ("OBS De Regenboog", "noise"),
                   "branch_id": ("11ZZ03", "noise")}
    logged = caplog.text + " ".join(str(vars(r)) for r in caplog.records)
    assert not any(v in logged for v in ("profile-8c1f", "real-2b7e", "1a5c9c72", "xxxx"))


SCHAC = "urn:oid:1.3.6.1.4.1.25178.1.2.9"


@pytest.mark.parametrize("sent, kept", [("regenboog.example", True), ("REGENBOOG.example", True),
                                        ("lyceum.example", False),
                                        ("sub.regenboog.example", False)])
def test_schac_home_organization_must_be_one_of_the_schools_scopes(
        upstream: SamlUpstream, idp: SchoolIdp, sent: str, kept: bool) -> None:
    """Shibboleth's ValueMatchesShibMDScope: the value itself is one of the school's scopes."""
    school = School("regenboog", "OBS De Regenboog",
                    SamlSchool(scoped_metadata(idp, "regenboog.example"), idp.entity_id))
    got = answer(Login(upstream, idp, school), [(SCHAC, [sent])], URI)
    assert got.get("school_domain") == ((sent,) if kept else None)


def test_configured_domains_count_beside_the_metadatas_scopes(upstream: SamlUpstream,
                                                             idp: SchoolIdp) -> None:
    school = School("regenboog", "OBS De Regenboog", SamlSchool(idp.metadata_xml(),
                                                                idp.entity_id),
                    domains=("regenboog.example",))
    got = answer(Login(upstream, idp, school), [*SCOPED, (SCHAC, ["regenboog.example"])], URI)
    assert got["scoped_affiliation"] == ("student@regenboog.example", "member@regenboog.example")
    assert got["school_domain"] == ("regenboog.example",)


def test_without_any_scope_no_school_domain_is_believed(login: Login) -> None:
    assert "school_domain" not in answer(login, [(SCHAC, ["regenboog.example"])], URI)
