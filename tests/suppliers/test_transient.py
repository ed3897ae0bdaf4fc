"""SAML software as a supplier deploys it without choosing a NameID format asks for a transient
NameID: SimpleSAMLphp with its stock NameIDPolicy, mellon with metadata that names no
NameIDFormat (as the metadata mellon generates). Loper gives it a fresh one at every login,
never the pseudonym, and a single logout either way names the pupil by that transient NameID:
the pupil logging out at the app ends Loper's session (on a shared classroom device the next
pupil must log in at the school), and "log out everywhere" at Loper names the pupil as the
app knows them.
"""

from __future__ import annotations

import pytest
from lxml import etree

from demo.people import DEFAULT_PEOPLE
from tests.flows.conftest import Federation, log_out
from tests.peers.browser import Browser
from tests.suppliers.journey import log_in, open_app
from tests.suppliers.loper import SCHOOL
from tests.suppliers.slo import (
    SUCCESS,
    assert_logged_out_at_app,
    mark,
    own_logout,
    saml_messages,
    status_of,
)
from tests.suppliers.software import SupplierSoftware

STOCK = ["simplesamlphp_stock", "mellon_stock"]
"""The `software` fixture's parameters: the software with what it asks for by default."""
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
PUPIL = DEFAULT_PEOPLE[1]


def _name_id(logout_request: str) -> tuple[str, str]:
    root = etree.fromstring(logout_request.encode(), etree.XMLParser(resolve_entities=False,
                                                                     no_network=True))
    name_id = root.find("saml:NameID", NS)
    assert name_id is not None
    return name_id.text or "", name_id.get("Format", "")


@pytest.mark.parametrize("software", STOCK, indirect=True)
def test_a_transient_nameid_is_fresh_at_every_login_and_never_the_pseudonym(
        loper: Federation, software: SupplierSoftware) -> None:
    pseudonym = loper.pseudonym_of(SCHOOL, PUPIL, software.name)
    seen = []
    for _ in range(2):
        with Browser() as browser:
            seen.append(log_in(browser, software, PUPIL).subject)
    assert seen[0] and seen[1] and seen[0] != seen[1]
    assert pseudonym not in seen


@pytest.mark.parametrize("software", STOCK, indirect=True)
def test_logging_out_at_the_app_by_its_transient_nameid_ends_lopers_session(
        loper: Federation, software: SupplierSoftware, browser: Browser) -> None:
    transient = log_in(browser, software, PUPIL).subject
    since = mark(browser)

    browser.get(own_logout(software))

    [asked] = saml_messages(browser, since, f"{loper.issuer}/saml/idp/slo", "SAMLRequest")
    assert _name_id(asked) == (transient, TRANSIENT)
    answers = saml_messages(browser, since, software.base_url, "SAMLResponse")
    assert [status_of(xml) for xml in answers] == [SUCCESS]
    assert_logged_out_at_app(browser, loper, software, PUPIL)


@pytest.mark.parametrize("software", STOCK, indirect=True)
def test_log_out_everywhere_names_the_pupil_by_the_transient_nameid(
        loper: Federation, software: SupplierSoftware, browser: Browser) -> None:
    transient = log_in(browser, software, PUPIL).subject
    since = mark(browser)

    log_out(browser, loper.issuer)

    [asked] = saml_messages(browser, since, software.base_url, "SAMLRequest")
    assert _name_id(asked) == (transient, TRANSIENT)
    answers = saml_messages(browser, since, f"{loper.issuer}/saml/idp/slo", "SAMLResponse")
    assert [status_of(xml) for xml in answers] == [SUCCESS]
    assert_logged_out_at_app(browser, loper, software, PUPIL)


def test_with_transient_nameids_mellon_ends_the_session_of_this_device_alone(
        loper: Federation, mellon_stock: SupplierSoftware, browser: Browser) -> None:
    """mellon finds the session a LogoutRequest ends by its NameID alone: with one persistent
    NameID on two devices it finds the other one and answers HTTP 500
    (test_logout.py::test_mellon_finds_the_session_to_end_by_nameid_alone). A transient NameID
    differs per login, so mellon finds this device's session, ends it and answers Success; the
    other device's stays."""
    with Browser() as other_device:
        log_in(other_device, mellon_stock, PUPIL)
        log_in(browser, mellon_stock, PUPIL)
        since = mark(browser)

        log_out(browser, loper.issuer)

        answers = saml_messages(browser, since, f"{loper.issuer}/saml/idp/slo", "SAMLResponse")
        assert [status_of(xml) for xml in answers] == [SUCCESS]
        assert_logged_out_at_app(browser, loper, mellon_stock, PUPIL)
        other_device.get(mellon_stock.app_url)
        assert open_app(other_device, mellon_stock) is not None  # its own session goes on
