"""Every kind of page, pupil and admin, in a real browser (Debian's chromium), in Dutch and in
English, on a phone (375 px) and a desktop (1280 px), and its layout on a tablet (768 and
1024 px), against the demo federation on loopback.

Each language walks through once: the Dutch walk clicks and types on a phone, the English one
on a desktop, and every page either meets is checked at both widths (the window resized on the
page, as CSS media queries are all that changes with the width).

On every page, at each width: the page is in the language asked for and has no words of the
other one, it does not overflow sideways, no ordinary word is split across two lines (a table
on a phone becomes one block per row), and axe-core finds no serious or critical WCAG 2.2 AA
violation (tests/fixtures/chromium.py). At the widths in between the same is checked but
axe-core (its rules do not change with the width; the layout does): tables and examples that
fit a phone or a desktop can still be too wide for a tablet. At every width neither the page
nor a table (its .table-wrap) nor an example (<pre>) inside it needs scrolling sideways.
LOPER_SCREENSHOTS=1 also saves the main pages under docs/screenshots/, each walk at its own
width.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from broker.context import Broker
from broker.registry.admins import Admins
from demo.stack import Running, running
from tests.admin.conftest import PASSWORD
from tests.fixtures.chromium import (
    LOOK,
    WIDEST,
    check_page,
    focus_ring_contrast,
    words_of_the_other_language,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COORDINATOR, OPERATOR = "ict@regenboog.example", "beheer@loper.example"
LOCALES = {"nl": "nl-NL", "en": "en-GB"}
WIDTHS = (375, 1280)
BETWEEN = (768, 1024)
"""Tablets and small laptops: every page's layout (not axe-core) is checked at these widths too."""
HEIGHT = 900
WALKS = {"nl": 375, "en": 1280}
"""The width each language's walk clicks and types at (and its screenshots are taken at)."""
LONG_REASON = ("Zie https://helpdesk.rekenwonders.example/tickets/2026-11-30/"
               "verwerkersovereenkomst_herzien?ticket=8f3a2c9e7b1d4f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d")
"""A reason as people type them: a URL of one unbroken piece wider than a phone."""
WORDS = {  # what a person reads and presses, per language
    "nl": {"search": "Zoek op naam of plaats", "logout": "Overal uitloggen",
           "password": "Wachtwoord", "preview": "Voorbeeld bekijken",
           "cancelled": "Inloggen gestopt", "other_school": "Een andere school kiezen",
           "invite": "Uitnodiging versturen", "invitation_sent": "uitnodiging verstuurd"},
    "en": {"search": "Search by name or place", "logout": "Log out everywhere",
           "password": "Password", "preview": "Show preview",
           "cancelled": "Login cancelled", "other_school": "Choose another school",
           "invite": "Send the invitation", "invitation_sent": "invitation sent"},
}


@dataclass
class Visit:
    """One person's browser: a language, the width they use it at, and the checks on every page
    they see."""

    stack: Running
    page: Page
    lang: str
    width: int
    axe_url: str

    @property
    def broker(self) -> Broker:
        found: Broker = self.stack.apps["broker"].extensions["loper"]
        return found

    def word(self, key: str) -> str:
        return WORDS[self.lang][key]

    def goto(self, url: str, status: int | None = None) -> None:
        response = self.page.goto(url)
        if status is not None:
            assert response is not None and response.status == status, url

    def at_each_width(self) -> Iterator[int]:
        """The page as it is at the visit's own width, then in a window resized to each other
        width; back at its own width after."""
        yield self.width
        for width in WIDTHS:
            if width == self.width:
                continue
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            try:
                assert self.page.evaluate("window.innerWidth") == width, "resized"
                yield width
            finally:
                self.page.set_viewport_size({"width": self.width, "height": HEIGHT})

    def check(self, shot: str | None = None) -> None:
        for _width in self.at_each_width():
            check_page(self.page, self.lang, self.axe_url)
            no_sideways_scrolling(self.page)
        try:
            for width in BETWEEN:
                self.page.set_viewport_size({"width": width, "height": HEIGHT})
                check_layout(self.page, self.lang)
        finally:
            self.page.set_viewport_size({"width": self.width, "height": HEIGHT})
        if shot and os.environ.get("LOPER_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{shot}-{self.width}-{self.lang}.png"),
                                 full_page=True)

    def error_page(self, code: str, shot: str | None = None) -> None:
        expect(self.page.locator(f'[data-error-code="{code}"]')).to_be_visible()
        assert self.page.locator("ul.ways a, main a").count() >= 1, "a way to continue"
        self.check(shot)


FRAMES = """() => {
  const page = document.scrollingElement;
  const wide = [...document.querySelectorAll('.table-wrap, pre')]
    .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${e.textContent.trim()
               .slice(0, 40)}": ${e.scrollWidth} px in ${e.clientWidth}`);
  if (page.scrollWidth > page.clientWidth) {
    wide.push(`the page: ${page.scrollWidth} px in ${page.clientWidth}`);
  }
  return wide;
}"""
"""The page, tables and examples whose content is wider than their box, whether they scroll
(overflow-x: auto) or spill over what is beside them."""


def no_sideways_scrolling(page: Page) -> None:
    wide = page.evaluate(FRAMES)
    width = page.evaluate("window.innerWidth")
    assert not wide, f"{page.url} ({width} px) is too wide in: {wide}"


def check_layout(page: Page, lang: str) -> None:
    """check_page but axe-core: what a page must be at any width between a phone and a desktop."""
    where, seen = page.url, page.evaluate(LOOK)
    assert seen["lang"] == lang, where
    assert not words_of_the_other_language(seen["shown"], lang), where
    width, viewport = seen["width"], seen["viewport"]
    assert width <= viewport, (f"{where} is {width} px wide in a {viewport} px window: "
                               f"{page.evaluate(WIDEST, viewport)}")
    for problem in ("split", "squeezed", "sideways"):
        assert not seen[problem], f"{where} ({lang}, {viewport} px) {problem}: {seen[problem]}"
    no_sideways_scrolling(page)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("pages")) as stack:
        admins: Admins = stack.apps["broker"].extensions["loper_admins"]
        admins.add(COORDINATOR, PASSWORD, "school", schools=["regenboog"])
        admins.add(OPERATOR, PASSWORD, "operator")
        yield stack


@pytest.fixture(params=list(WALKS), ids=lambda lang: f"{lang}-{WALKS[lang]}px")
def visit(request: pytest.FixtureRequest, stack: Running, chromium: Browser,
          axe_url: str) -> Iterator[Visit]:
    lang: str = request.param
    width = WALKS[lang]
    context = chromium.new_context(locale=LOCALES[lang], bypass_csp=True,
                                   viewport={"width": width, "height": HEIGHT})
    try:
        yield Visit(stack, context.new_page(), lang, width, axe_url)
    finally:
        context.close()


def log_in_at_school(visit: Visit) -> None:
    """The demo school's own login page (not Loper's): a person and the demo password."""
    visit.page.get_by_label("Password (demo):").fill("demo")
    visit.page.get_by_role("button", name="Log in").click()


def test_a_pupil_logs_in_reads_what_went_where_and_logs_out(visit: Visit) -> None:
    rekenwonders, broker = visit.stack.suppliers["rekenwonders"], visit.stack.broker
    visit.goto(f"{rekenwonders}/login")
    expect(visit.page.locator("h1")).to_be_visible()
    assert "/discovery" in visit.page.url
    visit.check("pupil-01-picker")
    visit.page.keyboard.press("Tab")  # the language link: a ring that shows (WCAG 1.4.11)
    box = visit.page.get_by_role("link", name="English" if visit.lang == "nl" else "Nederlands")
    for _width in visit.at_each_width():
        assert focus_ring_contrast(visit.page) >= 3
        size = box.bounding_box()
        assert size is not None and size["height"] >= 24 and size["width"] >= 24  # WCAG 2.5.8

    visit.page.get_by_label(visit.word("search")).fill("regenbog")  # a typo
    visit.page.keyboard.press("Enter")
    expect(visit.page.locator("#schools-heading")).to_be_focused()
    expect(visit.page.locator("ul.schools")).to_contain_text("OBS De Regenboog")
    visit.check()

    visit.page.get_by_role("link", name="OBS De Regenboog").click()
    log_in_at_school(visit)
    visit.page.wait_for_url(f"{rekenwonders}/**")

    visit.goto(f"{broker}/me", 200)
    expect(visit.page.locator("#sent")).to_contain_text("Rekenwonders")
    visit.check("pupil-02-me")

    visit.goto(f"{broker}/logout", 200)
    visit.check()
    visit.page.get_by_role("button", name=visit.word("logout")).click()
    expect(visit.page.get_by_role("status")).to_be_visible()
    visit.check("pupil-03-logged-out")


def test_every_error_page_a_pupil_can_meet(visit: Visit) -> None:
    broker, registry = visit.stack.broker, visit.broker.registry
    rekenwonders, taalapp = visit.stack.suppliers["rekenwonders"], visit.stack.suppliers["taalapp"]
    visit.goto(f"{broker}/discovery", 400)
    visit.error_page("no_login_started")
    visit.goto(f"{broker}/discovery?login=gone", 400)
    visit.error_page("login_expired")
    visit.goto(f"{broker}/nowhere", 404)
    visit.error_page("http_404")
    visit.goto(f"{broker}/saml/sp/acs", 405)
    visit.error_page("http_405")
    visit.goto(f"{broker}/saml/idp/sso?SAMLRequest=%25%25no-base64", 400)  # a broken request
    visit.error_page("bad_request")
    visit.goto(f"{broker}/oidc/authorize?client_id=nobody&response_type=code&scope=openid"
               "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb", 404)
    visit.error_page("unknown_supplier")
    visit.goto(f"{broker}/oidc/callback?state=forged&code=forged", 403)  # not started here
    visit.error_page("answer_without_login")

    for school in ("OBS De Regenboog", "Het Lyceum"):  # Cancel at a SAML and an OIDC school
        visit.goto(f"{rekenwonders}/login")
        visit.page.get_by_role("link", name=school).click()
        visit.page.get_by_role("button", name="Cancel").click()
        expect(visit.page.locator("h1")).to_have_text(visit.word("cancelled"))
        expect(visit.page.get_by_role("link", name=visit.word("other_school"))).to_be_visible()
        visit.error_page("login_cancelled", "pupil-04-cancelled")

    registry.suspend("regenboog", "taalapp", "De school kijkt de afspraken na.")
    try:
        visit.goto(f"{taalapp}/login?school=regenboog")
        expect(visit.page.locator("blockquote")).to_have_text("De school kijkt de afspraken na.")
        visit.error_page("supplier_suspended", "pupil-05-suspended")
    finally:
        registry.resume("regenboog", "taalapp")
    registry.deactivate("regenboog", "taalapp")
    try:
        visit.goto(f"{taalapp}/login?school=regenboog")
        visit.error_page("supplier_not_activated")
    finally:
        registry.activate("regenboog", "taalapp", agreement=None, valid_until=None)


def log_in_as(visit: Visit, email: str) -> None:
    visit.goto(f"{visit.stack.broker}/admin/login", 200)
    visit.page.get_by_label("E-mail").fill(email)
    visit.page.get_by_label(visit.word("password")).fill(PASSWORD)
    visit.page.locator("form button[type=submit]").click()
    expect(visit.page.locator("header nav")).to_be_visible()


def test_the_admin_portal(visit: Visit) -> None:
    admin = f"{visit.stack.broker}/admin"
    visit.goto(f"{admin}/login", 200)
    visit.check("admin-01-login")
    visit.page.keyboard.press("Tab")  # the skip link, then the header's links on dark blue
    visit.page.keyboard.press("Tab")
    for _width in visit.at_each_width():
        assert focus_ring_contrast(visit.page) >= 3
    log_in_as(visit, COORDINATOR)
    visit.check("admin-02-school")
    visit.goto(f"{admin}/schools/regenboog/suppliers/rekenwonders", 200)
    visit.check()
    visit.page.get_by_role("button", name=visit.word("preview")).click()
    expect(visit.page.locator("#preview-table")).to_be_visible()
    visit.check("admin-03-release")
    visit.goto(f"{admin}/schools/regenboog/suppliers/leesplein", 200)  # an OIDC supplier:
    visit.page.get_by_role("button", name=visit.word("preview")).click()  # its ID token
    expect(visit.page.locator("pre").first).to_contain_text('"sub": "v1-')  # (a long pseudonym)
    visit.check()
    registry = visit.broker.registry  # a reason in the audit trail with a long URL
    registry.suspend("regenboog", "taalapp", LONG_REASON, by=COORDINATOR)
    registry.resume("regenboog", "taalapp", by=COORDINATOR)
    for path in ("ledger", "audit", "report", "aliases"):
        visit.goto(f"{admin}/schools/regenboog/{path}", 200)
        if path == "audit":
            expect(visit.page.locator("#audit")).to_contain_text(LONG_REASON)
        visit.check()
    visit.goto(f"{admin}/account", 200)
    visit.check()
    visit.page.locator("form:has(input[value=start]) button").click()  # (again, if begun)
    expect(visit.page.locator("figure.qr svg")).to_be_visible()  # enrolling: the QR code
    visit.check()
    visit.goto(f"{admin}/schools/regenboog/admins", 200)
    visit.check()
    visit.page.locator("#invite-email").fill(f"invited{visit.width}{visit.lang}@regenboog.example")
    visit.page.get_by_role("button", name=visit.word("invite")).click()
    link = visit.page.locator("#invitation-link")
    expect(link).to_be_visible()  # no mail server in the demo: the link is shown
    visit.check()
    visit.goto(link.inner_text().strip(), 200)  # the invited admin chooses a password
    visit.check()
    visit.goto(f"{admin}/schools/nope", 404)
    visit.error_page("not_found")
    expect(visit.page.locator("header nav")).to_be_visible()
    visit.goto(f"{admin}/operator", 403)
    visit.error_page("forbidden", "admin-04-forbidden")
    expect(visit.page.locator("header nav")).to_be_visible()

    visit.page.context.clear_cookies()
    visit.goto(f"{admin}/reset", 200)  # a forgotten password
    visit.check()
    log_in_as(visit, OPERATOR)
    for path in ("operator", "operator/suppliers/new", "operator/schools/new",
                 "operator/schools/regenboog", "operator/schools/esdoorn",  # claims and roles:
                 "operator/schools/wilg", "suppliers/rekenwonders"):  # Entra's, ADFS's samples
        visit.goto(f"{admin}/{path}", 200)
        visit.check({"operator": "admin-05-operator",
                     "suppliers/rekenwonders": "admin-09-supplier"}.get(path))


BAD_CSV = b"subject,previous_school,previous_subject\nnew-1,atlantis,old-1\n,regenboog,old-2\n"


def test_what_is_wrong_in_a_file_or_form_in_the_page_language(visit: Visit) -> None:
    """The checks shared with the command line (a registration's metadata and fields, a
    school's mapping, an alias CSV file) and the audit trail's own reasons speak the page's
    language; only the file's own values are shown as they are."""
    admin = f"{visit.stack.broker}/admin"
    log_in_as(visit, OPERATOR)
    visit.goto(f"{admin}/operator/schools/new", 200)  # SAML metadata that is no XML
    visit.page.locator("#id").fill(f"kapot{visit.width}{visit.lang}")
    visit.page.locator("#name").fill("De Kapotte Metadata")
    visit.page.locator("#metadata_file").set_input_files(
        files=[{"name": "idp.xml", "mimeType": "text/xml", "buffer": b"<EntityDescriptor"}])
    visit.page.locator("form.card button[type=submit]").click()
    expect(visit.page.locator("div.alert li")).to_contain_text("metadata")
    visit.check("admin-06-registration-problem")

    visit.goto(f"{admin}/operator/schools/new", 200)  # an OIDC school without client_id
    visit.page.locator("#id").fill(f"zonder{visit.width}{visit.lang}")
    visit.page.locator("#name").fill("Zonder Client")
    visit.page.locator("input[name=protocol][value=oidc]").check()
    visit.page.locator("#issuer").fill("https://127.0.0.1/school")
    visit.page.locator("input[name=allow_private]").check()
    visit.page.locator("form.card button[type=submit]").click()
    expect(visit.page.locator("div.alert li")).to_contain_text("client_id")
    visit.check()

    visit.goto(f"{admin}/operator/schools/regenboog", 200)  # a mapping line without "="
    visit.page.locator("textarea").first.fill("no equals sign here")
    visit.page.locator("form.card button[type=submit]").click()
    expect(visit.page.locator("#problems li")).to_have_count(1)
    visit.check()

    visit.page.context.clear_cookies()
    log_in_as(visit, COORDINATOR)
    visit.goto(f"{admin}/schools/regenboog/aliases", 200)  # a CSV file with two bad lines
    visit.page.locator("#file").set_input_files(
        files=[{"name": "koppelingen.csv", "mimeType": "text/csv", "buffer": BAD_CSV}])
    visit.page.locator("form.card button[type=submit]").click()
    expect(visit.page.locator("div.alert li")).to_have_count(2)
    expect(visit.page.locator("div.alert li").first).to_contain_text("atlantis")
    visit.check("admin-07-alias-problem")

    visit.goto(f"{admin}/schools/regenboog/suppliers/rekenwonders", 200)  # the school's shape
    visit.page.locator("#sample").select_option("school-student")
    visit.page.get_by_role("button", name=visit.word("preview")).click()
    expect(visit.page.locator("#school-shape")).to_be_visible()
    visit.check()

    visit.goto(f"{admin}/schools/regenboog/admins", 200)  # Loper's own reasons in the trail
    visit.page.locator("#invite-email").fill(f"audit{visit.width}{visit.lang}@regenboog.example")
    visit.page.get_by_role("button", name=visit.word("invite")).click()
    expect(visit.page.locator("#invitation-link")).to_be_visible()
    visit.goto(f"{admin}/schools/regenboog/audit", 200)
    reasons = visit.page.locator("table td:last-child").all_inner_texts()
    assert WORDS[visit.lang]["invitation_sent"] in reasons, reasons
    visit.check("admin-08-audit")
