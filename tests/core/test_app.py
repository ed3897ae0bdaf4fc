"""The broker process itself: start-up errors that say what to fix, and a 503 (never a 500)
when storage goes away while it runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from broker import metrics
from broker.errors import ConfigError
from broker.keys import PSEUDONYM_FILE
from tests.fixtures.redis_server import free_port, running_redis_server
from tests.registry.conftest import fresh_instance


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = fresh_instance(tmp_path / "instance")
    return folder


def _unavailable_page(client: FlaskClient) -> str:
    """A page that needs the state store: Loper's 503 page with an error id."""
    page = client.get("/discovery?login=abcdefghijklmnopqrstuvwx")
    text = page.get_data(as_text=True)
    assert page.status_code == 503 and 'class="error-id"' in text, text
    assert 'data-error-code="service_unavailable"' in text and "Traceback" not in text
    return text


def test_an_unreachable_redis_does_not_stop_the_start_and_is_used_once_it_answers(
        instance: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    client = create_app({"instance": instance, "state_url": url}).test_client()
    assert url in caplog.text and "state_url" in caplog.text  # what to fix, if it is wrong
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["store"] == {"ok": False, "error": "StoreUnavailable",
                                          "reason": "unreachable"}
    assert health.get_json()["registry"]["ok"] is True
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"ready": False, "store": "unreachable", "registry": "ok",
                                "keys": "ok"}
    errors = {"part": "store", "reason": "unreachable"}
    before = metrics.REGISTRY.get_sample_value("loper_storage_errors_total", errors) or 0
    _unavailable_page(client)
    assert metrics.REGISTRY.get_sample_value("loper_storage_errors_total", errors) == before + 1
    with running_redis_server(port=port):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").get_json() == {"ready": True, "store": "ok",
                                                    "registry": "ok", "keys": "ok"}
        assert client.get("/discovery?login=abcdefghijklmnopqrstuvwx").status_code == 400


def test_the_start_log_never_shows_the_redis_password(
        instance: Path, caplog: pytest.LogCaptureFixture) -> None:
    create_app({"instance": instance,
                "state_url": f"redis://loper:s3cret-pw@127.0.0.1:{free_port()}/0"})
    assert "state_url" in caplog.text and "s3cret-pw" not in caplog.text


def test_a_registry_without_a_schema_stops_the_start_with_run_broker_init(
        instance: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no schema: run `broker init`"):
        create_app({"instance": instance,
                    "registry_url": f"sqlite:///{tmp_path / 'empty.sqlite'}"})


def test_a_registry_file_that_cannot_be_opened_stops_the_start(
        instance: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open the database file.*registry_url"):
        create_app({"instance": instance,
                    "registry_url": f"sqlite:///{tmp_path / 'no-such-folder' / 'r.sqlite'}"})


def test_a_damaged_registry_file_is_a_503_that_healthz_names(
        instance: Path, caplog: pytest.LogCaptureFixture) -> None:
    registry = instance / "registry.sqlite"
    data = bytearray(registry.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page, after the file header
    registry.write_bytes(bytes(data))
    client = create_app({"instance": instance}).test_client()
    assert "the database file is corrupt" in caplog.text
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["registry"]["reason"] == "the database file is corrupt"
    page = client.get("/saml/idp/metadata")
    assert page.status_code == 503 and 'class="error-id"' in page.get_data(as_text=True)


def test_readyz_says_ready_when_storage_and_keys_are_there(instance: Path) -> None:
    ready = create_app({"instance": instance}).test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"ready": True, "store": "ok", "registry": "ok", "keys": "ok"}


def test_a_corrupt_pseudonym_key_stops_the_start(instance: Path) -> None:
    (instance / "keys" / PSEUDONYM_FILE).write_text("{")
    with pytest.raises(ConfigError, match="restore it from backup"):
        create_app({"instance": instance})


def test_a_missing_instance_says_run_broker_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="broker init"):
        create_app({"instance": tmp_path / "nothing-here"})


@pytest.fixture
def app_on_private_redis(instance: Path) -> Iterator[tuple[Flask, object]]:
    with running_redis_server() as server:
        yield create_app({"instance": instance, "state_url": server.url}), server


def test_redis_going_away_gives_a_503_page_and_an_unhealthy_healthz(
        app_on_private_redis: tuple[Flask, object]) -> None:
    app, server = app_on_private_redis
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    server.stop()  # type: ignore[attr-defined]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["store"]["ok"] is False
    _unavailable_page(client)


def test_every_page_carries_the_security_headers(instance: Path) -> None:
    client = create_app({"instance": instance}).test_client()
    for path in ("/healthz", "/logout", "/discovery?login=x", "/saml/idp/metadata", "/nope"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        for name in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy",
                     "X-Content-Type-Options"):
            assert len(headers.getlist(name)) == 1, (path, name)


def test_hsts_only_over_https(instance: Path, tmp_path: Path) -> None:
    plain = create_app({"instance": instance}).test_client().get("/healthz")
    assert "Strict-Transport-Security" not in plain.headers
    https = create_app({"instance": instance, "base_url": "https://loper.example.nl"})
    headers = https.test_client().get("/healthz", base_url="https://loper.example.nl").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_error_pages_speak_dutch_to_a_dutch_browser(instance: Path) -> None:
    client = create_app({"instance": instance}).test_client()
    dutch = client.get("/discovery?login=gone", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    text = dutch.get_data(as_text=True)
    assert dutch.status_code == 400 and '<html lang="nl">' in text
    assert "Deze inlog is niet meer open" in text and "Code voor de helpdesk" in text
    assert "expired" not in text.replace('data-error-code="login_expired"', "")
    english = client.get("/discovery?login=gone", headers={"Accept-Language": "en-GB"})
    assert "This login is no longer open" in english.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PUT", "/saml/sp/acs", "OPTIONS, POST"),
    ("DELETE", "/discovery", "GET, HEAD, OPTIONS"),
    ("PATCH", "/admin/login", "GET, HEAD, OPTIONS, POST"),
])
def test_a_405_page_names_the_methods_the_url_answers(instance: Path, method: str, path: str,
                                                      allowed: str) -> None:
    """RFC 9110 15.5.6: a 405 MUST carry Allow, as on the OIDC endpoints' JSON answers."""
    client = create_app({"instance": instance}).test_client()
    page = client.open(path, method=method)
    text = page.get_data(as_text=True)
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert 'data-error-code="http_405"' in text and 'class="error-id"' in text
    assert page.headers["Allow"] == allowed
    assert sorted(client.options(path).headers["Allow"].split(", ")) == allowed.split(", ")


def test_requests_start_the_metadata_refresh_when_it_is_due(instance: Path) -> None:
    app = create_app({"instance": instance})
    refresher = app.extensions["loper.metadata_refresh"]
    refresher.interval = 0.0
    refresher._next = 0.0
    assert app.test_client().get("/healthz").status_code == 200
    refresher.join()
    assert refresher.passes == 1  # started by the request, in the background


def test_the_browsers_icon_request_is_no_failed_request(
        instance: Path, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Every page a pupil opens makes the browser ask for /favicon.ico: no warning with an
    error id, no failure counted, an answer the browser keeps."""
    def failures() -> float:
        return sum(sample.value for metric in metrics.FAILURES.collect()
                   for sample in metric.samples if sample.name.endswith("_total"))

    client = create_app({"instance": instance, "state_url": redis_url}).test_client()
    before = failures()
    caplog.clear()
    answer = client.get("/favicon.ico")
    assert answer.status_code == 204 and answer.data == b""
    assert answer.headers["Cache-Control"] == "public, max-age=604800"
    assert not [r for r in caplog.records if r.name == "loper.errors"]
    assert failures() == before
