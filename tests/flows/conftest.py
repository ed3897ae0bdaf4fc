"""End-to-end flows: Loper served by a real WSGI server on loopback, with real peers.

The federation is the demo's (demo/stack.py): a pysaml2 school IdP (OBS De Regenboog), an OIDC
school (Het Lyceum), two SAML supplier SPs (pysaml2, python3-saml) and an OIDC supplier RP
(Leesplein, on authlib). State lives in a real Redis, as in a multi-instance deployment.
`strict_client` adds a test-only OIDC client, played by the strict RP of strict_rp.py
(requests + joserfc): the second OIDC client implementation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from lxml import etree

from broker.context import Broker
from broker.pseudonym import anchor, pseudonym
from broker.registry import Registry
from demo.people import DEFAULT_PEOPLE, DemoPerson
from demo.school_op import LYCEUM_PEOPLE
from demo.stack import Running, running
from tests.flows.oidc_clients import RpClient, register_client, strict_rp
from tests.flows.strict_rp import StrictRp, callback_catcher, query_of
from tests.peers.browser import Browser, decode_saml

OID_GIVEN_NAME = "urn:oid:2.5.4.42"
OID_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
OID_MEMBER_OF = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"
PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
PSEUDONYM = re.compile(r"^v1-[a-z2-7]{52}$")
REGENBOOG, LYCEUM = "OBS De Regenboog", "Het Lyceum"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
LYCEUM_ACR = "urn:lyceum:password"
STRICT_RELEASE = ["given_name", "family_name", "email", "role", "groups", "school_domain"]
"""What both schools release to the strict RP: standard claims of each scope and education
claims, so a test sees which ones a scope lets through."""


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

    @property
    def issuer(self) -> str:
        return self.running.broker

    def supplier(self, name: str) -> str:
        return self.running.suppliers[name]

    @property
    def pupil(self) -> DemoPerson:
        return DEFAULT_PEOPLE[0]

    @property
    def teacher(self) -> DemoPerson:
        return DEFAULT_PEOPLE[3]

    @property
    def lyceum_pupil(self) -> DemoPerson:
        return LYCEUM_PEOPLE[0]

    @property
    def lyceum_teacher(self) -> DemoPerson:
        return LYCEUM_PEOPLE[2]

    def pseudonym_of(self, school_id: str, person: DemoPerson, supplier_id: str) -> str:
        """What Loper must send `supplier_id` for `person` (OIDC Core 8.1 pairwise)."""
        keys = self.broker.pseudonym_keys
        supplier = self.registry.supplier(supplier_id)
        assert supplier is not None
        person_anchor = self.registry.resolve_anchor(anchor(keys, school_id, person.id))
        return pseudonym(keys, supplier.key_version, supplier.sector, person_anchor)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Federation]:
    folder = tmp_path_factory.mktemp("federation")
    with running(folder, settings={"state_url": redis_url}) as stack:
        yield Federation(stack)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def catcher() -> Iterator[str]:
    with callback_catcher() as base_url:
        yield base_url


@pytest.fixture(scope="module")
def strict_client(federation: Federation, catcher: str) -> RpClient:
    releases = {"regenboog": STRICT_RELEASE, "lyceum": STRICT_RELEASE}
    return register_client(federation, "strict-rp", [f"{catcher}/strict/cb"], releases)


@pytest.fixture
def rp(federation: Federation, strict_client: RpClient) -> Iterator[StrictRp]:
    with strict_rp(federation.issuer, strict_client) as the_rp:
        yield the_rp


def log_in_via_picker(browser: Browser, supplier_url: str, person: DemoPerson,
                      school_name: str = REGENBOOG) -> None:
    """Start at the supplier, pick the school in Loper's picker, log in at school."""
    browser.get(f"{supplier_url}/login")
    assert "/discovery" in browser.url, browser.text[:500]
    browser.click(school_name)
    browser.login(person.id)


def at_school_login(browser: Browser) -> bool:
    """Does the page ask a person to log in at school (either school's login form)?"""
    try:
        browser.form(lambda f: "password" in f.visible and "person" in f.choices)
    except LookupError:
        return False
    return True


def saml_request_to_school(browser: Browser, school_url: str) -> str:
    """The last AuthnRequest Loper sent to a SAML school (HTTP-Redirect: in the URL)."""
    for response in reversed(browser.history):
        if response.url.startswith(school_url) and "SAMLRequest=" in response.url:
            return decode_saml(query_of(response.url)["SAMLRequest"])
    raise LookupError(f"no AuthnRequest was sent to {school_url}")


def oidc_request_to_school(browser: Browser, school_url: str) -> dict[str, str]:
    """The last authorization request Loper sent to an OIDC school (its query parameters)."""
    for response in reversed(browser.history):
        if response.url.startswith(f"{school_url}/authorize?"):
            return query_of(response.url)
    raise LookupError(f"no authorization request was sent to {school_url}")


def whoami(browser: Browser, supplier_url: str) -> dict[str, object]:
    data: dict[str, object] = browser.get_json(f"{supplier_url}/whoami")
    return data


SAML = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
        "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}


def last_authn_context(browser: Browser, supplier_url: str) -> str | None:
    """The AuthnContextClassRef of the last (unencrypted) SAMLResponse posted to a supplier."""
    responses = [p["SAMLResponse"] for p in browser.saml_posts
                 if "SAMLResponse" in p and p["action"].startswith(supplier_url)]
    assert responses, "no SAMLResponse was posted to " + supplier_url
    root = etree.fromstring(decode_saml(responses[-1]).encode(),
                            etree.XMLParser(resolve_entities=False, no_network=True))
    refs = root.xpath("//saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef/text()",
                      namespaces=SAML)
    return str(refs[0]) if refs else None


def log_out(browser: Browser, loper: str) -> None:
    """Press "log out everywhere" on Loper's logout page."""
    browser.get(f"{loper}/logout")
    browser.submit(browser.form("csrf_token"))
