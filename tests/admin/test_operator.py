"""The operator registers schools and suppliers and watches health. Bad metadata and
SSRF-prone URLs are refused with a reason. (The supplier admin's page: test_supplier_page.py.)"""

from __future__ import annotations

import dataclasses
import html
import io
import ipaddress
import re
from pathlib import Path

import pytest

from broker.context import Broker
from broker.keys import ensure_saml_keypair
from broker.outbound.addresses import blocked
from broker.registry import Federation, Registry
from tests.admin.conftest import SAML_SUPPLIER, SCHOOL_A, Portal
from tests.registry.helpers import snapshot, sql
from tests.registry.metadata_xml import certificate_b64, idp_metadata, sp_metadata
from tests.registry.test_metadata_url import BODIES, https_server  # noqa: F401  (a fixture)

NEW_SUPPLIER = "/admin/operator/suppliers/new"
NEW_SCHOOL = "/admin/operator/schools/new"
SP = "https://woordjes.example/sp"


def text(response: object) -> str:
    """The page, unescaped, with the <code> around a problem's values taken out."""
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return html.unescape(re.sub(r"</?code>", "", page))


def in_english(portal: Portal) -> Portal:
    """The portal in English from now on (the problems the command line prints too)."""
    portal.get("/admin/login", query_string={"lang": "en"})
    return portal


def upload(content: bytes, name: str = "metadata.xml") -> tuple[io.BytesIO, str]:
    return io.BytesIO(content), name


def saml_form(**extra: object) -> dict[str, object]:
    return {"id": "woordjes", "name": "Woordjes", "protocol": "saml",
            "url": "https://woordjes.example", **extra}


def test_the_operator_page_shows_health_and_key_expiry(operator: Portal) -> None:
    page = text(operator.get("/admin/operator"))
    assert page.count(">OK<") == 2
    assert "saml-signing.crt" in page
    assert "nog 36" in page or "36" in page.split("saml-signing.crt", 1)[1][:400]
    for name in ("OBS De Regenboog", "Het Lyceum", "Rekenwonders", "Taalapp"):
        assert name in page


def test_peer_certificates_that_expire_soon_and_metadata_sources_show(
        operator: Portal, registry: Registry, broker: Broker) -> None:
    school = registry.school(SCHOOL_A)
    assert school is not None
    soon = idp_metadata(school.config.entity_id, certificate_b64("idp.regenboog 2026", 20))
    registry.import_federation(Federation(schools=(dataclasses.replace(
        school, config=dataclasses.replace(school.config, metadata_xml=soon)),)), key_version=1)
    sql(broker.settings.registry_url,
        "INSERT INTO metadata_sources (id, url, mdq, certificate, refresh, checked_at, outcome, "
        "message, fetched_at) VALUES ('entree', 'https://md.example/entree.xml', 0, '', 3600, "
        "'2026-12-06 10:00:00', 'refused', 'the aggregate is not signed', "
        "'2026-12-05 09:00:00')")
    page = text(operator.get("/admin/operator"))
    section = page.split('id="peer-certificates-title"', 1)[1].split("</section>", 1)[0]
    assert "OBS De Regenboog" in section and "CN=idp.regenboog 2026" in section
    assert "loper-test" not in section  # the supplier's certificate has a year left
    sources = page.split('id="sources-title"', 1)[1].split("</section>", 1)[0]
    assert "entree" in sources and "the aggregate is not signed" in sources
    assert "6 dec 2026, 11:00" in sources and "5 dec 2026, 10:00" in sources  # Dutch time


def test_staged_and_unreadable_certificates_show(operator: Portal, broker: Broker) -> None:
    keys_dir = broker.settings.keys_dir
    ensure_saml_keypair(keys_dir, "127.0.0.1", "next")
    (keys_dir / "saml-signing.crt").write_text("not a certificate")
    page = text(operator.get("/admin/operator"))
    assert "saml-signing-next.crt" in page
    assert "cannot be read" in page


def test_verify_the_ledger_from_the_page(operator: Portal) -> None:
    response = operator.post("/admin/operator/ledger/verify")
    assert response.status_code == 302
    page = text(operator.get(response.location))
    assert "Logboek in orde" in page or "Ledger OK" in page


def test_register_a_saml_supplier_by_upload(operator: Portal, registry: Registry) -> None:
    response = operator.post(NEW_SUPPLIER, saml_form(
        metadata_file=upload(sp_metadata(SP).encode())), content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:2000]
    supplier = registry.supplier("woordjes")
    assert supplier is not None and supplier.protocol == "saml"
    assert supplier.config.entity_id == SP and supplier.key_version == 1
    assert supplier.sector == "woordjes" and supplier.url == "https://woordjes.example"


@pytest.mark.parametrize(("content", "english", "dutch"), [
    (b"this is not XML at all", "metadata: the metadata is not well-formed XML (",
     "metadata: de metadata is geen geldige XML ("),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
     "contains a DOCTYPE or entity declaration", "bevat een DOCTYPE of entity-declaratie"),
    (idp_metadata("https://idp.example").encode(),
     'of entity "https://idp.example" has no SPSSODescriptor; expected SAML 2.0 metadata',
     'van entiteit "https://idp.example" heeft geen SPSSODescriptor; verwacht SAML 2.0-metadata'),
    (b"<md:EntitiesDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'/>",
     "not an EntityDescriptor", "niet met een EntityDescriptor"),
    (b"\xff\xfe\x00<not utf-8>", "the metadata is not UTF-8 encoded text",
     "de metadata is geen UTF-8-tekst"),
    (b"", "missing: upload the SAML metadata file", "ontbreekt: upload het SAML-metadatabestand"),
])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_bad_metadata_uploads_are_refused_clearly(operator: Portal, registry: Registry,
                                                  content: bytes, english: str, dutch: str,
                                                  lang: str) -> None:
    """In the page's language (the command line says the same in English)."""
    message = english if lang == "en" else dutch
    operator.get("/admin/login", query_string={"lang": lang})
    before = snapshot(registry)
    response = operator.post(NEW_SUPPLIER, saml_form(metadata_file=upload(content)),
                             content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in text(response)
    assert 'value="Woordjes"' in text(response), "the form keeps what was typed"
    assert snapshot(registry) == before


def test_a_huge_upload_is_refused(operator: Portal, registry: Registry) -> None:
    before = snapshot(registry)
    huge = b"<x>" + b" " * (1024 * 1024) + b"</x>"
    boundary = "loper-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in {**saml_form(), "csrf_token": operator.token}.items()]
    body = ("".join(parts) + f'--{boundary}\r\nContent-Disposition: form-data; '
            'name="metadata_file"; filename="big.xml"\r\nContent-Type: text/xml\r\n\r\n'
            ).encode() + huge + f"\r\n--{boundary}--\r\n".encode()
    response = operator.client.post(  # a body as bytes: the test client keeps no temp file
        NEW_SUPPLIER, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "groter dan 1024 KB" in text(response)
    assert '<nav aria-label="Hoofdmenu">' in text(response), "the portal's navigation stays"
    assert snapshot(registry) == before


@pytest.mark.parametrize(("url", "kind"), [
    ("https://127.0.0.1/metadata", "loopback"),
    ("https://localhost/metadata", "loopback"),
    ("https://[::1]/metadata", "loopback"),
    ("https://[::ffff:127.0.0.1]/metadata", "loopback"),
    ("https://10.20.30.40/metadata", "private"),
    ("https://192.168.1.1/metadata", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://100.64.0.1/metadata", "non-public"),
    ("https://0.0.0.0/metadata", "unspecified"),
    ("http://example.org/metadata", "not an absolute https URL"),
    ("file:///etc/passwd", "not an absolute https URL"),
])
def test_metadata_urls_to_internal_addresses_are_refused(operator: Portal, registry: Registry,
                                                         url: str, kind: str) -> None:
    in_english(operator)
    before = snapshot(registry)
    response = operator.post(NEW_SUPPLIER, saml_form(metadata_url=url))
    assert response.status_code == 400
    assert kind in text(response)
    assert snapshot(registry) == before


def test_a_metadata_url_the_operator_allows(operator: Portal, registry: Registry,
                                            https_server: tuple[str, Path],  # noqa: F811
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    base, cert = https_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setitem(BODIES, "/sp.xml", sp_metadata(SP).encode())
    refused = operator.post(NEW_SUPPLIER, saml_form(metadata_url=f"{base}/sp.xml"))
    assert refused.status_code == 400 and "loopback" in text(refused)
    assert "toe voor deze registratie" in text(refused)  # the advice: allow private ones
    allowed = operator.post(NEW_SUPPLIER, saml_form(metadata_url=f"{base}/sp.xml",
                                                    allow_private="yes"))
    assert allowed.status_code == 302, text(allowed)[:2000]
    supplier = registry.supplier("woordjes")
    assert supplier is not None and supplier.protocol == "saml" and supplier.config.entity_id == SP


def test_a_huge_or_missing_document_at_a_url_is_refused(operator: Portal,
                                                       https_server: tuple[str, Path],  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    base, cert = https_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    for path, message in (("/huge.xml", "groter dan 1024 KB"), ("/nothing", "HTTP 404")):
        response = operator.post(NEW_SUPPLIER, saml_form(metadata_url=base + path,
                                                         allow_private="yes"))
        assert response.status_code == 400 and message in text(response)


@pytest.mark.parametrize(("address", "kind"), [
    ("8.8.8.8", None), ("2001:4860:4860::8888", None), ("127.0.0.2", "loopback"),
    ("172.16.5.4", "private"), ("fd00::1", "private"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("::ffff:10.0.0.1", "private"), ("192.0.2.1", "private"),
])
def test_blocked_addresses(address: str, kind: str | None) -> None:
    assert blocked(ipaddress.ip_address(address)) == kind


def test_register_an_oidc_supplier_shows_its_secret_once(operator: Portal,
                                                         registry: Registry) -> None:
    response = operator.post(NEW_SUPPLIER, {
        "id": "rekenrace", "name": "Rekenrace", "protocol": "oidc",
        "redirect_uris": "https://rekenrace.example/cb\r\nhttps://rekenrace.example/cb2"})
    assert response.status_code == 200
    page = text(response)
    secret = page.split('id="client-secret">', 1)[1].split("<", 1)[0]
    assert len(secret) >= 40
    assert response.headers["Cache-Control"] == "no-store"
    supplier = registry.supplier_by_client_id("rekenrace")
    assert supplier is not None and supplier.protocol == "oidc"
    assert supplier.config.client_secret == secret
    assert supplier.config.redirect_uris == ("https://rekenrace.example/cb",
                                           "https://rekenrace.example/cb2")
    assert secret not in text(operator.get("/admin/operator"))


@pytest.mark.parametrize(("form", "message"), [
    ({"id": SAML_SUPPLIER, "name": "Again", "protocol": "oidc",
      "redirect_uris": "https://x.example/cb"}, "already registered"),
    ({"id": "Bad Id!", "name": "X", "protocol": "oidc", "redirect_uris": "https://x.example/cb"},
     "not a valid id"),
    ({"id": "x", "name": "X", "protocol": "oidc", "redirect_uris": "http://x.example/cb"},
     "not an absolute https URL"),
    ({"id": "x", "name": "X", "protocol": "oidc"}, "redirect_uris"),
    ({"id": "x", "name": "X", "protocol": "ftp"}, 'unknown protocol "ftp"'),
    ({"id": "x", "protocol": "oidc", "redirect_uris": "https://x.example/cb"}, "name"),
    ({"id": "x", "name": "X", "protocol": "oidc", "client_id": "taalapp",
      "redirect_uris": "https://x.example/cb"}, 'client id "taalapp" is already used'),
    ({"id": "x", "name": "  REKENwonders ", "protocol": "oidc",
      "redirect_uris": "https://x.example/cb"}, 'name "rekenwonders" is already used'),
    ({"id": "x", "name": "N" * 121, "protocol": "oidc", "redirect_uris": "https://x.example/cb"},
     "has 121 characters; expected at most 120"),
])
def test_bad_supplier_registrations_are_refused(operator: Portal, registry: Registry,
                                                form: dict[str, object], message: str) -> None:
    in_english(operator)
    before = snapshot(registry)
    response = operator.post(NEW_SUPPLIER, form)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot(registry) == before


def test_an_entity_id_already_registered_is_refused(operator: Portal,
                                                    registry: Registry) -> None:
    in_english(operator)
    taken = registry.supplier(SAML_SUPPLIER)
    assert taken is not None and taken.protocol == "saml"
    response = operator.post(NEW_SUPPLIER, saml_form(
        metadata_file=upload(sp_metadata(taken.config.entity_id).encode())),
        content_type="multipart/form-data")
    assert response.status_code == 400 and "is already used" in text(response)
    assert registry.supplier("woordjes") is None


def test_register_schools(operator: Portal, registry: Registry) -> None:
    in_english(operator)
    response = operator.post(NEW_SCHOOL, {
        "id": "klimop", "name": "De Klimop", "place": "Zwolle", "protocol": "saml",
        "metadata_file": upload(idp_metadata("https://idp.klimop.example").encode())},
        content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:2000]
    school = registry.school("klimop")
    assert school is not None and school.protocol == "saml"
    assert school.config.entity_id == "https://idp.klimop.example" and school.place == "Zwolle"

    wrong_role = operator.post(NEW_SCHOOL, {
        "id": "eik", "name": "De Eik", "protocol": "saml",
        "metadata_file": upload(sp_metadata("https://eik.example").encode())},
        content_type="multipart/form-data")
    assert wrong_role.status_code == 400 and "has no IDPSSODescriptor" in text(wrong_role)

    oidc = {"id": "college", "name": "Het College", "protocol": "oidc",
            "issuer": "https://10.0.0.5", "client_id": "loper", "client_secret": "x"}
    private = operator.post(NEW_SCHOOL, oidc)
    assert private.status_code == 400 and "private" in text(private)
    assert 'value="x"' not in private.get_data(as_text=True), "a secret is not echoed"
    assert operator.post(NEW_SCHOOL, {**oidc, "allow_private": "yes"}).status_code == 302
    assert registry.school("college") is not None


def test_register_a_supplier_with_the_entree_profile(operator: Portal,
                                                     registry: Registry) -> None:
    page = text(operator.get(NEW_SUPPLIER))
    assert 'name="profile" value="oid" checked' in page and 'value="entree"' in page
    response = operator.post(NEW_SUPPLIER, saml_form(
        profile="entree", metadata_file=upload(sp_metadata(SP).encode())),
        content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:2000]
    supplier = registry.supplier("woordjes")
    assert supplier is not None and supplier.config.profile == "entree"


def test_an_unknown_profile_is_named_and_nothing_registered(operator: Portal,
                                                            registry: Registry) -> None:
    in_english(operator)
    response = operator.post(NEW_SUPPLIER, saml_form(
        profile="surfconext", metadata_file=upload(sp_metadata(SP).encode())),
        content_type="multipart/form-data")
    assert 'unknown profile "surfconext"; expected one of oid, entree' in text(response)
    assert registry.supplier("woordjes") is None


@pytest.mark.parametrize(("form", "message"), [
    ({"id": "Nieuw School!"}, '"Nieuw School!" is not a valid id'),
    ({"name": "   "}, "name: missing"),
])
def test_a_bad_id_or_name_is_said_before_any_metadata_is_fetched(
        operator: Portal, registry: Registry, form: dict[str, str], message: str) -> None:
    """The cheap mistakes first: the operator is not sent to fix a metadata URL only to be
    told afterwards that the id was wrong (this URL's host does not exist)."""
    in_english(operator)
    before = snapshot(registry)
    response = operator.post(NEW_SUPPLIER, saml_form(
        metadata_url="https://metadata.example.invalid/sp.xml", **form))
    assert response.status_code == 400 and message in text(response)
    assert 'host "metadata.example.invalid"' not in text(response)  # never looked up
    assert snapshot(registry) == before
