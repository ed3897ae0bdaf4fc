"""Deployment settings: layered, validated once, with messages that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.settings import load_settings


def test_defaults_put_storage_in_the_instance(tmp_path: Path) -> None:
    s = load_settings({"instance": tmp_path}, environ={})
    assert s.state_url == f"sqlite:///{tmp_path / 'state.sqlite'}"
    assert s.registry_url == f"sqlite:///{tmp_path / 'registry.sqlite'}"
    assert not s.secure


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    (tmp_path / "broker.toml").write_text('base_url = "https://loper.example.nl"\n'
                                          'sso_lifetime = 100\nclock_skew = 5\n')
    s = load_settings({"instance": tmp_path, "clock_skew": 9},
                      environ={"BROKER_SSO_LIFETIME": "200", "BROKER_CLOCK_SKEW": "7"})
    assert (s.base_url, s.sso_lifetime, s.clock_skew) == ("https://loper.example.nl", 200, 9)
    assert s.secure


def test_instance_from_environment(tmp_path: Path) -> None:
    assert load_settings(environ={"BROKER_INSTANCE": str(tmp_path)}).instance == tmp_path


@pytest.mark.parametrize(("content", "expected"), [
    ('base_url = "http://loper.example.nl"', "plain http on a public host"),
    ('base_url = "ftp://x"', "expected an absolute http(s) URL"),
    ('base_url = "https://x.nl/sub"', "without a path"),
    ('state_url = "memcached://x"', "expected sqlite:///PATH, redis://"),
    ('sso_lifetime = "long"', "expected a whole number"),
    ('sso_lifetime = 0', "must be positive"),
    ('saml_encryption = "3des"', "aes256-gcm"),
    ('colour = "blue"', "unknown setting(s) colour"),
    ('base_url = ', "cannot be read as TOML"),
])
def test_bad_settings_say_what_to_fix(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "broker.toml").write_text(content + "\n")
    with pytest.raises(ConfigError, match=None) as caught:
        load_settings({"instance": tmp_path}, environ={})
    assert expected in str(caught.value)


def test_http_on_loopback_is_accepted(tmp_path: Path) -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost:5000", "http://[::1]:5000"):
        assert load_settings({"instance": tmp_path, "base_url": url}, environ={}).base_url == url
