"""Instance keys: created once, owner-only, never silently replaced; corruption is loud."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from broker import keys
from broker.errors import ConfigError


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
