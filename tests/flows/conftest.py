"""End-to-end flows: Loper served by a real WSGI server on loopback, with real peers.

The federation is the demo's (demo/stack.py): a pysaml2 school IdP, a pysaml2 supplier SP and
a python3-saml supplier SP. State lives in a real Redis, as in a multi-instance deployment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from broker.context import Broker
from broker.registry import Registry
from demo.people import DEFAULT_PEOPLE, DemoPerson
from demo.stack import Running, running
from tests.peers.browser import Browser

OID_GIVEN_NAME = "urn:oid:2.5.4.42"
OID_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
OID_MEMBER_OF = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"
PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@dataclass
class Federation:
    running: Running

    @property
    def broker(self) -> Broker:
        value: Broker = self.running.apps["broker"].extensions["loper"]
        return value

    @property
    def registry(self) -> Registry:
        return self.broker.registry

    def supplier(self, name: str) -> str:
        return self.running.suppliers[name]

    @property
    def pupil(self) -> DemoPerson:
        return DEFAULT_PEOPLE[0]

    @property
    def teacher(self) -> DemoPerson:
        return DEFAULT_PEOPLE[3]


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Federation]:
    folder = tmp_path_factory.mktemp("federation")
    with running(folder, settings={"state_url": redis_url}) as stack:
        yield Federation(stack)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def log_in_via_picker(browser: Browser, supplier_url: str, person: DemoPerson,
                      school_name: str = "OBS De Regenboog") -> None:
    """Start at the supplier, pick the school in Loper's picker, log in at school."""
    browser.get(f"{supplier_url}/login")
    assert "/discovery" in browser.url, browser.text[:500]
    browser.click(school_name)
    browser.login(person.id)
