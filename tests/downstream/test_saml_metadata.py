"""What Loper's SAML metadata tells supplier and school software besides endpoints and keys:
shibmd:Scope for every scope it releases, mdui:UIInfo, contacts, validUntil and cacheDuration;
schema-valid (on libxml2, broker/saml/schema.py), loadable by pysaml2 and python3-saml, and
following the registry's schools over HTTP."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import xmlsec
from lxml import etree
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from saml2.config import SPConfig
from saml2.mdstore import MetadataStore
from saml2.xmldsig import SIG_RSA_SHA256

from app import create_app
from broker.downstream.saml_idp import SamlIdp
from broker.errors import ConfigError
from broker.instance import initialise
from broker.keys import ensure_saml_keypair, saml_signing
from broker.records import School
from broker.registry.federation import Federation
from broker.saml.published import (
    DEFAULT_LOGO,
    RENDER_AGAIN,
    Contact,
    Presentation,
    presentation,
)
from broker.saml.schema import compiled
from broker.saml.scopes import scopes
from broker.settings import load_settings
from broker.upstream.saml_config import SamlSpConfig, sp_metadata_xml
from broker.upstream.saml_kind import SamlSchool
from tests.downstream.saml_world import SamlWorld
from tests.xml_signatures import verify_enveloped

NS = {"md": "urn:oasis:names:tc:SAML:2.0:metadata",
      "mdui": "urn:oasis:names:tc:SAML:metadata:ui",
      "shibmd": "urn:mace:shibboleth:metadata:1.0"}
DS = "http://www.w3.org/2000/09/xmldsig#"
SHOWN = Presentation(
    description=(("nl", "Inloggen bij leermiddelen."), ("en", "Log in to learning apps.")),
    information_url=(("nl", "https://loper.example/over"), ("en", "https://loper.example/about")),
    privacy_url=(("nl", "https://loper.example/privacy"), ("en", "https://loper.example/privacy")),
    contacts=(Contact("technical", "beheer@loper.example"),
              Contact("support", "helpdesk@loper.example")))
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def school_metadata(entity_id: str, *scopes: tuple[str, str]) -> str:
    """A school's IdP metadata declaring (scope, regexp) pairs."""
    declared = "".join(f'<shibmd:Scope regexp="{regexp}">{scope}</shibmd:Scope>'
                       for scope, regexp in scopes)
    return (f'<md:EntityDescriptor xmlns:md="{NS["md"]}" xmlns:shibmd="{NS["shibmd"]}" '
            f'entityID="{entity_id}"><md:IDPSSODescriptor protocolSupportEnumeration='
            '"urn:oasis:names:tc:SAML:2.0:protocol"><md:Extensions>'
            f"{declared}</md:Extensions><md:SingleSignOnService Binding="
            '"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{entity_id}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')


def valid(xml: str) -> etree._Element:
    root = etree.fromstring(xml.encode())
    schema = compiled()
    assert schema.validate(root), schema.error_log
    return root


class Clock:
    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SamlWorld:
    return SamlWorld(tmp_path_factory.mktemp("saml-metadata"), presentation=SHOWN)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def idp(world: SamlWorld, clock: Clock) -> SamlIdp:
    return SamlIdp(world.config, clock=clock)


def _texts(parent: etree._Element, path: str) -> list[tuple[str | None, str | None]]:
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    return [(e.get(lang), e.text) for e in parent.findall(path, NS)]


def test_idp_metadata_publishes_scopes_ui_info_contacts_and_validity(idp: SamlIdp) -> None:
    root = valid(idp.metadata_xml(["regenboog.example", "zonnebloem.example"]))
    extensions = root.find("md:IDPSSODescriptor/md:Extensions", NS)
    assert extensions is not None
    scopes = extensions.findall("shibmd:Scope", NS)
    assert [(s.text, s.get("regexp")) for s in scopes] == [
        ("loper.example", "false"), ("regenboog.example", "false"),
        ("zonnebloem.example", "false")]
    ui = extensions.find("mdui:UIInfo", NS)
    assert ui is not None
    assert _texts(ui, "mdui:DisplayName") == [("nl", "Loper"), ("en", "Loper")]
    assert _texts(ui, "mdui:Description") == list(SHOWN.description)
    assert _texts(ui, "mdui:InformationURL") == list(SHOWN.information_url)
    assert _texts(ui, "mdui:PrivacyStatementURL") == list(SHOWN.privacy_url)
    logo = ui.find("mdui:Logo", NS)
    assert logo is not None and logo.text == DEFAULT_LOGO
    assert (logo.get("width"), logo.get("height")) == ("80", "60")
    contacts = [(c.get("contactType"), c.findtext("md:EmailAddress", namespaces=NS))
                for c in root.findall("md:ContactPerson", NS)]
    assert contacts == [("technical", "mailto:beheer@loper.example"),
                        ("support", "mailto:helpdesk@loper.example")]
    assert root.get("validUntil") == "2026-12-13T12:00:00Z"
    assert root.get("cacheDuration") == "PT6H"


def test_a_scope_is_listed_once_and_contacts_only_when_configured(world: SamlWorld) -> None:
    plain = SamlIdp(dataclasses.replace(world.config, presentation=Presentation()))
    root = valid(plain.metadata_xml(["loper.example", "a.example", "a.example"]))
    assert [s.text for s in root.iter(f"{{{NS['shibmd']}}}Scope")] == [
        "loper.example", "a.example"]
    assert root.findall("md:ContactPerson", NS) == []


def test_rendered_again_when_the_scopes_change_or_an_hour_passes(idp: SamlIdp,
                                                                  clock: Clock) -> None:
    first = idp.metadata_xml(["a.example"])
    assert idp.metadata_xml(["a.example"]) is first
    assert "b.example" in idp.metadata_xml(["a.example", "b.example"])
    assert "b.example" in idp.metadata_xml(None), "the registry is down: the last scopes"
    clock.now += RENDER_AGAIN
    later = etree.fromstring(idp.metadata_xml(None).encode())
    assert later.get("validUntil") == "2026-12-13T13:00:00Z"
    assert "b.example" in idp.metadata_xml(None)


def test_pysaml2_and_python3_saml_read_the_idp_metadata(world: SamlWorld, idp: SamlIdp) -> None:
    xml = idp.metadata_xml(["regenboog.example"])
    store = MetadataStore(None, SPConfig().load({"entityid": "https://sp.example/metadata"}))
    store.load("inline", xml)
    entity = world.config.entity_id
    assert store.single_sign_on_service(entity)
    assert store.mdui_uiinfo(entity)
    assert store.shibmd_scopes(entity, "idpsso_descriptor")
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml)
    assert parsed["idp"]["entityId"] == entity
    assert parsed["idp"]["singleSignOnService"]["url"] == world.config.sso_url


def test_sp_metadata_publishes_ui_info_contacts_and_validity(tmp_path: Path) -> None:
    ensure_saml_keypair(tmp_path, "sp")
    config = SamlSpConfig("https://loper.example/saml/sp/metadata",
                          "https://loper.example/saml/sp/acs", saml_signing(tmp_path),
                          presentation=SHOWN)
    root = valid(sp_metadata_xml(config, NOW))
    ui = root.find("md:SPSSODescriptor/md:Extensions/mdui:UIInfo", NS)
    assert ui is not None and _texts(ui, "mdui:DisplayName") == [("nl", "Loper"), ("en", "Loper")]
    assert root.find("md:SPSSODescriptor/md:Extensions/shibmd:Scope", NS) is None
    assert len(root.findall("md:ContactPerson", NS)) == 2
    assert (root.get("validUntil"), root.get("cacheDuration")) == ("2026-12-13T12:00:00Z",
                                                                   "PT6H")


def test_declared_scopes_are_the_literal_domains_of_a_schools_metadata() -> None:
    xml = school_metadata("https://idp.regenboog.example", ("Regenboog.example ", "false"),
                          ("lyceum.example", "0"), (r"^.*\.example$", "true"),
                          ("not a domain", "false"), ("regenboog.example", "false"))
    assert scopes(xml, "https://idp.regenboog.example") == ("regenboog.example",
                                                            "lyceum.example")
    assert scopes(xml, "https://another.example") == ()
    assert scopes("<not-xml", "https://idp.regenboog.example") == ()
    assert scopes('<!DOCTYPE x [<!ENTITY e "a.example">]><x/>', "x") == ()


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("metadata_information_url", "http://loper.example.nl/about", "expected an https URL"),
    ("metadata_privacy_url", "privacy.html", "expected an https URL"),
    ("metadata_logo_url", "javascript:alert(1)", "or a data:image/ URL"),
    ("contact_support_email", "helpdesk", "expected an e-mail address"),
    ("metadata_display_name_en", " ", "1 to 400 characters"),
    ("metadata_valid_days", 0, "must be positive"),
    ("metadata_cache_hours", 24 * 8, "must not exceed metadata_valid_days"),
])
def test_bad_metadata_settings_say_what_to_fix(tmp_path: Path, name: str, value: object,
                                               expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"instance": tmp_path, name: value}, environ={})
    assert expected in str(caught.value) and name in str(caught.value)


def test_settings_make_the_presentation(tmp_path: Path) -> None:
    shown = presentation(load_settings({
        "instance": tmp_path, "base_url": "https://loper.example",
        "metadata_privacy_url": "https://stichting.example/privacy",
        "contact_technical_email": "beheer@loper.example"}, environ={}))
    assert shown.display_name == (("nl", "Loper"), ("en", "Loper"))
    assert shown.information_url == (("nl", "https://loper.example/me"),
                                     ("en", "https://loper.example/me"))
    assert shown.privacy_url[0] == ("nl", "https://stichting.example/privacy")
    assert shown.contacts == (Contact("technical", "beheer@loper.example"),)
    assert shown.logo is not None and shown.logo.url == DEFAULT_LOGO


def test_the_published_scopes_follow_the_registry(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    for _ in initialise(load_settings({"instance": instance}, environ={})):
        pass
    app = create_app({"instance": instance})
    broker = app.extensions["loper"]

    def scopes() -> list[str]:
        with app.test_client() as client:
            response = client.get("/saml/idp/metadata")
        assert response.status_code == 200
        root = valid(response.get_data(as_text=True))
        return [s.text or "" for s in root.iter(f"{{{NS['shibmd']}}}Scope")]

    assert scopes() == [broker.settings.host]
    entity = "https://idp.regenboog.example"
    school = School("regenboog", "OBS De Regenboog", SamlSchool(
        school_metadata(entity, ("regenboog.example", "false")), entity))
    broker.registry.import_federation(Federation(schools=(school,)),
                                      key_version=broker.pseudonym_keys.current)
    assert scopes() == [broker.settings.host, "regenboog.example"]


def _verified(xml: str, cert: Path) -> etree._Element:
    """The metadata's root after xmlsec verified its enveloped signature with `cert` alone."""
    root = etree.fromstring(xml.encode())
    assert root.index(verify_enveloped(root, cert.read_bytes())) == 0
    return root


def test_metadata_is_signed_with_the_operators_metadata_key(world: SamlWorld) -> None:
    pair = world.keys("metadata")
    idp = SamlIdp(dataclasses.replace(world.config, metadata_signing=pair))
    root = _verified(idp.metadata_xml(["regenboog.example"]), pair.cert)
    valid(etree.tostring(root).decode())
    method = root.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", {"ds": DS})
    assert method is not None and method.get("Algorithm") == SIG_RSA_SHA256
    tampered = idp.metadata_xml(["regenboog.example"]).replace("regenboog", "kwaadwillig")
    with pytest.raises(xmlsec.Error):
        _verified(tampered, pair.cert)
    store = MetadataStore(None, SPConfig().load({"entityid": "https://sp.example/metadata"}))
    store.load("inline", idp.metadata_xml())
    assert store.single_sign_on_service(world.config.entity_id)


def test_a_configured_metadata_key_must_exist(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    for _ in initialise(load_settings({"instance": instance}, environ={})):
        pass
    with pytest.raises(ConfigError, match="metadata_signing_key"):
        create_app({"instance": instance, "metadata_signing_key": "keys/metadata"})
    (instance / "md").mkdir()
    ensure_saml_keypair(instance / "md", "metadata")
    pair = saml_signing(instance / "md")
    stem = str(pair.key.relative_to(instance)).removesuffix(".key")
    app = create_app({"instance": instance, "metadata_signing_key": stem})
    with app.test_client() as client:
        xml = client.get("/saml/idp/metadata").get_data(as_text=True)
    _verified(xml, pair.cert)
    with pytest.raises(ConfigError, match="inside the instance folder"):
        load_settings({"instance": instance, "metadata_signing_key": "../x"}, environ={})
