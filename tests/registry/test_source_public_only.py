"""A metadata source fetched from public addresses only (`public_only`: what the admin portal's
form registers unless the operator allows private addresses). Every refresh resolves its host
once and refuses a loopback, private, link-local... address before anything is sent; the last
good copy stays, and the refusal is said, logged once and counted. The operator's federation
file is trusted as before: its sources still refresh from a loopback server."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from broker import metrics
from broker.metadata_refresh import Refresher, refresh
from broker.registry import FederationError, Registry, dump_federation, load_federation
from tests.registry.helpers import school_metadata, sql, upgrade_to
from tests.registry.metadata_xml import certificate_b64, idp_metadata
from tests.registry.test_entity_source import (  # noqa: F401  (adfs: a fixture)
    PATH,
    SCHOOL_IDP,
    School,
    adfs,
)
from tests.registry.test_metadata_sources import World, mdq, world  # noqa: F401  (fixtures)

SOURCE = "regenboog-idp"


def at_localhost(url: str) -> str:
    """The same server by the name localhost (its certificate names it too)."""
    return url.replace("://127.0.0.1:", "://localhost:", 1)


@pytest.fixture
def operators(adfs: School, registry: Registry) -> Registry:  # noqa: F811
    """The school's own URL in the operator's federation file, by the name localhost."""
    path = adfs.federation()
    path.write_text(path.read_text().replace(adfs.url, at_localhost(adfs.url)))
    registry.import_federation(load_federation(path), key_version=1)
    return registry


def public_only(registry_url: str, url: str | None = None) -> None:
    """Mark the source as the form registers it without the operator's leave (at `url`)."""
    sql(registry_url, "UPDATE metadata_sources SET public_only = 1, url = coalesce(?, url)", url)


def refused_count() -> float:
    return metrics.REGISTRY.get_sample_value(
        "loper_metadata_refreshes_total", {"source": SOURCE, "outcome": "refused"}) or 0.0


def test_the_operators_own_source_on_loopback_still_refreshes(operators: Registry,
                                                              adfs: School) -> None:  # noqa: F811
    [status] = operators.metadata_sources().all()
    assert status.source.tls and not status.source.public_only
    rolled = certificate_b64("adfs-signing-2027")
    adfs.publish(idp_metadata(SCHOOL_IDP, rolled))
    [result] = refresh(operators)
    assert (result.outcome, result.address_kind) == ("fetched", "")
    assert rolled in school_metadata(operators, "regenboog") and adfs.site.hits[PATH] == 2
    assert "public_only" not in dump_federation(operators.export_federation())


INTERNAL = [  # (url, the kind the refusal names); {port}: the school's loopback server
    ("https://localhost:{port}" + PATH, "loopback"),
    ("https://127.0.0.1:{port}" + PATH, "loopback"),
    ("https://[::1]:{port}" + PATH, "loopback"),
    ("https://[::ffff:127.0.0.1]:{port}" + PATH, "loopback"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[fe80::1]/md.xml", "link-local"),
    ("https://10.1.2.3/md.xml", "private"),
    ("https://192.168.0.1:{port}/md.xml", "private"),
    ("https://[fd00::1]/md.xml", "private"),
    ("https://100.64.0.1/md.xml", "non-public"),
    ("https://0.0.0.0:{port}" + PATH, "unspecified"),
    ("https://224.0.0.1/md.xml", "multicast"),
]


@pytest.mark.parametrize(("url", "kind"), INTERNAL)
def test_a_public_only_source_fetches_nothing_from_an_internal_address(
        operators: Registry, adfs: School, registry_url: str,  # noqa: F811
        url: str, kind: str) -> None:
    before, counted = school_metadata(operators, "regenboog"), refused_count()
    [imported] = operators.metadata_sources().all()
    public_only(registry_url, url.format(port=urlsplit(adfs.url).port))
    adfs.publish(idp_metadata(SCHOOL_IDP, certificate_b64("internal")))  # never to be seen
    [result] = refresh(operators)
    assert (result.outcome, result.address_kind) == ("refused", kind)
    assert " is not a public address (" in result.message and f" is {kind})" in result.message
    assert "Loper fetches metadata only from public addresses" in result.message
    assert "Upload the file" not in result.message  # the form's advice, not a refresh's
    assert result.kept == imported.fetched_at and "; kept last good from 20" in str(result)
    assert adfs.site.hits[PATH] == 1, "only the import's request reached the server"
    assert school_metadata(operators, "regenboog") == before and refused_count() == counted + 1
    [status] = operators.metadata_sources().all()
    assert status.outcome == "refused" and f" is {kind})" in str(status.message)


def test_the_background_pass_logs_a_refusal_once_with_the_kind(
        operators: Registry, adfs: School, registry_url: str,  # noqa: F811
        caplog: pytest.LogCaptureFixture) -> None:
    public_only(registry_url)
    sql(registry_url, "UPDATE metadata_sources SET next_fetch = NULL")
    with caplog.at_level(logging.INFO, "loper.metadata"):
        Refresher(operators).run_once()
    [record] = [r for r in caplog.records if r.name == "loper.metadata"]
    assert record.levelno == logging.WARNING
    assert (vars(record)["source"], vars(record)["address_kind"]) == (SOURCE, "loopback")
    logged = record.getMessage()
    assert logged.startswith(f"metadata source {SOURCE}: refused (cannot fetch https://localhost:")
    assert "EntityDescriptor" not in logged and adfs.site.hits[PATH] == 1


def test_an_export_keeps_a_source_public_only(operators: Registry, adfs: School,  # noqa: F811
                                              registry_url: str) -> None:
    """`broker federation export` writes public_only = true; importing it again fetches from
    public addresses only, so the loopback server is refused and sees no request."""
    public_only(registry_url)
    exported = dump_federation(operators.export_federation())
    assert "public_only = true" in exported
    again = adfs.directory / "again.toml"
    again.write_text(exported)
    with pytest.raises(FederationError, match=r'metadata_sources\[0\] \(id "regenboog-idp"\), '
                       r'field "url": cannot fetch https://localhost:\d+/\S+: "localhost" is not a '
                       r"public address \(\S+ is loopback\)"):
        load_federation(again)
    assert adfs.site.hits[PATH] == 1


@pytest.mark.parametrize(("line", "says"), [
    ("public_only = true", '"localhost" is not a public address ('),
    ('public_only = "yes"', 'field "public_only": got a string; expected true or false'),
    ("public_only = 1", 'field "public_only": got an integer; expected true or false'),
])
def test_public_only_in_the_federation_file(adfs: School, line: str,  # noqa: F811
                                            says: str) -> None:
    path = adfs.federation()
    path.write_text(path.read_text().replace('trust = "tls"', f'trust = "tls"\n{line}')
                    .replace(adfs.url, at_localhost(adfs.url)))
    with pytest.raises(FederationError, match=r'metadata_sources\[0\]') as caught:
        load_federation(path)
    assert says in str(caught.value), str(caught.value)
    assert "unknown metadata source" not in str(caught.value)  # its school is not told again
    assert adfs.site.hits.get(PATH) is None


def test_public_only_false_is_what_the_file_meant_before(adfs: School,  # noqa: F811
                                                         registry: Registry) -> None:
    path = adfs.federation()
    path.write_text(path.read_text().replace('trust = "tls"', 'trust = "tls"\npublic_only = false'))
    registry.import_federation(load_federation(path), key_version=1)
    [status] = registry.metadata_sources().all()
    assert status.outcome == "fetched" and not status.source.public_only


def test_an_mdq_source_that_is_public_only_asks_nothing(mdq: World, registry: Registry,  # noqa: F811
                                                       registry_url: str) -> None:
    registry.import_federation(load_federation(mdq.federation_path), key_version=1)
    asked = dict(mdq.site.hits)
    public_only(registry_url)
    [result] = refresh(registry)
    assert (result.outcome, result.address_kind) == ("refused", "loopback")
    assert '"127.0.0.1" is not a public address (127.0.0.1 is loopback)' in result.message
    assert mdq.site.hits == asked and any(path.startswith("/mdq/entities/") for path in asked)


def test_sources_of_an_older_registry_stay_allowed(tmp_path: Path, adfs: School) -> None:  # noqa: F811
    """Migration 0012: every source registered before the column existed may be fetched from
    any address, as before (the operator's file, or the form before this rule)."""
    url = f"sqlite:///{tmp_path / 'older.sqlite'}"
    upgrade_to(url, "0011")
    sql(url, "INSERT INTO metadata_sources (id, url, mdq, certificate, tls, refresh) VALUES "
        "(?, ?, 0, '', 1, 600)", SOURCE, at_localhost(adfs.url))
    upgraded = Registry(url)
    try:
        upgraded.upgrade()
        [status] = upgraded.metadata_sources().all()
        assert status.source.tls and not status.source.public_only
        [result] = refresh(upgraded)
        assert result.outcome == "fetched" and adfs.site.hits[PATH] == 1
    finally:
        upgraded.close()
