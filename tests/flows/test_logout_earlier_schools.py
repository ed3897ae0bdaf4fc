"""A shared device where the pupils logged in at different schools: pupil A at one school, then
pupil B afresh at another in the same browser, which replaces A's SSO session in the cookie.
B's "log out everywhere" ends A's session at A's school too, with a logout naming A (a SAML
LogoutRequest with A's NameID and SessionIndex, an OIDC end-session request with A's ID token):
the next person who picks A's school in this browser must type a password. B's school is asked
first, then A's. A school that cannot be reached is named on the page, and the others are still
logged out; a session that ended between two others hides none of the older ones.

The real demo federation over HTTP (De Regenboog a pysaml2 IdP, Het Lyceum an OIDC provider),
state in Redis.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import lxml.html
import pytest
import requests
from lxml import etree

from broker import codec, sso
from broker.records import Policy, School
from broker.registry.federation import Federation as Imported
from broker.upstream import oidc, saml_logout
from broker.upstream.oidc_kind import OidcSchool
from demo.people import DEFAULT_PEOPLE
from demo.school_op import LYCEUM_PEOPLE, OpClient, OpProfile, create_school_op
from tests.flows.conftest import (
    LYCEUM,
    REGENBOOG,
    SAML,
    Federation,
    at_school_login,
    log_out,
    whoami,
)
from tests.flows.strict_rp import query_of
from tests.flows.test_logout_earlier_sessions import sso_cookie
from tests.flows.test_logout_saml import listed
from tests.peers.browser import Browser, decode_saml
from tests.peers.servers import serve_factory

PUPILS = {"regenboog": DEFAULT_PEOPLE[0].id, "lyceum": LYCEUM_PEOPLE[0].id}
NAMES = {"regenboog": REGENBOOG, "lyceum": LYCEUM}
IJSSEL, IJSSEL_NAME = "ijssel", "Het IJsselcollege"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def schools_listed_in(page: str, result: str) -> list[str]:
    """The schools Loper's logout page lists as `result` (done, none, failed)."""
    doc = lxml.html.fromstring(page)
    return [str(li.text_content()) for li in
            doc.xpath(f'//ul[@class="ended-schools schools-{result}"]/li')]


def schools_listed(browser: Browser, result: str) -> list[str]:
    return schools_listed_in(browser.text, result)


def log_in(browser: Browser, federation: Federation, app: str, school: str, pupil: str,
           **params: str) -> None:
    browser.get(f"{federation.supplier(app)}/login", {"school": school, **params})
    if at_school_login(browser):
        browser.login(pupil)
    assert whoami(browser, federation.supplier(app))["status"] == "ok", app


def at_school(federation: Federation, session_id: str) -> tuple[str, str]:
    """Whom a logout at the session's school must name: (school id, its NameID and
    SessionIndex, or its ID token), as the school gave them at the login."""
    session = sso.load(federation.broker.store, session_id)
    assert session is not None
    kept = session.record.school_session
    if session.person.school_id == "lyceum":
        token = codec.decode(kept, oidc.SchoolSession)
        assert token is not None
        return "lyceum", token.id_token
    named = codec.decode(kept, saml_logout.SchoolSession)
    assert named is not None
    return session.person.school_id, f"{named.name_id.value} {named.session_index}"


def asked(browser: Browser, federation: Federation) -> list[tuple[str, str]]:
    """The logouts this browser carried to De Regenboog and Het Lyceum, in order: (school id,
    the NameID and SessionIndex of Loper's LogoutRequest, or the ID token it sent as hint)."""
    regenboog, lyceum = federation.running.school, federation.running.schools["lyceum"]
    found: list[tuple[str, str]] = []
    for response in browser.history:
        if response.url.startswith(f"{regenboog}/slo?SAMLRequest="):
            xml = decode_saml(query_of(response.url)["SAMLRequest"])
            root = etree.fromstring(xml.encode(), PARSER)
            found.append(("regenboog", f"{root.findtext('saml:NameID', namespaces=SAML)} "
                                       f"{root.findtext('samlp:SessionIndex', namespaces=SAML)}"))
        elif response.url.startswith(f"{lyceum}/logout?"):
            found.append(("lyceum", query_of(response.url)["id_token_hint"]))
    return found


@pytest.mark.parametrize(("first", "second"), [("regenboog", "lyceum"), ("lyceum", "regenboog")])
def test_each_pupil_is_logged_out_at_their_own_school(
        federation: Federation, browser: Browser, first: str, second: str) -> None:
    log_in(browser, federation, "rekenwonders", first, PUPILS[first])
    session_a = sso_cookie(federation, browser)
    a_at_school = at_school(federation, session_a)
    log_in(browser, federation, "taalapp", second, PUPILS[second])  # another school: afresh
    log_in(browser, federation, "leesplein", second, PUPILS[second])  # from B's session
    session_b = sso_cookie(federation, browser)
    b_at_school = at_school(federation, session_b)
    assert session_a != session_b
    assert federation.broker.store.get_session(session_a) is not None  # A's lives on

    log_out(browser, federation.issuer)

    assert asked(browser, federation) == [b_at_school, a_at_school]  # B's school first
    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert "Je bent overal uitgelogd." in browser.text
    assert sorted(listed(browser, "done")) == ["Leesplein", "Rekenwonders", "Taalapp"]
    assert schools_listed(browser, "done") == [NAMES[second], NAMES[first]]
    for app in ("rekenwonders", "taalapp", "leesplein"):
        assert whoami(browser, federation.supplier(app)) is None, app
    for session_id in (session_a, session_b):
        assert federation.broker.store.get_session(session_id) is None
    for school in (first, second):  # nobody is logged in at either school in this browser
        browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": school})
        assert at_school_login(browser), school


@dataclass
class ClosingSchool:
    """An OIDC school of its own (the demo's provider, served here), which a test takes down."""

    url: str
    stack: ExitStack

    def take_down(self) -> None:
        self.stack.close()


@pytest.fixture
def ijssel(federation: Federation, tmp_path: Path) -> Iterator[ClosingSchool]:
    secret = secrets.token_urlsafe(24)
    loper = federation.issuer
    client = OpClient("loper", secret, [f"{loper}/oidc/callback"], [f"{loper}/oidc/logged-out"])
    profile = OpProfile(name=IJSSEL_NAME, key_name="ijssel-op", cookie="ijssel-op")
    stack = ExitStack()
    url, _ = stack.enter_context(serve_factory(
        lambda base: create_school_op(base, tmp_path, [client], profile=profile)))
    school = School(id=IJSSEL, name=IJSSEL_NAME,
                    config=OidcSchool(issuer=url, client_id="loper", client_secret=secret))
    broker = federation.broker
    broker.registry.import_federation(
        Imported(schools=(school,), policies=(Policy(IJSSEL, "rekenwonders"),)),
        key_version=broker.pseudonym_keys.current)
    with stack:
        yield ClosingSchool(url, stack)


def test_a_school_that_cannot_be_reached_is_named_and_the_others_are_logged_out(
        federation: Federation, browser: Browser, ijssel: ClosingSchool) -> None:
    log_in(browser, federation, "rekenwonders", IJSSEL, LYCEUM_PEOPLE[0].id)
    session_a = sso_cookie(federation, browser)
    log_in(browser, federation, "taalapp", "regenboog", PUPILS["regenboog"])
    ijssel.take_down()

    with pytest.raises(requests.ConnectionError) as nowhere:  # the browser's redirect there
        log_out(browser, federation.issuer)
    assert nowhere.value.request is not None
    assert str(nowhere.value.request.url).startswith(f"{ijssel.url}/logout?")
    log_out(browser, federation.issuer)  # the pupil comes back and presses it again

    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert "Je bent uitgelogd bij Loper, maar niet overal." in browser.text
    assert schools_listed(browser, "failed") == [IJSSEL_NAME]
    assert 'id="school-failed"' in browser.text
    assert "Loper kon niet uitloggen bij deze scholen" in browser.text
    assert schools_listed(browser, "done") == [REGENBOOG]
    assert sorted(listed(browser, "done")) == ["Rekenwonders", "Taalapp"]
    for app in ("rekenwonders", "taalapp"):
        assert whoami(browser, federation.supplier(app)) is None, app
    assert federation.broker.store.get_session(session_a) is None
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
    assert at_school_login(browser)  # De Regenboog was logged out all the same


def test_a_session_that_ended_in_between_hides_none_of_the_older_ones(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "rekenwonders", "lyceum", LYCEUM_PEOPLE[0].id)  # A
    session_a = sso_cookie(federation, browser)
    a_at_school = at_school(federation, session_a)
    log_in(browser, federation, "taalapp", "regenboog", PUPILS["regenboog"])  # B
    session_b = sso_cookie(federation, browser)
    log_in(browser, federation, "leesplein", "lyceum", LYCEUM_PEOPLE[1].id,
           prompt="login")  # C, at A's school: a password, and a session of C's own there
    session_c = sso_cookie(federation, browser)
    c_at_school = at_school(federation, session_c)
    store = federation.broker.store
    store.delete_session(session_b)  # B's session expired, and its link with it
    store.delete_token(sso.EARLIER, session_b)

    log_out(browser, federation.issuer)

    # C's and A's sessions at Het Lyceum: one logout each, each naming its own pupil
    assert asked(browser, federation) == [c_at_school, a_at_school]
    assert store.get_session(session_a) is None and store.get_session(session_c) is None
    assert sorted(listed(browser, "done")) == ["Leesplein", "Rekenwonders"]
    for app in ("rekenwonders", "leesplein"):
        assert whoami(browser, federation.supplier(app)) is None, app
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "lyceum"})
    assert at_school_login(browser)


def test_a_schools_own_logout_reaches_the_other_school_but_is_not_asked_back(
        federation: Federation, browser: Browser) -> None:
    log_in(browser, federation, "rekenwonders", "lyceum", LYCEUM_PEOPLE[0].id)  # A
    a_at_school = at_school(federation, sso_cookie(federation, browser))
    log_in(browser, federation, "taalapp", "regenboog", PUPILS["regenboog"])  # B
    school = federation.running.school

    browser.post(f"{school}/logout", {})  # De Regenboog's own logout of B: a LogoutRequest

    assert asked(browser, federation) == [a_at_school]  # Het Lyceum only, for A
    assert browser.url.startswith(f"{school}/slo"), browser.text[:300]
    assert "You are logged out at school and everywhere." in browser.text  # no PartialLogout
    for app in ("rekenwonders", "taalapp"):
        assert whoami(browser, federation.supplier(app)) is None, app
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "lyceum"})
    assert at_school_login(browser)
