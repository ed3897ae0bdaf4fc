"""The demo school "Het Lyceum" served as a real OpenID Provider, and Loper's RP in front of it.

One OP for the session; every test starts with a correct OP (`tweak` makes it misbehave) and a
fresh OidcUpstream (an empty discovery/JWKS cache).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from broker.records import School
from broker.upstream.oidc import OidcRpConfig, OidcUpstream
from broker.upstream.oidc_kind import OidcSchool
from demo.school_op import OpClient, OpTweaks, create_school_op
from tests.upstream.oidc.browser import SchoolBrowser
from tests.upstream.oidc.served import serve

CALLBACK = "http://127.0.0.1:5999/oidc/callback"
CLIENT_ID = "loper"
SECRET = "lyceum-secret with spaces+plus/slash"


@dataclass
class ServedOp:
    base_url: str
    app: Flask

    def tweak(self, **changes: Any) -> None:
        self.app.config["TWEAKS"] = OpTweaks(**changes)


@pytest.fixture(scope="session")
def served_op(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOp]:
    state_dir: Path = tmp_path_factory.mktemp("lyceum-op")
    clients = [OpClient(CLIENT_ID, SECRET, [CALLBACK])]
    with serve(lambda base: create_school_op(base, state_dir, clients)) as (base_url, app):
        yield ServedOp(base_url, app)


@pytest.fixture
def op(served_op: ServedOp) -> Iterator[ServedOp]:
    served_op.tweak()
    yield served_op
    served_op.tweak()


def school_at(issuer: str, domains: tuple[str, ...] = ("lyceum.example",),
              **oidc: Any) -> School:
    settings: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": SECRET, **oidc}
    return School(id="lyceum", name="Het Lyceum", domains=domains,
                  config=OidcSchool(issuer=issuer, **settings))


@pytest.fixture
def lyceum(op: ServedOp) -> School:
    return school_at(op.base_url)


@pytest.fixture
def make_rp() -> Callable[..., OidcUpstream]:
    def make(**config: Any) -> OidcUpstream:
        return OidcUpstream(OidcRpConfig(redirect_uri=CALLBACK, **config))
    return make


@pytest.fixture
def rp(make_rp: Callable[..., OidcUpstream]) -> OidcUpstream:
    return make_rp()


@pytest.fixture
def browser() -> Iterator[SchoolBrowser]:
    with requests.Session() as session:
        yield SchoolBrowser(session, CALLBACK)


@pytest.fixture
def closed_port() -> int:
    """A loopback port where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]
