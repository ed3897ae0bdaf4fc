"""The registration form's "keep it fresh from this URL": metadata fetched from an https URL
becomes a metadata source trusted through TLS, added with the school or supplier in one
registry transaction, and refreshed like any other source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.context import Broker
from broker.metadata_refresh import refresh
from broker.registry import Registry
from tests.admin.conftest import SCHOOL_A, Portal
from tests.admin.test_operator import NEW_SCHOOL, NEW_SUPPLIER, SP, in_english, saml_form, text
from tests.registry.helpers import snapshot, sql
from tests.registry.https import Site, serve
from tests.registry.metadata_xml import certificate_b64, idp_metadata, sp_metadata

IDP = "https://adfs.klimop.example/adfs/services/trust"
PATH = "/FederationMetadata/2007-06/FederationMetadata.xml"


@pytest.fixture
def adfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    with serve(tmp_path, {PATH: idp_metadata(IDP).encode(),
                          "/sp.xml": sp_metadata(SP).encode()}) as site:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.cert))
        yield site


def school_form(site: Site, **extra: str) -> dict[str, object]:
    return {"id": "klimop", "name": "De Klimop", "protocol": "saml",
            "metadata_url": site.base + PATH, "allow_private": "yes", "keep_fresh": "yes",
            **extra}


def test_the_checkbox_is_on_by_default(operator: Portal) -> None:
    page = operator.get(NEW_SCHOOL).get_data(as_text=True)
    assert 'name="keep_fresh" value="yes" aria-describedby="metadata_url_once" checked' in page


def test_a_school_registered_by_url_is_kept_fresh(operator: Portal, registry: Registry,
                                                  adfs: Site) -> None:
    response = operator.post(NEW_SCHOOL, school_form(adfs))
    assert response.status_code == 302, text(response)[:2000]
    school = registry.school("klimop")
    assert school is not None and school.config.metadata_source == "klimop-idp"
    assert school.config.entity_id == IDP and "IDPSSODescriptor" in school.config.metadata_xml
    [status] = registry.metadata_sources().all()
    assert (status.source.id, status.source.url, status.source.tls) == (
        "klimop-idp", adfs.base + PATH, True)
    page = text(operator.get("/admin/operator"))
    sources = page.split('id="sources-title"', 1)[1].split("</section>", 1)[0]
    assert "klimop-idp" in sources and "vertrouwd via TLS" in sources

    rolled = certificate_b64("adfs-klimop-2027")
    adfs.bodies[PATH] = idp_metadata(IDP, rolled).encode()
    [result] = refresh(registry)
    assert (result.outcome, result.message) == ("fetched", 'school "klimop" updated')
    registry.refresh()
    school = registry.school("klimop")
    assert school is not None and rolled in school.config.metadata_xml


def test_a_supplier_registered_by_url_is_kept_fresh(operator: Portal, registry: Registry,
                                                    adfs: Site) -> None:
    response = operator.post(NEW_SUPPLIER, saml_form(metadata_url=adfs.base + "/sp.xml",
                                                     allow_private="yes", keep_fresh="yes"))
    assert response.status_code == 302, text(response)[:2000]
    supplier = registry.supplier("woordjes")
    assert supplier is not None and supplier.config.metadata_source == "woordjes-sp"
    assert [s.source.id for s in registry.metadata_sources().all()] == ["woordjes-sp"]


def test_unticked_it_is_a_copy(operator: Portal, registry: Registry, adfs: Site) -> None:
    form = school_form(adfs)
    del form["keep_fresh"]
    assert operator.post(NEW_SCHOOL, form).status_code == 302
    school = registry.school("klimop")
    assert school is not None and school.config.metadata_source is None
    assert registry.metadata_sources().all() == []


def test_a_private_address_is_refused_unless_the_operator_allows_it(
        operator: Portal, registry: Registry, adfs: Site) -> None:
    in_english(operator)
    before = snapshot(registry)
    response = operator.post(NEW_SCHOOL, school_form(adfs, allow_private=""))
    assert response.status_code == 400 and "loopback" in text(response)
    assert snapshot(registry) == before and registry.metadata_sources().all() == []


def test_a_refused_registration_stores_no_source(operator: Portal, registry: Registry,
                                                 adfs: Site) -> None:
    """The entity id clashes with a registered school: neither the school nor its source."""
    school_a = registry.school(SCHOOL_A)
    assert school_a is not None
    adfs.bodies[PATH] = idp_metadata(school_a.config.entity_id).encode()
    before = snapshot(registry)
    response = operator.post(NEW_SCHOOL, school_form(adfs))
    assert response.status_code == 400 and school_a.config.entity_id in text(response)
    assert snapshot(registry) == before and registry.metadata_sources().all() == []


def test_a_source_of_that_name_or_plain_http_is_refused(
        operator: Portal, registry: Registry, broker: Broker, adfs: Site,
        monkeypatch: pytest.MonkeyPatch) -> None:
    in_english(operator)
    sql(broker.settings.registry_url, "INSERT INTO metadata_sources (id, url, mdq, certificate, "
        "refresh) VALUES ('klimop-idp', 'https://md.example/x.xml', 0, 'tls', 3600)")
    taken = operator.post(NEW_SCHOOL, school_form(adfs))
    assert taken.status_code == 400
    assert 'a metadata source "klimop-idp" is registered already' in text(taken)
    monkeypatch.setattr("broker.admin.register.fetch.fetch",
                        lambda url, **kwargs: idp_metadata(IDP).encode())
    http = operator.post(NEW_SCHOOL, school_form(adfs, id="eik",
                                                 metadata_url="http://127.0.0.1/md.xml"))
    assert http.status_code == 400 and 'trust = "tls" needs https' in text(http)
    assert registry.school("klimop") is None and registry.school("eik") is None
    assert [s.source.url for s in registry.metadata_sources().all()] == [
        "https://md.example/x.xml"]
