"""The running demo federation for the Basic OP plan, with the plan's two static clients.

"certification" has two redirect URIs (one with a query, for the redirect-uri-query tests) and
may use refresh tokens; "certification2" is the plan's second client (refresh token binding).
Both play the strict RP of tests/flows/strict_rp.py; logins go through the SAML school.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo.stack import running
from tests.flows.conftest import Federation
from tests.flows.oidc_clients import RpClient, register_client, strict_rp
from tests.flows.strict_rp import StrictRp, callback_catcher
from tests.peers.browser import Browser

RELEASE = {"regenboog": ["given_name", "family_name", "display_name", "email", "role"]}


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Federation]:
    with running(tmp_path_factory.mktemp("certification"),
                 settings={"state_url": redis_url}) as stack:
        yield Federation(stack)


@pytest.fixture(scope="module")
def catcher() -> Iterator[str]:
    with callback_catcher() as base_url:
        yield base_url


@pytest.fixture(scope="module")
def client(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, "certification",
                           [f"{catcher}/cert/cb", f"{catcher}/cert/cb?foo=bar"], RELEASE,
                           offline_access=True)


@pytest.fixture(scope="module")
def client2(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, "certification2", [f"{catcher}/cert2/cb"], RELEASE,
                           offline_access=True)


@pytest.fixture
def rp(federation: Federation, client: RpClient) -> Iterator[StrictRp]:
    with strict_rp(federation.issuer, client) as the_rp:
        yield the_rp


@pytest.fixture
def rp2(federation: Federation, client2: RpClient) -> Iterator[StrictRp]:
    with strict_rp(federation.issuer, client2) as the_rp:
        yield the_rp


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b
