"""Loper's SAML SP (one SamlUpstream for the session) and the schools' IdPs it talks to."""

from __future__ import annotations

from pathlib import Path

import pytest
from saml2 import BINDING_HTTP_POST

from broker.keys import KeyPair, ensure_saml_keypair, saml_signing
from broker.upstream.saml import SamlSpConfig, SamlUpstream
from tests.upstream.saml_idp import BASE, SCHOOL_IDP, Login, SchoolIdp, make_keypair


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def sp_config(keys_dir: Path) -> SamlSpConfig:
    ensure_saml_keypair(keys_dir, "loper")
    ensure_saml_keypair(keys_dir, "loper", "next")
    return SamlSpConfig(f"{BASE}/saml/sp/metadata", f"{BASE}/saml/sp/acs",
                        saml_signing(keys_dir), saml_signing(keys_dir, "next"))


@pytest.fixture(scope="session")
def upstream(sp_config: SamlSpConfig) -> SamlUpstream:
    return SamlUpstream(sp_config)


@pytest.fixture(scope="session")
def idp_keys(keys_dir: Path) -> KeyPair:
    return make_keypair(keys_dir, "regenboog-idp")


@pytest.fixture(scope="session")
def other_keys(keys_dir: Path) -> KeyPair:
    """School B's key."""
    return make_keypair(keys_dir, "lyceum-idp")


@pytest.fixture(scope="session")
def idp(upstream: SamlUpstream, idp_keys: KeyPair) -> SchoolIdp:
    return SchoolIdp(SCHOOL_IDP, idp_keys, upstream.metadata_xml())


@pytest.fixture(scope="session")
def impostor(upstream: SamlUpstream, other_keys: KeyPair) -> SchoolIdp:
    """School A's entity id, school B's key."""
    return SchoolIdp(SCHOOL_IDP, other_keys, upstream.metadata_xml())


@pytest.fixture(scope="session")
def post_only_idp(upstream: SamlUpstream, idp_keys: KeyPair) -> SchoolIdp:
    return SchoolIdp(SCHOOL_IDP, idp_keys, upstream.metadata_xml(),
                     bindings=(BINDING_HTTP_POST,))


@pytest.fixture
def login(upstream: SamlUpstream, idp: SchoolIdp) -> Login:
    return Login(upstream, idp, idp.school())
