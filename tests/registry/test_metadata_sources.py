"""[[metadata_sources]]: schools and suppliers whose metadata comes from a signed aggregate,
served over loopback https and signed with real RSA keys. A document that cannot be trusted is
refused with the reason, the last good copy is kept and nothing else changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from broker import metrics
from broker.cli import main
from broker.metadata_refresh import Refresher, refresh
from broker.outbound.fetch import Fetcher
from broker.registry import FederationError, Registry, dump_federation, load_federation
from broker.registry.aggregate import Aggregate, duration
from broker.registry.sources import MetadataSource
from tests.registry.aggregates import Signer, aggregate, entity, sign, signer
from tests.registry.helpers import school_metadata, snapshot, sql
from tests.registry.https import Site, serve
from tests.registry.metadata_xml import certificate_b64, idp_metadata, sp_metadata

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

    @property
    def federation_path(self) -> Path:
        return self.directory / "federation.toml"

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


# Refresh: the bad documents, each refused with its reason, the last good copy kept


def _tampered(world: World) -> bytes:
    return sign(good(), world.signer).replace(b"/sso", b"/evil")


def _duplicated(world: World) -> bytes:
    return sign(aggregate(idp_metadata(SCHOOL_IDP), sp_metadata(SUPPLIER_SP),
                          idp_metadata(SCHOOL_IDP, certificate_b64("twin"))), world.signer)


BAD = {
    "unsigned": (lambda w: good().encode(), "is not signed"),
    "signed by another key": (lambda w: sign(good(), signer(w.directory, "intruder")),
                              "does not verify with the certificate of source \"entree\" "
                              "(Signature is invalid.)"),
    "tampered after signing": (_tampered, "(Signature is invalid.)"),
    "SHA-1": (lambda w: sign(good(), w.signer, sha1=True), "algorithm not allowed"),
    "past its validUntil": (lambda w: sign(good(valid_for=timedelta(minutes=-1)), w.signer),
                            "expired: its validUntil"),
    "absurd size": (lambda w: b"<" * 6_000_000, "is larger than 5 MB"),
    "duplicate entity ids": (_duplicated, f'has the entity "{SCHOOL_IDP}" twice'),
    "not XML": (lambda w: b"<html>oops", "is not well-formed XML"),
    "a single entity": (lambda w: idp_metadata(SCHOOL_IDP).encode(),
                        "not an EntitiesDescriptor"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_document_is_refused_and_changes_nothing(imported: Registry, world: World,
                                                       registry_url: str, case: str) -> None:
    make, says = BAD[case]
    before = snapshot(imported), school_metadata(imported, "noorderlicht")
    [status] = imported.metadata_sources().all()
    world.publish(make(world))
    [result] = refresh(imported)
    assert result.outcome == "refused" and says in result.message
    assert result.kept == status.fetched_at
    assert str(result).startswith("entree: refused (") and "kept last good from" in str(result)
    assert (snapshot(imported), school_metadata(imported, "noorderlicht")) == before
    [after] = imported.metadata_sources().all()
    assert after.outcome == "refused" and says in str(after.message)
    assert after.fetched_at == status.fetched_at
    assert sql(registry_url, "SELECT count(*) FROM metadata_sources "
               "WHERE document LIKE '%IDPSSODescriptor%'") == [(1,)]


def test_a_redirect_to_another_host_is_refused(imported: Registry, world: World) -> None:
    before = school_metadata(imported, "noorderlicht")
    world.site.redirects["/entree.xml"] = "https://metadata.elsewhere.example/entree.xml"
    [result] = refresh(imported)
    assert result.outcome == "refused"
    assert "redirects to https://metadata.elsewhere.example/entree.xml" in result.message
    assert "(redirects are not followed)" in result.message
    assert school_metadata(imported, "noorderlicht") == before


def test_a_source_that_is_down_keeps_the_last_good(imported: Registry, world: World) -> None:
    before = school_metadata(imported, "noorderlicht")
    del world.site.bodies["/entree.xml"]
    [result] = refresh(imported)
    assert result.outcome == "refused" and "404" in result.message
    assert school_metadata(imported, "noorderlicht") == before


def test_the_last_good_copy_survives_a_restart(imported: Registry, world: World,
                                               registry_url: str) -> None:
    world.publish(good().encode())
    refresh(imported)
    restarted = Registry(registry_url)
    try:
        school = restarted.school("noorderlicht")
        assert school is not None and "IDPSSODescriptor" in school.config.metadata_xml
        [status] = restarted.metadata_sources().all()
        assert status.outcome == "refused" and status.fetched_at is not None
    finally:
        restarted.close()


# Refresh: good documents


def test_a_key_rollover_takes_effect_at_the_next_refresh(imported: Registry, world: World,
                                                         registry_url: str) -> None:
    other_process = Registry(registry_url)
    try:
        old = other_process.school("noorderlicht")
        assert old is not None and certificate_b64() in old.config.metadata_xml
        rotated = certificate_b64("noorderlicht-2027")
        world.publish(sign(good(school_cert=rotated), world.signer))
        [result] = refresh(imported)
        assert result.outcome == "fetched" and 'school "noorderlicht" updated' in result.message
        new = other_process.school("noorderlicht")
        assert new is not None and rotated in new.config.metadata_xml
        assert certificate_b64() not in new.config.metadata_xml
    finally:
        other_process.close()
    [again] = refresh(imported)
    assert again.outcome == "unchanged" and str(again) == "entree: unchanged"


def test_an_entity_gone_from_the_source_keeps_its_metadata(imported: Registry,
                                                           world: World) -> None:
    before = school_metadata(imported, "noorderlicht")
    world.publish(sign(aggregate(sp_metadata(SUPPLIER_SP)), world.signer))
    [result] = refresh(imported)
    assert result.outcome == "fetched"
    assert (f'school "noorderlicht" kept its metadata: entity "{SCHOOL_IDP}" is no longer in '
            "the source") in result.message
    assert school_metadata(imported, "noorderlicht") == before


def test_refresh_waits_for_the_earliest_of_refresh_cache_duration_and_valid_until() -> None:
    source = MetadataSource("entree", "https://md.example/e.xml", "", refresh=3600)
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)

    def aggregate_(valid: timedelta | None, cache: timedelta | None) -> Aggregate:
        return Aggregate("", {}, now + valid if valid else None, cache)

    assert source.next_fetch(aggregate_(None, None), now) == now + timedelta(hours=1)
    assert source.next_fetch(aggregate_(None, timedelta(minutes=10)), now) == \
        now + timedelta(minutes=10)
    assert source.next_fetch(aggregate_(timedelta(minutes=5), timedelta(minutes=10)), now) == \
        now + timedelta(minutes=5)
    assert source.next_fetch(aggregate_(timedelta(seconds=2), None), now) == \
        now + timedelta(seconds=60)
    assert duration("PT6H") == timedelta(hours=6) and duration("P1DT30M") == \
        timedelta(days=1, minutes=30)


def test_cache_duration_in_the_document_sets_the_next_fetch(imported: Registry,
                                                            world: World) -> None:
    world.publish(sign(good(cache_duration="PT2M"), world.signer))
    before = datetime.now(UTC)
    refresh(imported)
    [status] = imported.metadata_sources().all()
    assert status.next_fetch is not None
    assert before + timedelta(minutes=2) <= status.next_fetch <= \
        datetime.now(UTC) + timedelta(minutes=2)


# Background refresh


def _make_due(registry_url: str) -> None:
    sql(registry_url, "UPDATE metadata_sources SET next_fetch = NULL")


def test_only_one_process_claims_a_due_source(imported: Registry, registry_url: str) -> None:
    _make_due(registry_url)
    store, now = imported.metadata_sources(), datetime.now(UTC)
    assert store.claim("entree", now, timedelta(minutes=2))
    assert not store.claim("entree", now, timedelta(minutes=2))
    assert store.due(now) == []
    assert refresh(imported, only_due=True) == []


def _requests_until(refresher: Refresher, condition: Callable[[], bool]) -> None:
    """Poke as requests do until `condition` holds (at most 10 s)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the background refresh did not happen in time"
        refresher.poke()
        time.sleep(0.02)
    refresher.join()


def test_the_background_refresh_picks_up_a_rotated_key(imported: Registry, world: World,
                                                       registry_url: str) -> None:
    rotated = certificate_b64("noorderlicht-2027")
    world.publish(sign(good(school_cert=rotated), world.signer))
    _make_due(registry_url)
    refresher = Refresher(imported, interval=0.05)
    _requests_until(refresher, lambda: rotated in school_metadata(imported, "noorderlicht"))
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # more requests, more passes: nothing is due
        refresher.poke()
        time.sleep(0.02)
    refresher.join()
    assert world.site.hits["/entree.xml"] == 2  # the import, then one refresh
    [status] = imported.metadata_sources().all()
    assert status.outcome == "fetched" and status.next_fetch is not None
    assert status.next_fetch > datetime.now(UTC) + timedelta(minutes=9)


def test_the_background_refresh_keeps_the_last_good(imported: Registry, world: World,
                                                    registry_url: str) -> None:
    before = school_metadata(imported, "noorderlicht")
    world.publish(sign(good(school_cert=certificate_b64("forged")),
                       signer(world.directory, "intruder")))
    _make_due(registry_url)
    refresher = Refresher(imported, interval=0.05)
    _requests_until(refresher,
                    lambda: imported.metadata_sources().all()[0].outcome == "refused")
    assert school_metadata(imported, "noorderlicht") == before
    [status] = imported.metadata_sources().all()
    assert status.next_fetch is not None and status.next_fetch > datetime.now(UTC)


def test_a_request_never_waits_for_a_fetch(imported: Registry, world: World,
                                           registry_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr("broker.registry.sources.metadata.fetch",
                        lambda url, **_: (release.wait(10), b"")[1])
    _make_due(registry_url)
    refresher = Refresher(imported, interval=0.0)
    started = time.monotonic()
    for _ in range(20):  # the first starts a pass that hangs; none waits, none starts another
        refresher.poke()
    assert time.monotonic() - started < 0.5
    assert [t.name for t in threading.enumerate()].count("metadata-refresh") == 1
    release.set()
    refresher.join()
    assert imported.metadata_sources().all()[0].outcome == "refused"


def test_the_background_thread_survives_a_failing_pass(imported: Registry,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    def broken(_registry: Registry, *, only_due: bool = False) -> list[object]:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr("broker.metadata_refresh.refresh", broken)
    Refresher(imported).run_once()
    assert "metadata refresh failed" in caplog.text and "fell over" in caplog.text


def test_the_background_pass_fetches_within_the_outbound_timeout(
        imported: Registry, registry_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A thread does not inherit the request's outbound_timeout; the pass sets its own."""
    seen: list[float] = []
    monkeypatch.setattr("broker.registry.sources.metadata.fetch",
                        lambda url, **_: (seen.append(Fetcher().timeout), b"")[1])
    _make_due(registry_url)
    refresher = Refresher(imported, interval=0.0, timeout=3)
    refresher.poke()
    refresher.join()
    assert seen == [3]


# The command


def test_broker_metadata_refresh(world: World, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BROKER_REGISTRY_URL", "BROKER_STATE_URL", "BROKER_INSTANCE"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"

    def broker(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["--instance", str(instance), *args])
        return result.exit_code, result.stdout, result.stderr

    status, _, said = broker("metadata", "refresh")
    assert status == 2 and "`broker init`" in said  # no instance yet: says to run init
    assert broker("init")[0] == 0
    assert broker("metadata", "refresh") == (
        0, "no metadata sources; add [[metadata_sources]] to the federation file\n", "")
    assert broker("federation", "import", str(world.federation()))[0] == 0
    assert broker("metadata", "refresh") == (0, "entree: unchanged\n", "")
    world.publish(sign(good(school_cert=certificate_b64("noorderlicht-2027")), world.signer))
    assert broker("metadata", "refresh") == (
        0, 'entree: fetched (school "noorderlicht" updated)\n', "")
    world.publish(good().encode())
    code, out, err = broker("metadata", "refresh")
    assert (code, out) == (1, "")
    assert err.startswith("entree: refused (the aggregate at https://127.0.0.1:")
    assert "is not signed; expected an enveloped signature on the EntitiesDescriptor); " \
        "kept last good from 20" in err


# MDQ: each entity asked for on its own


def mdq_path(entity_id: str) -> str:
    return "/mdq/entities/" + quote(entity_id, safe="")


@pytest.fixture
def mdq(world: World) -> World:
    """The world with an MDQ service at /mdq answering for the school and the supplier."""
    for entity_id, document in ((SCHOOL_IDP, idp_metadata(SCHOOL_IDP)),
                                (SUPPLIER_SP, sp_metadata(SUPPLIER_SP))):
        world.site.bodies[mdq_path(entity_id)] = sign(entity(document), world.signer)
    path = world.federation()
    path.write_text(path.read_text().replace(f'url = "{world.url}"',
                                             f'mdq = "{world.site.base}/mdq"'))
    return world


def test_mdq_import_asks_for_each_entity(mdq: World, registry: Registry) -> None:
    registry.import_federation(load_federation(mdq.federation_path), key_version=1)
    school, supplier = registry.school("noorderlicht"), registry.supplier("toetsplein")
    assert school is not None and "IDPSSODescriptor" in school.config.metadata_xml
    assert supplier is not None and "SPSSODescriptor" in supplier.config.metadata_xml
    assert mdq.site.hits.get("/entree.xml") is None
    assert mdq.site.hits[mdq_path(SCHOOL_IDP)] == 1
    exported = dump_federation(registry.export_federation())
    assert f'mdq = "{mdq.site.base}/mdq"' in exported and "url =" not in exported


def test_mdq_import_names_an_entity_the_service_does_not_know(mdq: World) -> None:
    del mdq.site.bodies[mdq_path(SCHOOL_IDP)]
    with pytest.raises(FederationError, match=r'schools\[0\] \(id "noorderlicht"\), field '
                       r'"entity_id": cannot fetch https://\S+/mdq/entities/https%3A%2F%2F'
                       r"idp.noorderlicht.example.nl: it answered HTTP 404"):
        load_federation(mdq.federation_path)


def test_mdq_refresh_picks_up_a_rotated_key_and_refuses_a_bad_answer(
        mdq: World, registry: Registry) -> None:
    registry.import_federation(load_federation(mdq.federation_path), key_version=1)
    rotated = certificate_b64("noorderlicht-2027")
    mdq.site.bodies[mdq_path(SCHOOL_IDP)] = sign(entity(idp_metadata(SCHOOL_IDP, rotated)),
                                                mdq.signer)
    [result] = refresh(registry)
    assert (result.outcome, result.message) == ("fetched", 'school "noorderlicht" updated')
    assert rotated in school_metadata(registry, "noorderlicht")

    before = snapshot(registry)
    mdq.site.bodies[mdq_path(SCHOOL_IDP)] = sign(
        entity(idp_metadata(SCHOOL_IDP, certificate_b64("forged"))),
        signer(mdq.directory, "intruder"))
    [result] = refresh(registry)
    assert result.outcome == "fetched"  # the supplier's answer; the school's is refused
    assert 'school "noorderlicht" kept its metadata: entity "https://idp.noorderlicht' \
        in result.message and "(Signature is invalid.)" in result.message
    assert snapshot(registry) == before

    mdq.site.bodies[mdq_path(SUPPLIER_SP)] = sign(entity(idp_metadata(OTHER_IDP)), mdq.signer)
    mdq.site.bodies[mdq_path(SCHOOL_IDP)] = sign(
        entity(idp_metadata(SCHOOL_IDP), valid_for=timedelta(minutes=-1)), mdq.signer)
    [result] = refresh(registry)
    assert result.outcome == "refused" and "expired" in result.message
    assert f'is about "{OTHER_IDP}", not "{SUPPLIER_SP}"' in result.message
    assert snapshot(registry) == before


@pytest.mark.parametrize(("table", "says"), [
    ('url = "https://a.example/e.xml"\nmdq = "https://a.example/mdq"',
     'field "url": expected exactly one of url (the signed aggregate\'s https URL) and mdq'),
    ("", 'field "url": expected exactly one of url'),
    ('url = "http://metadata.example/e.xml"', "is not an absolute https URL"),
    ('url = "https://a.example/e.xml"\nrefresh = 5',
     'field "refresh": is 5; expected a whole number of seconds, at least 60'),
    ('url = "https://a.example/e.xml"\ncertificate_pem = "nope"',
     'field "certificate": expected exactly one of certificate'),
])
def test_a_source_entry_that_cannot_be_used(tmp_path: Path, table: str, says: str) -> None:
    signer(tmp_path, "entree-signing")
    path = tmp_path / "federation.toml"
    path.write_text(f'[[metadata_sources]]\nid = "entree"\ncertificate = "entree-signing.pem"\n'
                    f"{table}\n")
    with pytest.raises(FederationError, match=r'metadata_sources\[0\] \(id "entree"\)') as caught:
        load_federation(path)
    assert says in str(caught.value)


def test_a_certificate_that_is_no_certificate(tmp_path: Path) -> None:
    (tmp_path / "entree-signing.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n")
    path = tmp_path / "federation.toml"
    path.write_text('[[metadata_sources]]\nid = "entree"\ncertificate = "entree-signing.pem"\n'
                    'url = "https://a.example/e.xml"\n')
    with pytest.raises(FederationError, match='field "certificate": is not a PEM certificate'):
        load_federation(path)


def test_each_refresh_counts_in_the_metrics_by_source_and_outcome(imported: Registry,
                                                                  world: World) -> None:
    def counted(outcome: str) -> float:
        value = metrics.REGISTRY.get_sample_value(
            "loper_metadata_refreshes_total", {"source": "entree", "outcome": outcome})
        return value or 0.0

    before = {outcome: counted(outcome) for outcome in ("fetched", "unchanged", "refused")}
    world.publish(sign(good(school_cert=certificate_b64("noorderlicht-2027")), world.signer))
    refresh(imported)
    refresh(imported)
    del world.site.bodies["/entree.xml"]
    refresh(imported)
    assert {outcome: counted(outcome) - before[outcome] for outcome in before} == {
        "fetched": 1, "unchanged": 1, "refused": 1}
