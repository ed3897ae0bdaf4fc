"""A school registered from the form by its own metadata URL keeps the rule its URL was checked
under. Unless the operator allowed private addresses, a refresh whose host has come to resolve
to a loopback address (DNS changed after the registration) fetches nothing from it: the school
keeps its last good metadata and its pupils log in with the old key; the operator page and
`broker metadata refresh` say why."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.errors import UpstreamRejected
from broker.metadata_refresh import refresh
from broker.records import School
from broker.registry import Registry, dump_federation
from broker.upstream.saml import SamlUpstream
from tests.admin.conftest import Portal
from tests.admin.test_operator import NEW_SCHOOL, in_english, text
from tests.core.broker_command import this_process
from tests.registry.https import Site, serve
from tests.upstream.conftest import (  # noqa: F401  (fixtures)
    idp,
    idp_keys,
    impostor,
    keys_dir,
    other_keys,
    sp_config,
    upstream,
)
from tests.upstream.saml_idp import Login, SchoolIdp, encode

PATH = "/FederationMetadata/2007-06/FederationMetadata.xml"
SOURCE = "klimop-idp"
LOCALHOST_REFUSED = re.compile(r'"localhost" is not a public address \([0-9a-f:.]+ is loopback\)')


@pytest.fixture
def adfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         idp: SchoolIdp) -> Iterator[Site]:  # noqa: F811
    """The school's ADFS, on this machine; its certificate names localhost too."""
    with serve(tmp_path, {PATH: idp.metadata_xml().encode()}) as site:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.cert))
        yield site


def register(operator: Portal, site: Site, monkeypatch: pytest.MonkeyPatch,
             **extra: str) -> None:
    """Register the school by https://localhost:PORT/...; while the form checks it, its name
    still leads to the school's public server (the form's address check finds nothing)."""
    form = {"id": "klimop", "name": "De Klimop", "protocol": "saml", "keep_fresh": "yes",
            "metadata_url": site.base.replace("127.0.0.1", "localhost") + PATH, **extra}
    with monkeypatch.context() as registering:
        registering.setattr("broker.outbound.addresses.blocked", lambda ip: None)
        response = operator.post(NEW_SCHOOL, form)
    assert response.status_code == 302, text(response)[:2000]
    assert site.hits[PATH] == 1


def school(registry: Registry) -> School:
    registry.refresh()
    found = registry.school("klimop")
    assert found is not None
    return found


@pytest.fixture
def registered(operator: Portal, registry: Registry, adfs: Site, impostor: SchoolIdp,  # noqa: F811
               monkeypatch: pytest.MonkeyPatch) -> Registry:
    """Registered without the operator allowing private addresses; the name now resolves to
    loopback, where a server answers with another key."""
    register(operator, adfs, monkeypatch)
    adfs.bodies[PATH] = impostor.metadata_xml().encode()
    return registry


def test_a_name_that_turns_internal_is_not_fetched_from(
        registered: Registry, operator: Portal, adfs: Site, upstream: SamlUpstream,  # noqa: F811
        idp: SchoolIdp, impostor: SchoolIdp) -> None:  # noqa: F811
    [status] = registered.metadata_sources().all()
    assert status.source.id == SOURCE and status.source.public_only
    before = school(registered)
    [result] = refresh(registered)
    assert (result.outcome, result.address_kind) == ("refused", "loopback")
    assert LOCALHOST_REFUSED.search(result.message), result.message
    assert adfs.hits[PATH] == 1, "the server on loopback saw no request"
    kept = school(registered)
    assert kept.config == before.config
    login = Login(upstream, idp, kept)
    request, state = login.start()
    assert login.finish(encode(idp.respond(request)), state).identity.subject
    request, state = login.start()
    with pytest.raises(UpstreamRejected, match="cannot be verified with the keys"):
        login.finish(encode(impostor.respond(request)), state)  # what loopback serves: unused
    page = text(in_english(operator).get("/admin/operator"))
    sources = page.split('id="sources-title"', 1)[1].split("</section>", 1)[0]
    assert SOURCE in sources and LOCALHOST_REFUSED.search(sources)


def test_broker_metadata_refresh_says_why_in_one_line(registered: Registry, tmp_path: Path,
                                                      adfs: Site) -> None:
    """The command on the portal's instance (tests/admin/conftest.py)."""
    done = this_process(tmp_path / "instance", "metadata", "refresh",
                        REQUESTS_CA_BUNDLE=str(adfs.cert))
    assert (done.returncode, done.stdout) == (1, "")
    [line] = [line for line in done.stderr.splitlines() if line.startswith(SOURCE)]
    assert line.startswith(f"{SOURCE}: refused (cannot fetch https://localhost:")
    assert LOCALHOST_REFUSED.search(line) and "kept last good from 20" in line
    assert adfs.hits[PATH] == 1


def test_an_export_keeps_it_public_only(registered: Registry) -> None:
    exported = dump_federation(registered.export_federation())
    source = exported.split("[[metadata_sources]]", 1)[1].split("[[", 1)[0]
    assert f'id = "{SOURCE}"' in source and "public_only = true" in source


def test_with_the_operators_leave_private_addresses_stay_allowed(
        operator: Portal, registry: Registry, adfs: Site, impostor: SchoolIdp,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    register(operator, adfs, monkeypatch, allow_private="yes")
    [status] = registry.metadata_sources().all()
    assert not status.source.public_only
    adfs.bodies[PATH] = impostor.metadata_xml().encode()
    [result] = refresh(registry)
    assert (result.outcome, result.message) == ("fetched", 'school "klimop" updated')
    assert adfs.hits[PATH] == 2
    assert "public_only" not in dump_federation(registry.export_federation())
