"""Instance keys: created once, owner-only, never silently replaced; corruption is loud."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa

from app import create_app
from broker import key_checks, keys
from broker.cli import main
from broker.errors import ConfigError
from tests.registry.conftest import fresh_instance


def test_keys_are_created_once_and_kept(tmp_path: Path) -> None:
    assert keys.ensure_pseudonym_keys(tmp_path)
    assert keys.ensure_saml_keypair(tmp_path, "loper.example")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert not keys.ensure_pseudonym_keys(tmp_path)
    assert not keys.ensure_saml_keypair(tmp_path, "loper.example")
    assert before == {p.name: p.read_bytes() for p in tmp_path.iterdir()}


def test_private_keys_are_owner_only(tmp_path: Path) -> None:
    keys.ensure_pseudonym_keys(tmp_path)
    keys.ensure_saml_keypair(tmp_path, "loper.example")
    keys.ensure_oidc_keys(tmp_path)
    for path in [tmp_path / keys.PSEUDONYM_FILE, keys.saml_signing(tmp_path).key,
                 *keys.oidc_key_paths(tmp_path).values()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.parametrize(("content", "expected"), [
    ("not json", "corrupt"),
    ('{"anchor": "00", "current": 1, "keys": {"1": "00"}}', "too short"),
    (json.dumps({"anchor": "zz", "current": 1, "keys": {"1": "b" * 64}}), "not valid hex"),
    (json.dumps({"anchor": "a" * 64, "current": 2, "keys": {"1": "b" * 64}}),
     "current=2 names no key"),
    (json.dumps({"anchor": "a" * 64, "current": 1}), "expected"),
])
def test_a_corrupt_pseudonym_key_stops_everything(tmp_path: Path, content: str,
                                                 expected: str) -> None:
    (tmp_path / keys.PSEUDONYM_FILE).write_text(content)
    with pytest.raises(ConfigError) as caught:
        keys.load_pseudonym_keys(tmp_path)
    assert expected in str(caught.value)
    with pytest.raises(ConfigError):
        keys.ensure_pseudonym_keys(tmp_path)  # init refuses to go on, and does not replace it
    assert (tmp_path / keys.PSEUDONYM_FILE).read_text() == content


def test_missing_pseudonym_key_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="broker init"):
        keys.load_pseudonym_keys(tmp_path)


# -- Every key is read and checked: by `broker init`, at start and by /readyz -------------------

def _instance(tmp_path: Path) -> Path:
    folder = fresh_instance(tmp_path / "instance")
    return folder


def _other_certificate(_keys: Path) -> bytes:
    return keys.self_signed(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                            "another.example")


def _half(path: Path) -> bytes:
    data = path.read_bytes()
    return data[:len(data) // 2]


def _rsa_key(_keys: Path) -> bytes:
    return keys.private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


CORRUPTIONS: list[tuple[str, Callable[[Path], bytes | None], str]] = [
    ("saml-signing.key", lambda _: b"garbage\n",
     "the SAML signing key is corrupt or unusable (Unable to load PEM file."),
    ("saml-signing.crt", _other_certificate,
     "the SAML signing key is corrupt or unusable (the certificate does not belong to the key)"),
    ("saml-signing.crt", lambda _: None, "missing, so the SAML signing key is incomplete"),
    ("oidc-rs256.key", lambda k: _half(k / "oidc-rs256.key"),
     "the OIDC RS256 signing key is corrupt or unusable"),
    ("oidc-es256.key", _rsa_key,
     "the OIDC ES256 signing key is corrupt or unusable (not an EC private key on P-256)"),
    ("pseudonym.json", lambda _: b"{", "the pseudonym key is corrupt or unusable"),
    ("cookie-secret", lambda _: b"short\n",
     "the cookie secret is corrupt or unusable (5 characters, at least 32 expected)"),
    ("totp-seal.key", lambda _: b"not a fernet key\n",
     "the TOTP sealing key is corrupt or unusable"),
]


def _spoil(instance: Path, name: str, content: Callable[[Path], bytes | None]) -> Path:
    path = instance / "keys" / name
    data = content(instance / "keys")
    if data is None:
        path.unlink()
    else:
        path.write_bytes(data)
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize(("name", "content", "expected"), CORRUPTIONS)
def test_init_names_a_corrupt_key_in_one_line_and_changes_nothing(
        tmp_path: Path, name: str, content: Callable[[Path], bytes | None],
        expected: str) -> None:
    instance = _instance(tmp_path)
    path = _spoil(instance, name, content)
    (instance / "broker.toml").unlink()  # init would write it: not with a corrupt key
    before = _files(instance)
    result = CliRunner().invoke(main, ["--instance", str(instance), "init"])
    assert result.exit_code == 2, result.output
    assert result.stdout == "", "nothing created or kept"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: ") and expected in line, line
    assert "restore it from backup" in line
    assert _files(instance) == before


@pytest.mark.parametrize(("name", "content", "expected"), CORRUPTIONS)
def test_a_corrupt_key_stops_the_start(tmp_path: Path, name: str,
                                       content: Callable[[Path], bytes | None],
                                       expected: str) -> None:
    instance = _instance(tmp_path)
    path = _spoil(instance, name, content)
    with pytest.raises(ConfigError) as caught:
        create_app({"instance": instance})
    assert str(caught.value).startswith(f"{path}: ") and expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_readyz_reads_the_keys_on_every_probe_and_parses_them_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    instance = _instance(tmp_path)
    client = create_app({"instance": instance}).test_client()
    assert client.get("/readyz").get_json()["keys"] == "ok"
    parsed = key_checks._unusable.cache_info().misses
    for _ in range(3):
        assert client.get("/readyz").status_code == 200
    assert key_checks._unusable.cache_info().misses == parsed, "an unchanged key: not parsed"
    saml_key = keys.saml_signing(instance / "keys").key
    good = saml_key.read_bytes()
    saml_key.write_bytes(b"garbage\n")
    for _ in range(2):
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json() == {"ready": False, "store": "ok", "registry": "ok",
                                    "keys": "the SAML signing key is corrupt"}
    told = [r for r in caplog.records if r.name == "loper.health"]
    assert len(told) == 1 and str(saml_key) in told[0].getMessage(), "logged once, with the file"
    saml_key.write_bytes(good)
    assert client.get("/readyz").get_json() == {"ready": True, "store": "ok", "registry": "ok",
                                                "keys": "ok"}
