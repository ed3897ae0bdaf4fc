"""Registry fixtures: a migrated SQLite registry in tmp_path and a valid federation file."""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from broker.instance import initialise
from broker.registry import Registry, load_federation
from broker.settings import load_settings
from tests.registry.metadata_xml import idp_metadata, sp_metadata

FEDERATION = """\
[[schools]]
id = "regenboog"
name = "OBS De Regenboog"
protocol = "saml"
place = "Utrecht"
metadata = "regenboog-idp.xml"
subject = "nameid"

[[schools]]
id = "lyceum"
name = "Het Lyceum"
protocol = "oidc"
issuer = "https://login.lyceum.example"
client_id = "loper"
client_secret_env = "LYCEUM_SECRET"
subject = "sub"
sso_lifetime = 28800

[[suppliers]]
id = "rekenwonders"
name = "Rekenwonders"
protocol = "saml"
metadata = "rekenwonders-sp.xml"
requests = [ { attribute = "given_name", why = "greets the pupil by name" } ]

[[suppliers]]
id = "taalapp"
name = "Taalapp"
protocol = "oidc"
url = "https://taalapp.example"
client_id = "taalapp"
client_secret = "s3cret"
redirect_uris = ["https://taalapp.example/callback", "http://127.0.0.1:8080/cb"]

[[releases]]
school = "regenboog"
supplier = "rekenwonders"
attributes = ["role", "given_name"]
roles = { employee = ["email"] }

[[releases]]
school = "lyceum"
supplier = "taalapp"
attributes = ["role"]
suspended = "contract under review"
valid_until = 2027-08-01
agreement = "LY-2026-3"
"""

REGENBOOG_IDP = "https://idp.regenboog.example"
REKENWONDERS_SP = "https://rekenwonders.example/sp"


def write_federation(directory: Path, text: str, name: str = "federation.toml") -> Path:
    """Write a federation file plus the metadata files the standard one names."""
    (directory / "regenboog-idp.xml").write_text(idp_metadata(REGENBOOG_IDP))
    (directory / "rekenwonders-sp.xml").write_text(sp_metadata(REKENWONDERS_SP))
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def fresh_instance(folder: Path) -> Path:
    """`folder` as `broker init` leaves it: settings, keys and an empty registry."""
    for _ in initialise(load_settings({"instance": folder}, environ={})):
        pass
    return folder


def initialised_instance(folder: Path, federation: str) -> Path:
    """`folder`/instance as `broker init` leaves it, with this federation imported."""
    settings = load_settings({"instance": fresh_instance(folder / "instance")}, environ={})
    registry = Registry(settings.registry_url)
    try:
        registry.import_federation(load_federation(write_federation(folder, federation)),
                                   key_version=1)
    finally:
        registry.close()
    return folder / "instance"


@pytest.fixture
def registry_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.sqlite'}"


@pytest.fixture
def registry(registry_url: str) -> Iterator[Registry]:
    reg = Registry(registry_url)
    reg.upgrade()
    yield reg
    reg.close()


@pytest.fixture
def federation_file(tmp_path: Path) -> Path:
    return write_federation(tmp_path, FEDERATION)


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    name = f"loper_test_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    finally:
        admin.dispose()


@pytest.fixture
def pg_registry(pg_url: str) -> Iterator[Registry]:
    registry = Registry(pg_url)
    registry.upgrade()
    registry.upgrade()
    yield registry
    registry.close()
