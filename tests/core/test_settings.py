"""Deployment settings: layered, validated once, with messages that say what to fix."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from app import create_app
from broker.errors import ConfigError
from broker.registry import Registry
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
    ('registry_url = "bogus"', "setting registry_url: 'bogus' is not a database URL; expected "
                               "sqlite:///PATH or postgresql+psycopg://USER@HOST[:PORT]/DATABASE"),
    ('registry_url = "mysql://loper:pw@db/loper"',
     "setting registry_url: 'mysql://***@db/loper' names mysql, which Loper does not run on"),
    ('registry_url = "postgresql://db/loper"', "names postgresql, which Loper does not run on; "
                                               "expected sqlite:///PATH or postgresql+psycopg://"),
    ('log_level = "LOUD"', "setting log_level: expected DEBUG, INFO, WARNING or ERROR, "
                           "got 'LOUD'"),
])
def test_bad_settings_say_what_to_fix(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "broker.toml").write_text(content + "\n")
    with pytest.raises(ConfigError, match=None) as caught:
        load_settings({"instance": tmp_path}, environ={})
    assert expected in str(caught.value)


def test_http_on_loopback_is_accepted(tmp_path: Path) -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost:5000", "http://[::1]:5000"):
        assert load_settings({"instance": tmp_path, "base_url": url}, environ={}).base_url == url


@pytest.mark.parametrize("url", ["sqlite:////srv/loper/registry.sqlite",
                                 "postgresql+psycopg://loper:pw@db.example:5432/loper"])
def test_the_registry_databases_loper_runs_on_are_accepted(tmp_path: Path, url: str) -> None:
    settings = load_settings({"instance": tmp_path, "registry_url": url}, environ={})
    assert settings.registry_url == url


def test_a_registry_driver_that_is_not_installed_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "psycopg" else real(name, *rest))
    with pytest.raises(ConfigError) as caught:
        load_settings({"instance": tmp_path, "registry_url": "postgresql+psycopg://db/loper"},
                      environ={})
    assert "needs the Python package psycopg, which is not installed: pip install " \
           "'psycopg[binary]'" in str(caught.value)


@pytest.mark.parametrize("level", ["DEBUG", "info", "Warning", "ERROR"])
def test_the_log_levels_are_accepted_in_any_case(tmp_path: Path, level: str) -> None:
    assert load_settings({"instance": tmp_path}, environ={"BROKER_LOG_LEVEL": level}
                         ).log_level == level


@pytest.mark.parametrize(("setting", "value"), [("registry_url", "mysql://x@y/z"),
                                                ("registry_url", "bogus"),
                                                ("log_level", "LOUD")])
def test_the_start_refuses_the_same_settings(tmp_path: Path, setting: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"setting {setting}: "):
        create_app({"instance": tmp_path, setting: value})


def test_a_registry_opened_by_url_refuses_it_the_same_way() -> None:
    with pytest.raises(ConfigError) as caught:
        Registry("mysql://x@y/z")
    assert "setting registry_url: 'mysql://***@y/z' names mysql" in str(caught.value)
