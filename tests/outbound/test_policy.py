"""One loopback rule for every place that allows plain http: 127.0.0.0/8, ::1, localhost."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.outbound.policy import is_loopback, is_secure_url
from broker.registry.checks import url_problem
from broker.settings import load_settings

LOOPBACK = ["127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "LocalHost", "::1"]
NOT_LOOPBACK = ["128.0.0.1", "10.0.0.1", "192.168.1.1", "0.0.0.0", "::", "example.nl",
                "localhost.example.nl", "127.0.0.1.nip.io", ""]


def _url(host: str) -> str:
    return f"http://[{host}]:8080" if ":" in host else f"http://{host}:8080"


@pytest.mark.parametrize("host", LOOPBACK)
def test_plain_http_on_loopback_is_accepted_everywhere(host: str, tmp_path: Path) -> None:
    assert is_loopback(host)
    assert is_secure_url(_url(host) + "/x") and url_problem(_url(host) + "/x") is None
    assert load_settings({"instance": tmp_path, "base_url": _url(host)}, environ={})


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_plain_http_elsewhere_is_refused_everywhere(host: str, tmp_path: Path) -> None:
    assert not is_loopback(host)
    assert not is_secure_url(_url(host) + "/x")
    assert url_problem(_url(host) + "/x") is not None
    with pytest.raises(ConfigError, match="base_url"):
        load_settings({"instance": tmp_path, "base_url": _url(host)}, environ={})


@pytest.mark.parametrize("url", ["https://school.example/x", "https://127.0.0.2/x"])
def test_https_is_accepted_on_any_host(url: str) -> None:
    assert is_secure_url(url) and url_problem(url) is None


@pytest.mark.parametrize("url", [None, 42, "ftp://127.0.0.1/x", "http://[::1/x", "/relative"])
def test_what_is_no_url_at_all(url: object) -> None:
    assert not is_secure_url(url)


@pytest.mark.parametrize(("value", "says"), [
    ("0", "expected 1 to 25 seconds"), ("26", "expected 1 to 25 seconds"),
    ("-1", "must not be negative"), ("ten", "expected a whole number")])
def test_the_outbound_timeout_is_checked_at_start(value: str, says: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"outbound_timeout: {says}"):
        load_settings({"instance": tmp_path}, environ={"BROKER_OUTBOUND_TIMEOUT": value})


def test_the_outbound_settings_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"instance": tmp_path}, environ={
        "BROKER_OUTBOUND_TIMEOUT": "3", "BROKER_OUTBOUND_FAILURE_TTL": "0"})
    assert (settings.outbound_timeout, settings.outbound_failure_ttl) == (3, 0)


def test_at_least_one_call_per_host(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="outbound_per_host: must be positive"):
        load_settings({"instance": tmp_path}, environ={"BROKER_OUTBOUND_PER_HOST": "0"})
