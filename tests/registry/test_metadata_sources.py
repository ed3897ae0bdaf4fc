"""[[metadata_sources]]: schools and suppliers whose metadata comes from a signed aggregate,
served over loopback https and signed with real RSA keys. A document that cannot be trusted is
refused with the reason, the last good copy is kept and nothing else changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker.registry import FederationError, Registry, dump_federation, load_federation
from tests.registry.aggregates import Signer, aggregate, sign, signer
from tests.registry.https import Site, serve
from tests.registry.metadata_xml import idp_metadata, sp_metadata

SCHOOL_IDP = "https://idp.noorderlicht.example.nl"
SUPPLIER_SP = "https://toetsplein.example/sp"
OTHER_IDP = "https://idp.other.example.nl"
FEDERATION = """\
[[metadata_sources]]
id = "entree"
url = "{url}"
certificate = "entree-signing.pem"
refresh = 600

[[schools]]
id = "noorderlicht"
name = "OBS Noorderlicht"
protocol = "saml"
entity_id = "{school}"
metadata_source = "entree"

[[suppliers]]
id = "toetsplein"
name = "Toetsplein"
protocol = "saml"
entity_id = "{supplier}"
metadata_source = "entree"
"""


@dataclass
class World:
    site: Site
    signer: Signer
    directory: Path

    @property
    def url(self) -> str:
        return self.site.base + "/entree.xml"

    def publish(self, document: bytes) -> None:
        self.site.bodies["/entree.xml"] = document

    def federation(self, school: str = SCHOOL_IDP) -> Path:
        path = self.directory / "federation.toml"
        path.write_text(FEDERATION.format(url=self.url, school=school, supplier=SUPPLIER_SP))
        return path


def good(school_cert: str | None = None, **kwargs: object) -> str:
    return aggregate(idp_metadata(SCHOOL_IDP, school_cert), sp_metadata(SUPPLIER_SP),
                     idp_metadata(OTHER_IDP), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with serve(tmp_path) as site:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.cert))
        federation_key = signer(tmp_path, "entree-signing")
        world = World(site, federation_key, tmp_path)
        world.publish(sign(good(), federation_key))
        yield world


@pytest.fixture
def imported(world: World, registry: Registry) -> Registry:
    registry.import_federation(load_federation(world.federation()), key_version=1)
    return registry


def school_metadata(registry: Registry) -> str:
    registry.refresh()
    school = registry.school("noorderlicht")
    assert school is not None
    return str(school.config.metadata_xml)


# Import


def test_import_takes_each_entity_from_the_source(imported: Registry) -> None:
    school, supplier = imported.school("noorderlicht"), imported.supplier("toetsplein")
    assert school is not None and supplier is not None
    assert school.config.entity_id == SCHOOL_IDP and school.config.metadata_source == "entree"
    assert "IDPSSODescriptor" in school.config.metadata_xml
    assert supplier.config.entity_id == SUPPLIER_SP and "SPSSODescriptor" in \
        supplier.config.metadata_xml
    [status] = imported.metadata_sources().all()
    assert status.outcome == "fetched" and status.fetched_at is not None
    assert status.valid_until is not None and status.source.refresh == 600


def test_export_names_the_source_not_the_metadata(imported: Registry, world: World) -> None:
    exported = dump_federation(imported.export_federation())
    assert 'metadata_source = "entree"' in exported and f'entity_id = "{SCHOOL_IDP}"' in exported
    assert "metadata_xml" not in exported and "certificate_pem" in exported
    again = world.directory / "again.toml"
    again.write_text(exported)
    assert dump_federation(load_federation(again)) == exported


def test_an_entity_not_in_the_source_names_the_entry(world: World) -> None:
    with pytest.raises(FederationError) as caught:
        load_federation(world.federation(school="https://idp.unknown.example"))
    assert caught.value.problems == (
        f'{world.directory / "federation.toml"}: schools[0] (id "noorderlicht"), field '
        '"entity_id": "https://idp.unknown.example" is not in metadata source "entree" '
        "(3 entities); expected the entityID of an entity in it",)


def test_a_school_must_play_its_role_in_the_source(world: World) -> None:
    with pytest.raises(FederationError, match=r'field "entity_id": in metadata source "entree", '
                       rf'the metadata of entity "{SUPPLIER_SP}" has no IDPSSODescriptor'):
        load_federation(world.federation(school=SUPPLIER_SP))


def test_import_refuses_an_aggregate_it_cannot_trust(world: World, registry: Registry) -> None:
    world.publish(good().encode())
    with pytest.raises(FederationError, match=r'metadata_sources\[0\] \(id "entree"\), field '
                       r'"url": the aggregate at https://\S+ is not signed'):
        load_federation(world.federation())
