"""SimpleSAMLphp as a supplier deploys it without touching its NameIDPolicy: it asks for a
transient NameID (its stock policy in 1.19). Loper gives it a fresh one at every login, never
the pseudonym, and a single logout either way names the pupil by that transient NameID: the
pupil logging out at the app ends Loper's session (on a shared classroom device the next
pupil must log in at the school), and "log out everywhere" at Loper names the pupil as the
app knows them.
"""

from __future__ import annotations

from lxml import etree

from demo.people import DEFAULT_PEOPLE
from tests.flows.conftest import Federation, log_out
from tests.peers.browser import Browser
from tests.suppliers.journey import log_in
from tests.suppliers.loper import SCHOOL
from tests.suppliers.software import SupplierSoftware
from tests.suppliers.test_logout import (
    SUCCESS,
    assert_logged_out_at_app,
    mark,
    own_logout,
    saml_messages,
    status_of,
)

TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
PUPIL = DEFAULT_PEOPLE[1]


def _name_id(logout_request: str) -> tuple[str, str]:
    root = etree.fromstring(logout_request.encode(), etree.XMLParser(resolve_entities=False,
                                                                     no_network=True))
    name_id = root.find("saml:NameID", NS)
    assert name_id is not None
    return name_id.text or "", name_id.get("Format", "")


def test_a_transient_nameid_is_fresh_at_every_login_and_never_the_pseudonym(
        loper: Federation, simplesamlphp_stock: SupplierSoftware) -> None:
    pseudonym = loper.pseudonym_of(SCHOOL, PUPIL, simplesamlphp_stock.name)
    seen = []
    for _ in range(2):
        with Browser() as browser:
            seen.append(log_in(browser, simplesamlphp_stock, PUPIL).subject)
    assert seen[0] and seen[1] and seen[0] != seen[1]
    assert pseudonym not in seen


def test_logging_out_at_the_app_by_its_transient_nameid_ends_lopers_session(
        loper: Federation, simplesamlphp_stock: SupplierSoftware, browser: Browser) -> None:
    transient = log_in(browser, simplesamlphp_stock, PUPIL).subject
    since = mark(browser)

    browser.get(own_logout(simplesamlphp_stock))

    [asked] = saml_messages(browser, since, f"{loper.issuer}/saml/idp/slo", "SAMLRequest")
    assert _name_id(asked) == (transient, TRANSIENT)
    answers = saml_messages(browser, since, simplesamlphp_stock.base_url, "SAMLResponse")
    assert [status_of(xml) for xml in answers] == [SUCCESS]
    assert_logged_out_at_app(browser, loper, simplesamlphp_stock, PUPIL)


def test_log_out_everywhere_names_the_pupil_by_the_transient_nameid(
        loper: Federation, simplesamlphp_stock: SupplierSoftware, browser: Browser) -> None:
    transient = log_in(browser, simplesamlphp_stock, PUPIL).subject
    since = mark(browser)

    log_out(browser, loper.issuer)

    [asked] = saml_messages(browser, since, simplesamlphp_stock.base_url, "SAMLRequest")
    assert _name_id(asked) == (transient, TRANSIENT)
    answers = saml_messages(browser, since, f"{loper.issuer}/saml/idp/slo", "SAMLResponse")
    assert [status_of(xml) for xml in answers] == [SUCCESS]
    assert_logged_out_at_app(browser, loper, simplesamlphp_stock, PUPIL)
