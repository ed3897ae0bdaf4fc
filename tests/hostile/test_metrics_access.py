"""/metrics from addresses the operator did not allow (the metrics_allow setting): refused
with Loper's 403 page and an error id, showing nothing of the metrics, whatever the request
claims in X-Forwarded-For."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import CONTENT_TYPE_LATEST

from app import create_app
from broker.errors import ConfigError
from tests.error_log import detail

OUTSIDE = "203.0.113.9"


def client(instance: Path, **settings: Any) -> FlaskClient:
    return create_app({"instance": instance, **settings}).test_client()


def scrape(c: FlaskClient, peer: str, **headers: str) -> tuple[int, str]:
    page = c.get("/metrics", environ_base={"REMOTE_ADDR": peer}, headers=headers)
    return page.status_code, page.get_data(as_text=True)


def assert_refused(status: int, text: str) -> None:
    assert status == 403, text
    assert 'class="error-id"' in text and "not_allowed_from_here" in text
    assert "metrics_allow" in detail(text)  # the logged detail: what the operator changes
    assert "loper_" not in text and "# TYPE" not in text


def test_loopback_reads_the_metrics_in_prometheus_text(instance: Path) -> None:
    page = client(instance).get("/metrics")
    assert page.status_code == 200
    kind = page.headers["Content-Type"]  # each parameter once: a strict scraper refuses twice
    assert kind == CONTENT_TYPE_LATEST and kind.count("charset=") == 1
    text = page.get_data(as_text=True)
    assert "# TYPE loper_logins_total counter" in text
    assert "# TYPE loper_step_seconds histogram" in text


def test_an_outside_address_is_refused(instance: Path) -> None:
    assert_refused(*scrape(client(instance), OUTSIDE))


def test_a_forged_forwarded_for_without_a_trusted_proxy_changes_nothing(instance: Path) -> None:
    assert_refused(*scrape(client(instance), OUTSIDE, **{"X-Forwarded-For": "127.0.0.1"}))


def test_through_the_proxy_the_client_behind_it_counts_not_the_proxy(instance: Path) -> None:
    """nginx on the same machine appends the real client to what the client claimed."""
    c = client(instance, trusted_proxies=1)
    assert_refused(*scrape(c, "127.0.0.1", **{"X-Forwarded-For": f"127.0.0.1, {OUTSIDE}"}))
    assert_refused(*scrape(c, "10.0.0.2", **{"X-Forwarded-For": OUTSIDE}))
    status, _ = scrape(c, "10.0.0.2", **{"X-Forwarded-For": "127.0.0.1"})
    assert status == 200  # a scraper on the proxy's machine, through the proxy


def test_the_trusted_proxy_itself_may_read_unless_proxies_is_left_out(instance: Path) -> None:
    assert scrape(client(instance, trusted_proxies=1), "10.0.0.2")[0] == 200
    assert_refused(*scrape(client(instance, trusted_proxies=1, metrics_allow="loopback"),
                           "10.0.0.2"))
    assert_refused(*scrape(client(instance), "10.0.0.2"))  # no proxy configured: no proxy


def test_listed_networks_only(instance: Path) -> None:
    c = client(instance, metrics_allow="10.1.2.0/24, 2001:db8::5")
    assert scrape(c, "10.1.2.7")[0] == 200
    assert scrape(c, "2001:db8::5")[0] == 200
    for peer in ("10.1.3.7", "127.0.0.1", "2001:db8::6", OUTSIDE):
        assert_refused(*scrape(c, peer))


def test_an_empty_setting_refuses_everyone(instance: Path) -> None:
    assert_refused(*scrape(client(instance, metrics_allow=""), "127.0.0.1"))


def test_the_refusal_speaks_dutch_to_a_dutch_browser(instance: Path) -> None:
    page = client(instance).get("/metrics", environ_base={"REMOTE_ADDR": OUTSIDE},
                                headers={"Accept-Language": "nl"})
    assert page.status_code == 403
    assert "Niet beschikbaar vanaf jouw adres" in page.get_data(as_text=True)


@pytest.mark.parametrize("value", ["everyone", "10.0.0.0/33", "127.0.0.1; 10.0.0.1", "*"])
def test_a_wrong_setting_stops_the_start_saying_what_to_write(instance: Path,
                                                              value: str) -> None:
    with pytest.raises(ConfigError, match="metrics_allow.*loopback, proxies"):
        create_app({"instance": instance, "metrics_allow": value})
