"""Loper served over real HTTP (in this process, on a loopback port) on a private Redis and a
private PostgreSQL that a test takes away and brings back: what a pupil's browser, a relying
party and a supplier's metadata refresh see during a storage outage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import requests

from app import create_app
from tests.faults.conftest import AUTHORIZE, FEDERATION, make_instance
from tests.fixtures.postgres_server import PostgresServer, running_postgres_server
from tests.fixtures.redis_server import RedisServer, running_redis_server
from tests.peers.servers import serve_factory

APP_URL = "https://rekenapp.example/start"
"""The app's own start page ("start again at Rekenapp"); never fetched."""
OUTAGE_FEDERATION = FEDERATION.replace('name = "Rekenapp"\n',
                                       f'name = "Rekenapp"\nurl = "{APP_URL}"\n')
AUTHORIZE_PATH = "/oidc/authorize?" + urlencode(AUTHORIZE)


class Server(Protocol):
    def stop(self) -> None: ...

    def start(self) -> None: ...


@dataclass
class Served:
    base_url: str
    folder: Path
    redis: RedisServer
    postgres: PostgresServer

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.base_url + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.base_url + path, allow_redirects=False, timeout=30, **kwargs)


@contextmanager
def storage() -> Iterator[tuple[RedisServer, PostgresServer]]:
    with running_redis_server() as redis, running_postgres_server() as postgres:
        yield redis, postgres


@contextmanager
def served(folder: Path, redis: RedisServer, postgres: PostgresServer) -> Iterator[Served]:
    """An instance (one OIDC supplier; made unless `folder` holds it) on this Redis and
    PostgreSQL, served over HTTP by a process of its own."""
    def make(url: str) -> Any:
        urls = {"base_url": url, "state_url": redis.url, "registry_url": postgres.url}
        if not folder.exists():
            make_instance(folder, OUTAGE_FEDERATION, **urls)
        return create_app({"instance": folder, **urls})

    with serve_factory(make) as (base_url, _app):
        yield Served(base_url, folder, redis, postgres)


@contextmanager
def down(server: Server) -> Iterator[None]:
    """`server` stopped for the block; started again after it, also when the block fails."""
    server.stop()
    try:
        yield
    finally:
        server.start()
