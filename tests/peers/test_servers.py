from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from tests.peers.servers import serve, serve_factory


def _hello() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "hello"

    return app


def _refused(base_url: str) -> bool:
    parts = urlsplit(base_url)
    with socket.socket() as sock:
        return sock.connect_ex((parts.hostname, parts.port)) != 0


def test_serves_on_loopback_and_stops() -> None:
    with serve(_hello()) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert requests.get(base_url, timeout=5).text == "hello"
    assert _refused(base_url)


def test_stops_despite_an_idle_keep_alive_connection() -> None:
    session = requests.Session()
    try:
        with serve(_hello()) as base_url:
            assert session.get(base_url, timeout=5).text == "hello"  # connection stays open
        assert _refused(base_url)
    finally:
        session.close()


def test_factory_gets_its_own_base_url() -> None:
    seen: list[str] = []

    def make(url: str) -> Flask:
        seen.append(url)
        return _hello()

    with serve_factory(make) as (base_url, app):
        assert seen == [base_url]
        assert isinstance(app, Flask)
        assert requests.get(f"{base_url}/", timeout=5).status_code == 200


def test_a_failing_factory_leaves_nothing_behind() -> None:
    def broken(url: str) -> Flask:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError), serve_factory(broken):
        pass
