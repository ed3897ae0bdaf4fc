"""Steps of a single logout with supplier software, shared by the logout tests: the software's
own logout address, the SAML messages the browser carried, and what shows that the app and
Loper both forgot the pupil.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from lxml import etree

from demo.people import DemoPerson
from tests.flows.conftest import REGENBOOG, Federation, at_school_login
from tests.peers.browser import Browser, decode_saml
from tests.suppliers.journey import open_app
from tests.suppliers.software import SupplierSoftware

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}


def own_logout(software: SupplierSoftware) -> str:
    """The software's own logout, coming back to its home page afterwards."""
    home = quote(f"{software.base_url}/", safe="")
    kind = software.name.removesuffix("-stock")  # the same software with its defaults
    if kind == "shibboleth":
        return f"{software.logout_url}?return={home}"
    if kind == "mellon":
        return f"{software.logout_url}?ReturnTo={home}"
    # mod_auth_openidc: redirect_uri?logout=<its home page>; SimpleSAMLphp: the app's page
    # calling Auth\Simple::logout(<its home page>)
    return software.logout_url


def mark(browser: Browser) -> tuple[int, int]:
    return len(browser.history), len(browser.saml_posts)


def saml_messages(browser: Browser, since: tuple[int, int], url: str, kind: str) -> list[str]:
    """Every SAML message of `kind` (SAMLRequest, SAMLResponse) the browser carried to `url`
    since `mark`, over HTTP-Redirect or HTTP-POST, decoded."""
    found = [parse_qs(urlsplit(r.url).query).get(kind, [""])[0]
             for r in browser.history[since[0]:] if r.url.startswith(url)]
    found += [p[kind] for p in browser.saml_posts[since[1]:]
              if p["action"].startswith(url) and kind in p]
    return [decode_saml(value) for value in found if value]


def status_of(xml: str) -> str:
    root = etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False,
                                                          no_network=True))
    codes = root.xpath("samlp:Status/samlp:StatusCode/@Value", namespaces=NS)
    assert isinstance(codes, list) and codes
    return str(codes[0])


def assert_logged_out_at_app(browser: Browser, loper: Federation, software: SupplierSoftware,
                             pupil: DemoPerson) -> None:
    """The app's protected page sends the browser to Loper (the app's session is gone), and
    Loper asks for the school (Loper's session is gone), whose login asks for a password."""
    before = len(browser.history)
    browser.get(software.app_url)
    assert open_app(browser, software) is None, "the app still knows the pupil"
    assert [r.url for r in browser.history[before:] if r.url.startswith(loper.issuer)]
    assert "/discovery" in browser.url, browser.url
    browser.click(REGENBOOG)
    assert at_school_login(browser), "the school's session outlived the logout"
    browser.login(pupil.id)
    assert open_app(browser, software) is not None  # and the pupil can log in again
