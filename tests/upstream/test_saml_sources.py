"""A SAML school whose metadata comes from a metadata source: a signed aggregate, or the
school's own URL (ADFS, Entra ID) trusted through TLS. Pupils log in with the key the source
publishes, and a key rollover published there takes effect at the next refresh, in another
process too, with no operator action; a Response signed with the old key is then refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from broker.errors import UpstreamRejected
from broker.metadata_refresh import refresh
from broker.registry import Registry, load_federation
from broker.upstream.saml import SamlUpstream
from tests.registry.aggregates import aggregate, sign, signer
from tests.registry.conftest import registry, registry_url  # noqa: F401  (fixtures)
from tests.registry.https import serve
from tests.upstream.saml_idp import SCHOOL_IDP, Login, SchoolIdp, encode

FEDERATION = """\
[[metadata_sources]]
id = "source"
url = "{url}"
{trust}

[[schools]]
id = "regenboog"
name = "OBS De Regenboog"
protocol = "saml"
entity_id = "{entity_id}"
metadata_source = "source"
"""
Publish = Callable[[str, Path], bytes]
"""What the source serves for the school's metadata XML (its folder for keys)."""


def _aggregate(metadata_xml: str, folder: Path) -> bytes:
    return sign(aggregate(metadata_xml), signer(folder, "entree-signing"))


def _own(metadata_xml: str, folder: Path) -> bytes:
    return metadata_xml.encode()


SOURCES = {  # (path, trust, what is served)
    "signed aggregate": ("/entree.xml", 'certificate = "entree-signing.pem"', _aggregate),
    "the school's own url": ("/FederationMetadata/2007-06/FederationMetadata.xml",
                             'trust = "tls"', _own),
}


@pytest.mark.parametrize("kind", SOURCES)
def test_a_rollover_at_the_source_takes_effect_at_the_next_refresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: Registry,  # noqa: F811
        registry_url: str, upstream: SamlUpstream, idp: SchoolIdp,  # noqa: F811
        impostor: SchoolIdp, kind: str) -> None:
    path, trust, publish = SOURCES[kind]
    rolled_over = impostor  # the same entity id with a new key: the school rolled its key over
    with serve(tmp_path) as site:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.cert))
        site.bodies[path] = publish(idp.metadata_xml(), tmp_path)
        federation = tmp_path / "federation.toml"
        federation.write_text(FEDERATION.format(url=site.base + path, trust=trust,
                                                entity_id=SCHOOL_IDP))
        registry.import_federation(load_federation(federation), key_version=1)
        other_process = Registry(registry_url)
        try:
            school = other_process.school("regenboog")
            assert school is not None
            login = Login(upstream, idp, school)
            request, state = login.start()
            assert login.finish(encode(idp.respond(request)), state).identity.subject

            site.bodies[path] = publish(rolled_over.metadata_xml(), tmp_path)
            assert [r.outcome for r in refresh(registry)] == ["fetched"]
            school = other_process.school("regenboog")
            assert school is not None
        finally:
            other_process.close()
    login = Login(upstream, rolled_over, school)
    request, state = login.start()
    assert login.finish(encode(rolled_over.respond(request)), state).identity.subject
    request, state = login.start()
    with pytest.raises(UpstreamRejected, match="cannot be verified with the keys"):
        login.finish(encode(idp.respond(request)), state)  # the old key no longer counts
