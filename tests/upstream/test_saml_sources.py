"""A SAML school whose metadata comes from a signed aggregate: pupils log in with the key the
aggregate publishes, and a key rollover published there takes effect at the next refresh,
in another process too, with no operator action."""

from __future__ import annotations

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
id = "entree"
url = "{url}"
certificate = "entree-signing.pem"

[[schools]]
id = "regenboog"
name = "OBS De Regenboog"
protocol = "saml"
entity_id = "{entity_id}"
metadata_source = "entree"
"""


def test_a_rollover_in_the_aggregate_takes_effect_at_the_next_refresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: Registry,  # noqa: F811
        registry_url: str, upstream: SamlUpstream, idp: SchoolIdp,  # noqa: F811
        impostor: SchoolIdp) -> None:
    rolled_over = impostor  # the same entity id with a new key: the school rolled its key over
    federation_key = signer(tmp_path, "entree-signing")
    with serve(tmp_path) as site:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.cert))
        site.bodies["/entree.xml"] = sign(aggregate(idp.metadata_xml()), federation_key)
        path = tmp_path / "federation.toml"
        path.write_text(FEDERATION.format(url=site.base + "/entree.xml", entity_id=SCHOOL_IDP))
        registry.import_federation(load_federation(path), key_version=1)
        other_process = Registry(registry_url)
        try:
            school = other_process.school("regenboog")
            assert school is not None
            login = Login(upstream, idp, school)
            request, state = login.start()
            assert login.finish(encode(idp.respond(request)), state).identity.subject

            site.bodies["/entree.xml"] = sign(aggregate(rolled_over.metadata_xml()),
                                              federation_key)
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
