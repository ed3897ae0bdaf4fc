"""[[metadata_sources]] with trust = "tls": a school's own metadata URL (ADFS, Entra ID), served
over loopback https with its own CA, kept fresh like an aggregate. A document that is refused
changes nothing but the source's outcome; the last good copy stays."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.metadata_refresh import refresh
from broker.outbound.fetch import default_timeout
from broker.registry import FederationError, Registry, dump_federation, load_federation
from tests.registry.aggregates import aggregate, entity, sign, signer
from tests.registry.helpers import school_metadata, snapshot, sql, upgrade_to
from tests.registry.https import Site, serve
from tests.registry.metadata_xml import certificate_b64, idp_metadata, sp_metadata

SCHOOL_IDP = "https://adfs.regenboog.example.nl/adfs/services/trust"
PATH = "/FederationMetadata/2007-06/FederationMetadata.xml"
FEDERATION = """\
[[metadata_sources]]
id = "regenboog-idp"
url = "{url}"
trust = "tls"
refresh = 600

[[schools]]
id = "regenboog"
name = "OBS De Regenboog"
protocol = "saml"
entity_id = "{school}"
metadata_source = "regenboog-idp"
"""


@dataclass
class School:
    site: Site
    directory: Path

    @property
    def url(self) -> str:
        return self.site.base + PATH

    def publish(self, document: str | bytes) -> None:
        self.site.bodies[PATH] = document.encode() if isinstance(document, str) else document

    def federation(self, school: str = SCHOOL_IDP) -> Path:
        path = self.directory / "federation.toml"
        path.write_text(FEDERATION.format(url=self.url, school=school))
        return path


@pytest.fixture
def adfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[School]:
    with serve(tmp_path) as site:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.cert))
        school = School(site, tmp_path)
        school.publish(idp_metadata(SCHOOL_IDP))
        yield school


@pytest.fixture
def imported(adfs: School, registry: Registry) -> Registry:
    registry.import_federation(load_federation(adfs.federation()), key_version=1)
    return registry


def test_a_school_takes_its_metadata_from_its_own_url(imported: Registry) -> None:
    school = imported.school("regenboog")
    assert school is not None and school.config.entity_id == SCHOOL_IDP
    assert school.config.metadata_source == "regenboog-idp"
    assert school.config.metadata_xml == idp_metadata(SCHOOL_IDP)
    [status] = imported.metadata_sources().all()
    assert status.source.tls and status.source.certificate_pem == ""
    assert status.outcome == "fetched" and status.fetched_at is not None


def test_a_rollover_at_the_url_takes_effect_at_the_next_refresh(
        imported: Registry, adfs: School, registry_url: str) -> None:
    other_process = Registry(registry_url)
    try:
        before = other_process.school("regenboog")
        assert before is not None and certificate_b64() in before.config.metadata_xml
        rolled = certificate_b64("adfs-signing-2027")
        adfs.publish(idp_metadata(SCHOOL_IDP, rolled))
        [result] = refresh(imported)
        assert (result.outcome, result.message) == ("fetched", 'school "regenboog" updated')
        after = other_process.school("regenboog")  # the version bump empties its cache
        assert after is not None and rolled in after.config.metadata_xml
        assert certificate_b64() not in after.config.metadata_xml
    finally:
        other_process.close()
    assert str(refresh(imported)[0]) == "regenboog-idp: unchanged"


def test_a_signature_in_the_document_is_not_what_is_trusted(imported: Registry,
                                                           adfs: School) -> None:
    """ADFS signs its metadata with a key of its own: TLS vouches for it, not that key."""
    rolled = certificate_b64("adfs-signing-2027")
    adfs.publish(sign(entity(idp_metadata(SCHOOL_IDP, rolled)), signer(adfs.directory, "adfs")))
    [result] = refresh(imported)
    assert result.outcome == "fetched" and rolled in school_metadata(imported, "regenboog")


def _hanging_server() -> socket.socket:
    """Accepts connections (the kernel's backlog) and never answers, not even TLS."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


BAD = {
    "another entity": (lambda s: idp_metadata("https://idp.elsewhere.example"),
                       f'is about "https://idp.elsewhere.example", not "{SCHOOL_IDP}"'),
    "no IDPSSODescriptor": (lambda s: sp_metadata(SCHOOL_IDP), "has no IDPSSODescriptor"),
    "a DOCTYPE": (lambda s: '<!DOCTYPE x [<!ENTITY e "boo">]>' + idp_metadata(SCHOOL_IDP)
                  .split("?>", 1)[1], "contains a DOCTYPE or entity declaration"),
    "huge": (lambda s: b"<" * 5_300_000, "larger than 5 MB"),
    "not XML": (lambda s: "<html>oops", "is not well-formed XML"),
    "an aggregate": (lambda s: aggregate(idp_metadata(SCHOOL_IDP)),
                     "not an EntityDescriptor"),
    "past its validUntil": (lambda s: entity(idp_metadata(SCHOOL_IDP),
                                             valid_for=timedelta(minutes=-1)),
                            "expired: its validUntil"),
    "gone": (lambda s: b"", "HTTP 404"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_refused_document_changes_nothing_but_the_outcome(imported: Registry, adfs: School,
                                                            case: str) -> None:
    make, says = BAD[case]
    before = snapshot(imported), school_metadata(imported, "regenboog")
    [status] = imported.metadata_sources().all()
    adfs.publish(make(adfs))
    [result] = refresh(imported)
    assert result.outcome == "refused" and says in result.message, result.message
    assert result.kept == status.fetched_at and "kept last good from" in str(result)
    assert (snapshot(imported), school_metadata(imported, "regenboog")) == before
    [after] = imported.metadata_sources().all()
    assert after.outcome == "refused" and says in str(after.message)
    assert after.next_fetch is not None and after.next_fetch > datetime.now(UTC)


def test_a_redirect_to_another_host_is_not_followed(imported: Registry, adfs: School) -> None:
    before = school_metadata(imported, "regenboog")
    adfs.site.redirects[PATH] = "https://adfs.elsewhere.example/metadata.xml"
    [result] = refresh(imported)
    assert result.outcome == "refused" and "(redirects are not followed)" in result.message
    assert school_metadata(imported, "regenboog") == before


def test_a_server_that_hangs_is_given_up_on_and_said(imported: Registry,
                                                     registry_url: str) -> None:
    before = school_metadata(imported, "regenboog")
    with _hanging_server() as hanging:
        url = f"https://127.0.0.1:{hanging.getsockname()[1]}{PATH}"
        sql(registry_url, "UPDATE metadata_sources SET url = ?", url)
        with default_timeout(0.5):
            [result] = refresh(imported)
    assert result.outcome == "refused" and "did not answer within 0.5 s" in result.message
    assert school_metadata(imported, "regenboog") == before
    [status] = imported.metadata_sources().all()
    assert status.outcome == "refused" and "0.5 s" in str(status.message)


def test_cache_duration_brings_the_next_fetch_forward(imported: Registry, adfs: School) -> None:
    adfs.publish(idp_metadata(SCHOOL_IDP).replace(
        "<md:EntityDescriptor ", '<md:EntityDescriptor cacheDuration="PT2M" ', 1))
    refresh(imported)
    [status] = imported.metadata_sources().all()
    assert status.next_fetch is not None
    assert status.next_fetch <= datetime.now(UTC) + timedelta(minutes=2)


def test_export_and_import_round_trip(imported: Registry, adfs: School) -> None:
    exported = dump_federation(imported.export_federation())
    assert 'trust = "tls"' in exported and "certificate" not in exported
    assert 'metadata_source = "regenboog-idp"' in exported and "metadata_xml" not in exported
    again = adfs.directory / "again.toml"
    again.write_text(exported)
    assert dump_federation(load_federation(again)) == exported


def test_import_names_an_entity_the_url_does_not_publish(adfs: School) -> None:
    with pytest.raises(FederationError, match=r'schools\[0\] \(id "regenboog"\), field '
                       r'"entity_id": "https://idp.other.example" is not in metadata source '
                       r'"regenboog-idp" \(1 entities\)'):
        load_federation(adfs.federation(school="https://idp.other.example"))


@pytest.mark.parametrize(("table", "says"), [
    ('url = "http://adfs.example.nl/md.xml"\ntrust = "tls"', "is not an absolute https URL"),
    ('url = "http://127.0.0.1:8080/md.xml"\ntrust = "tls"',
     'field "url": "http://127.0.0.1:8080/md.xml" is not an https URL; trust = "tls" needs '
     "https, also on a loopback host"),
    ('url = "https://adfs.example.nl/md.xml"\ntrust = "tls"\ncertificate = "signing.pem"',
     'field "trust": trust = "tls" and a pinned certificate exclude each other'),
    ('url = "https://adfs.example.nl/md.xml"\ntrust = "tls"\ncertificate_pem = "x"',
     'field "trust": trust = "tls" and a pinned certificate exclude each other'),
    ('url = "https://adfs.example.nl/md.xml"\ntrust = "pinned"',
     'field "trust": is "pinned"; expected "tls"'),
    ('mdq = "https://mdq.example"\ntrust = "tls"', 'field "mdq": trust = "tls" is for one'),
    ('url = "https://adfs.example.nl/md.xml"',
     'field "certificate": says nothing to trust the metadata by; expected exactly one of '
     'certificate (a PEM file), certificate_pem (a PEM certificate) and trust = "tls"'),
])
def test_a_tls_source_entry_that_cannot_be_used(tmp_path: Path, table: str, says: str) -> None:
    signer(tmp_path, "signing")
    path = tmp_path / "federation.toml"
    path.write_text(f'[[metadata_sources]]\nid = "regenboog-idp"\n{table}\n')
    with pytest.raises(FederationError, match=r'metadata_sources\[0\]') as caught:
        load_federation(path)
    assert says in str(caught.value), str(caught.value)


def test_sources_of_an_older_registry_keep_their_pinned_certificate(tmp_path: Path) -> None:
    """Migration 0011: every source registered before trust existed pins its certificate."""
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    upgrade_to(url, "0010")
    sql(url, "INSERT INTO metadata_sources (id, url, mdq, certificate, refresh) VALUES "
        "('entree', 'https://metadata.example/entree.xml', 0, 'PEM', 600)")
    upgraded = Registry(url)
    try:
        upgraded.upgrade()
        [status] = upgraded.metadata_sources().all()
        assert (status.source.id, status.source.tls, status.source.certificate_pem) == (
            "entree", False, "PEM")
    finally:
        upgraded.close()
