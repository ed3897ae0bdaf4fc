"""What went where (/me): a pupil sees their own releases, and nobody else's, over real HTTP."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import lxml.html
from babel.dates import format_date

from broker.registry.ledger import LedgerEntry
from demo.people import DEFAULT_PEOPLE, DemoPerson
from tests.flows.conftest import Federation, log_in_via_picker
from tests.peers.browser import Browser

SUPPLIERS = {"rekenwonders": "Rekenwonders", "taalapp": "Taalapp", "leesplein": "Leesplein"}
GIVEN_NAME, ROLE, GROUPS = "given name", "role (pupil, teacher)", "classes and groups"
NEVER_RELEASED = ("family name", "display name", "e-mail address", "ECK iD", "school number")
DAAN = DEFAULT_PEOPLE[1]


def me(federation: Federation, browser: Browser, lang: str = "en") -> lxml.html.HtmlElement:
    page = browser.get(f"{federation.running.broker}/me", {"lang": lang})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script" not in page.text
    return lxml.html.fromstring(page.text)


def table(doc: lxml.html.HtmlElement, table_id: str) -> list[list[str]]:
    """The body rows of a table, as the text of their cells."""
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
            for row in doc.xpath(f'//table[@id="{table_id}"]/tbody/tr')]


def sent_times(doc: lxml.html.HtmlElement) -> list[str]:
    return [str(t) for t in doc.xpath('//table[@id="sent"]//time/@datetime')]


def ledger_of(federation: Federation, person: DemoPerson) -> list[LedgerEntry]:
    """The person's releases at De Regenboog, newest first, found without the page's query."""
    mine = {federation.pseudonym_of("regenboog", person, s) for s in SUPPLIERS}
    entries = federation.registry.ledger().entries("regenboog", limit=10_000)
    return [e for e in entries if e.pseudonym in mine]


def expected_rows(entries: list[LedgerEntry]) -> tuple[list[str], list[list[str]]]:
    labels = {"role": ROLE, "given_name": GIVEN_NAME, "groups": GROUPS}  # vocabulary order
    order = list(labels)
    return ([e.at.isoformat(timespec="seconds") for e in entries],
            [[SUPPLIERS[e.supplier_id],
              ", ".join(labels[a] for a in sorted(e.attributes, key=order.index))]
             for e in entries])


def test_without_a_session_the_page_explains_and_shows_nothing(federation: Federation,
                                                               browser: Browser) -> None:
    with Browser() as other:
        log_in_via_picker(other, federation.supplier("rekenwonders"), federation.pupil)
    for cookie in (None, "not-a-session"):
        if cookie:
            browser.session.cookies.set("loper_sso", cookie)
        doc = me(federation, browser)
        text = doc.text_content()
        assert "after you have logged in at a learning app" in text
        assert not doc.xpath("//table")
        assert not any(name in text for name in SUPPLIERS.values())
        assert GIVEN_NAME not in text and "OBS De Regenboog" not in text
    dutch = me(federation, browser, "nl").text_content()
    assert "nadat je op dit apparaat bij een leerapp bent ingelogd" in dutch
    browser.get(f"{federation.running.broker}/logout", {"lang": "en"})
    browser.click("What went where?")
    assert browser.url.startswith(f"{federation.running.broker}/me")


def test_after_two_apps_the_page_lists_both_with_what_was_released(
        federation: Federation, browser: Browser) -> None:
    pupil = federation.pupil
    log_in_via_picker(browser, federation.supplier("rekenwonders"), pupil)
    browser.get(f"{federation.supplier('taalapp')}/login")
    assert browser.url.startswith(federation.supplier("taalapp"))
    doc = me(federation, browser)
    times, rows = expected_rows(ledger_of(federation, pupil))
    assert sent_times(doc) == times
    assert [row[1:] for row in table(doc, "sent")] == rows
    assert rows[0] == ["Taalapp", f"{ROLE}, {GIVEN_NAME}, {GROUPS}"]
    assert ["Rekenwonders", f"{ROLE}, {GIVEN_NAME}"] in rows  # groups not released there
    assert table(doc, "now") == [
        ["Leesplein", f"{ROLE}, {GIVEN_NAME}", "Allowed by your school"],
        ["Rekenwonders", f"{ROLE}, {GIVEN_NAME}", "Allowed by your school"],
        ["Taalapp", f"{ROLE}, {GIVEN_NAME}, {GROUPS}", "Allowed by your school"],
    ]
    assert doc.xpath('//table[@id="sent"]/caption') and doc.xpath('//table[@id="now"]/caption')
    assert len(doc.xpath('//table[@id="sent"]/thead//th[@scope="col"]')) == 3
    text = doc.text_content()
    assert "OBS De Regenboog" in text
    for never in (*NEVER_RELEASED, pupil.given_name, pupil.family_name, *pupil.groups,
                  pupil.id):
        assert never not in text, never
    for supplier in SUPPLIERS:
        name = federation.pseudonym_of("regenboog", pupil, supplier)
        assert name[3:11] not in browser.text, "not even a prefix of the pseudonym"
    dutch = me(federation, browser, "nl")
    assert ["Taalapp", "rol (leerling, leraar), voornaam, klassen en groepen",
            "Toegestaan door je school"] in table(dutch, "now")
    assert "Wat apps van je kregen" in dutch.text_content()


def test_another_pupil_in_another_browser_sees_only_their_own_rows(
        federation: Federation) -> None:
    with Browser() as sanne, Browser() as daan:
        log_in_via_picker(sanne, federation.supplier("rekenwonders"), federation.pupil)
        sanne.get(f"{federation.supplier('taalapp')}/login")
        log_in_via_picker(daan, federation.supplier("rekenwonders"), DAAN)
        daans, sannes = me(federation, daan), me(federation, sanne)
        times, rows = expected_rows(ledger_of(federation, DAAN))
        assert sent_times(daans) == times and len(times) >= 1
        assert [row[1:] for row in table(daans, "sent")] == rows
        assert {row[1] for row in table(daans, "sent")} == {"Rekenwonders"}
        assert {row[1] for row in table(sannes, "sent")} == {"Rekenwonders", "Taalapp"}
        assert sent_times(sannes) == expected_rows(ledger_of(federation, federation.pupil))[0]


def test_releases_recorded_at_another_school_are_not_shown(federation: Federation,
                                                           browser: Browser) -> None:
    """Only this school's rows: an alias may carry a pupil's pseudonyms to a new school."""
    log_in_via_picker(browser, federation.supplier("rekenwonders"), DAAN)
    name = federation.pseudonym_of("regenboog", DAAN, "rekenwonders")
    at = datetime.now(UTC) + timedelta(minutes=1)
    federation.registry.ledger().append(at, "lyceum", "rekenwonders", name, ["email"], "saml")
    doc = me(federation, browser)
    assert at.isoformat(timespec="seconds") not in sent_times(doc)
    assert "e-mail address" not in doc.text_content()
    assert federation.registry.ledger().verify().ok


def test_a_suspended_supplier_shows_as_suspended(federation: Federation,
                                                 browser: Browser) -> None:
    registry = federation.registry
    log_in_via_picker(browser, federation.supplier("rekenwonders"), federation.pupil)
    registry.suspend("regenboog", "taalapp", "under review after a data incident")
    try:
        now = {row[0]: row[1:] for row in table(me(federation, browser), "now")}
        assert now["Taalapp"] == ["nothing",
                                  "Suspended by your school: under review after a data incident"]
        assert now["Rekenwonders"][1] == "Allowed by your school"
        dutch = {row[0]: row[1:] for row in table(me(federation, browser, "nl"), "now")}
        assert dutch["Taalapp"][1].startswith("Geschorst door je school")
    finally:
        registry.resume("regenboog", "taalapp")
    assert {row[0]: row[2] for row in table(me(federation, browser), "now")}["Taalapp"] == (
        "Allowed by your school")


def test_a_lapsed_agreement_shows_its_end_date(federation: Federation, browser: Browser) -> None:
    registry = federation.registry
    log_in_via_picker(browser, federation.supplier("rekenwonders"), federation.pupil)
    policy = registry.policy("regenboog", "leesplein")
    assert policy is not None
    ended = datetime.now(UTC).date() - timedelta(days=2)
    registry.set_policy(dataclasses.replace(policy, valid_until=ended))
    try:
        now = {row[0]: row[1:] for row in table(me(federation, browser), "now")}
        assert now["Leesplein"] == [
            "nothing", "Agreement with your school ended on "
            + format_date(ended, "long", locale="en")]
    finally:
        registry.set_policy(policy)


def test_a_parent_logs_in_at_the_school_and_sees_only_their_childs_overview(
        federation: Federation, browser: Browser) -> None:
    """Sanne's mother has a parent account at De Regenboog, which names Sanne as her child."""
    mother = DEFAULT_PEOPLE[4]
    assert mother.children == (federation.pupil.id,)
    with Browser() as sanne, Browser() as daan:
        log_in_via_picker(sanne, federation.supplier("rekenwonders"), federation.pupil)
        log_in_via_picker(daan, federation.supplier("taalapp"), DAAN)
    rows_before = len(federation.registry.ledger().entries("regenboog", limit=100_000))
    browser.get(f"{federation.running.broker}/me/login", {"school": "regenboog"})
    browser.login(mother.id)
    assert browser.url == f"{federation.running.broker}/me"
    doc = me(federation, browser)
    assert "You are logged in as a parent or guardian" in doc.text_content()
    times, rows = expected_rows(ledger_of(federation, federation.pupil))
    assert [str(t) for t in doc.xpath('//table[@id="sent-1"]//time/@datetime')] == times
    assert [row[1:] for row in table(doc, "sent-1")] == rows
    assert not doc.xpath('//table[@id="sent-2"]') and not doc.xpath('//table[@id="sent"]')
    assert doc.xpath('string(//p[@id="contact"]/a/@href)') == "mailto:privacy@regenboog.example"
    assert len(federation.registry.ledger().entries("regenboog", limit=100_000)) == rows_before
