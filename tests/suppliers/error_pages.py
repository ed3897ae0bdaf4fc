"""What the SAML supplier software does with a SAML error Response from Loper (signed, no
assertion, a top-level and a second-level status): the page the pupil gets from the software at
its ACS, and what the software writes in its own log. Measured on the Debian packages:

- Shibboleth SP: HTTP 500, its "opensaml::FatalProfileException" page saying "SAML response
  reported an IdP error." with both status codes (and any StatusMessage); shibd.log says
  only "error processing incoming assertion", without the codes.
- mod_auth_mellon: HTTP 401, Apache's stock "Unauthorized" page; its error.log names both
  status codes (Lasso error -432).
- SimpleSAMLphp: HTTP 200, its "Unhandled exception" page (the app's login names no
  ErrorURL) whose debug information, like its log, names "<top>/<second>".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from lxml import etree

from tests.peers.browser import Browser
from tests.suppliers.software import SupplierSoftware

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


@dataclass(frozen=True)
class Shown:
    status: int
    words: tuple[str, ...]
    """On the page; {top} and {second} are the status codes without STATUS, {status} is
    STATUS."""
    logged: tuple[str, ...]
    """In the software's logs, likewise."""


SHOWN = {
    "shibboleth": Shown(500, ("opensaml::FatalProfileException",
                              "SAML response reported an IdP error.",
                              "Status: {status}{top}", "Sub-Status: {status}{second}"),
                        ("error processing incoming assertion: SAML response reported an IdP "
                         "error.",)),
    "mellon": Shown(401, ("Unauthorized",),
                    ('Status code is not success, SAML Response: StatusCode1="{status}{top}", '
                     'StatusCode2="{status}{second}"',)),
    "simplesamlphp": Shown(200, ("Unhandled exception",
                                 "SimpleSAML\\Module\\saml\\Error: {top}/{second}"),
                           ("Caused by: SimpleSAML\\Module\\saml\\Error: {top}/{second}",)),
}


def kind(software: SupplierSoftware) -> str:
    """The software, whatever its settings (mellon-stock, mellon-strict: mellon)."""
    return software.name.split("-")[0]


def mark_logs(software: SupplierSoftware) -> dict[Path, int]:
    """Where the software's logs end now."""
    return {log: log.stat().st_size if log.exists() else 0 for log in software.logs}


def logged_since(marks: Mapping[Path, int]) -> str:
    """What the logs gained since `mark_logs`."""
    gained = []
    for log, size in marks.items():
        with log.open("rb") as f:
            f.seek(size)
            gained.append(f.read().decode("utf-8", "replace"))
    return "\n".join(gained)


def page_words(browser: Browser) -> str:
    """The text of the page, as a person reads it (entities decoded, spaces collapsed)."""
    page = lxml.html.fromstring(browser.page.content)
    return " ".join(etree.tostring(page, method="text", encoding="unicode").split())


def assert_shows_saml_error(browser: Browser, software: SupplierSoftware,
                            marks: Mapping[Path, int], top: str, second: str) -> None:
    """The browser is at the software, on its own error page for this status, which its logs
    record."""
    shown = SHOWN[kind(software)]
    names = {"status": STATUS, "top": top, "second": second}
    assert browser.url.startswith(software.base_url), browser.url
    assert browser.page.status_code == shown.status, browser.text[:500]
    words = page_words(browser)
    for expected in shown.words:
        assert expected.format(**names) in words, words[:1500]
    logged = logged_since(marks)
    for expected in shown.logged:
        assert expected.format(**names) in logged, logged[-1500:]
