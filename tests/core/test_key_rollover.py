"""Signing key rollover: a next key is published before it signs, the old one stays published."""

from __future__ import annotations

import base64
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from app import create_app
from broker.cli import main
from broker.keys import saml_signing


def broker(instance: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--instance", str(instance), *args])
    assert result.exit_code == 0, result.output
    return result.output


def published(instance: Path) -> tuple[str, set[str]]:
    app = create_app({"instance": instance})
    with app.test_client() as client:
        metadata = client.get("/saml/idp/metadata").get_data(as_text=True)
        kids = {k["kid"] for k in client.get("/oidc/jwks").get_json()["keys"]}
    return metadata, kids


def cert_b64(path: Path) -> str:
    der = x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)
    return base64.b64encode(der).decode()


def test_next_is_published_then_promoted_and_the_old_key_stays_in_the_jwks(
        tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    broker(instance, "init")
    _, kids_before = published(instance)
    current = cert_b64(saml_signing(instance / "keys").cert)

    assert "created the next signing keys" in broker(instance, "keys", "next")
    upcoming = cert_b64(saml_signing(instance / "keys", "next").cert)
    metadata, kids_staged = published(instance)
    assert current in metadata and upcoming in metadata
    assert kids_before < kids_staged and len(kids_staged) == 4
    assert "nothing changed" in broker(instance, "keys", "next")

    broker(instance, "keys", "promote")
    metadata, kids_after = published(instance)
    assert upcoming in metadata and current not in metadata
    assert kids_after == kids_staged, "the previous keys stay published until tokens expire"


def test_promote_without_a_next_key_changes_nothing(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    broker(instance, "init")
    before = saml_signing(instance / "keys").key.read_bytes()
    result = CliRunner().invoke(main, ["--instance", str(instance), "keys", "promote"])
    assert result.exit_code == 2, result.output  # as every `broker` command that cannot go on
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: no complete next key set to promote (missing saml-signing-next.key, "
        "saml-signing-next.crt, oidc-rs256-next.key, oidc-es256-next.key); run `broker keys "
        "next` first and publish it for a while"]
    assert saml_signing(instance / "keys").key.read_bytes() == before


def test_a_corrupt_next_key_is_never_promoted(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    broker(instance, "init")
    broker(instance, "keys", "next")
    staged = saml_signing(instance / "keys", "next").key
    staged.write_text("garbage\n")
    before = {p.name: p.read_bytes() for p in (instance / "keys").iterdir()}
    result = CliRunner().invoke(main, ["--instance", str(instance), "keys", "promote"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {staged}: the next SAML signing key is corrupt")
    assert len(result.stderr.splitlines()) == 1
    assert {p.name: p.read_bytes() for p in (instance / "keys").iterdir()} == before
