"""Logging out everywhere behind a hub: the school's session is the hub's (demo/hub.py).

A pupil of CBS De Linde logs in through the demo hub "Entree", so her session at school is her
session at the hub, and the hub is the one asked to end it (broker/logout/schools.py: once per
login service and school session): once for all the apps she logged in to. Two pupils of the
two schools behind the hub on one device are two sessions at the hub: one request each. The
requests are counted as the browser carries them: the redirects to the hub's single logout
endpoint, each with the NameID it names.
"""

from __future__ import annotations

from lxml import etree

from demo.hub import HUB_PEOPLE
from tests.flows.conftest import SAML, Federation, at_school_login, log_out
from tests.flows.strict_rp import query_of
from tests.flows.test_logout_earlier_schools import log_in, schools_listed
from tests.flows.test_logout_saml import listed
from tests.peers.browser import Browser, decode_saml

FLEUR, _JAN, MILAN, _ZOE = HUB_PEOPLE
LINDE, ES = "CBS De Linde", "OBS De Es"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def asked_at_hub(browser: Browser, federation: Federation) -> list[str]:
    """The NameIDs of the LogoutRequests this browser carried to the hub, in order."""
    slo = f"{federation.running.schools['entree']}/slo?SAMLRequest="
    return [str(etree.fromstring(decode_saml(query_of(r.url)["SAMLRequest"]).encode(), PARSER)
                .findtext("saml:NameID", namespaces=SAML))
            for r in browser.history if r.url.startswith(slo)]


def logged_in_at_hub(browser: Browser, federation: Federation) -> bool:
    """Does the hub's own page say that someone is logged in there, in this browser?"""
    browser.get(f"{federation.running.schools['entree']}/")
    return "Logged in at school as" in browser.text


def test_one_logout_at_the_hub_ends_the_pupils_session_there(federation: Federation,
                                                             browser: Browser) -> None:
    log_in(browser, federation, "rekenwonders", "de-linde", FLEUR.id)
    log_in(browser, federation, "leesplein", "de-linde", FLEUR.id)  # from Loper's session
    assert logged_in_at_hub(browser, federation)

    log_out(browser, federation.issuer)

    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert asked_at_hub(browser, federation) == [FLEUR.id]  # once, for both apps
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [LINDE]  # the school, not the hub
    assert sorted(listed(browser, "done")) == ["Leesplein", "Rekenwonders"]
    assert not logged_in_at_hub(browser, federation)
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "de-linde"})
    assert at_school_login(browser)  # the hub asks for a password again


def test_two_pupils_of_two_schools_behind_the_hub_are_each_logged_out_there(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "rekenwonders", "de-linde", FLEUR.id)
    # The next pupil on the device, at the other school: the hub must ask who it is now.
    log_in(browser, federation, "leesplein", "de-es", MILAN.id, prompt="login")

    log_out(browser, federation.issuer)

    # Two sessions at the hub, one per pupil: one request each, the current pupil's first.
    assert asked_at_hub(browser, federation) == [MILAN.id, FLEUR.id]
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [ES, LINDE]
    assert sorted(listed(browser, "done")) == ["Leesplein", "Rekenwonders"]
    assert not logged_in_at_hub(browser, federation)
    for school in ("de-linde", "de-es"):
        browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": school})
        assert at_school_login(browser), school
