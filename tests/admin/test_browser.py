"""The admin portal in a real browser (Debian's chromium through Playwright), against the demo
federation served by real WSGI servers on loopback: what a school's ICT coordinator and the
operator click through, and what a pupil then meets.

LOPER_SCREENSHOTS=1 also saves the main pages as PNGs under docs/screenshots/.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from broker.context import Broker
from broker.registry.admins import Admins
from demo.__main__ import register_new_supplier
from demo.people import DEFAULT_PEOPLE
from demo.stack import Running, running
from tests.admin.conftest import PASSWORD
from tests.flows.conftest import PAIRWISE_ID, log_in_via_picker
from tests.peers.browser import Browser as ScriptedBrowser
from tests.registry.metadata_xml import sp_metadata

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COORDINATOR, OPERATOR = "ict@regenboog.example", "beheer@loper.example"
TABLET = {"width": 1024, "height": 768}


@dataclass
class World:
    stack: Running
    browser: Browser

    @property
    def broker(self) -> Broker:
        found: Broker = self.stack.apps["broker"].extensions["loper"]
        return found

    def page(self, locale: str = "nl-NL") -> Page:
        context = self.browser.new_context(locale=locale, viewport=TABLET, accept_downloads=True)
        return context.new_page()

    def admin(self, path: str = "") -> str:
        return f"{self.stack.broker}/admin{path}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, chromium: Browser) -> Iterator[World]:
    with running(tmp_path_factory.mktemp("admin-browser")) as stack:
        admins: Admins = stack.apps["broker"].extensions["loper_admins"]
        admins.add(COORDINATOR, PASSWORD, "school", schools=["regenboog"])
        admins.add(OPERATOR, PASSWORD, "operator")
        yield World(stack, chromium)


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("LOPER_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(world: World, page: Page, email: str, shot: str | None = None) -> None:
    page.goto(world.admin("/login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Wachtwoord" if "nl" in page.evaluate("navigator.language")
                      else "Password").fill(PASSWORD)
    if shot:
        screenshot(page, shot)
    page.locator("form button[type=submit]").click()
    expect(page.locator("header nav")).to_be_visible()


def pupil_logs_in(world: World) -> ScriptedBrowser:
    browser = ScriptedBrowser()
    log_in_via_picker(browser, world.stack.suppliers["rekenwonders"], DEFAULT_PEOPLE[0])
    return browser


def whoami_names(world: World, browser: ScriptedBrowser) -> set[str]:
    me = browser.get_json(f"{world.stack.suppliers['rekenwonders']}/whoami")
    assert me["status"] == "ok", me
    return set(me["attributes"])


def test_release_an_attribute_with_a_preview_that_matches_the_login(world: World) -> None:
    page = world.page()
    log_in(world, page, COORDINATOR, shot="01-login")
    expect(page.get_by_role("heading", level=1)).to_have_text("OBS De Regenboog")
    screenshot(page, "02-school-overview")
    page.get_by_role("link", name="Beheren Rekenwonders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rekenwonders")

    role = page.get_by_role("group", name="Vrijgeven aan: rol (leerling, leraar)")
    role.get_by_label("niemand").check()
    given = page.get_by_role("group", name="Vrijgeven aan: voornaam")
    given.get_by_label("alleen leerlingen").check()
    page.get_by_label("Testpersoon").select_option("pupil")
    page.get_by_role("button", name="Voorbeeld bekijken").click()
    table = page.locator("#preview-table")
    expect(table.locator("tr.removed")).to_contain_text("urn:oid:1.3.6.1.4.1.5923.1.1.1.1")
    expect(page.get_by_text("nog niet opgeslagen", exact=True)).to_be_visible()
    screenshot(page, "03-release-preview")
    previewed = set(table.locator("tbody tr:not(.removed) td code").all_inner_texts())
    policy = world.broker.registry.policy("regenboog", "rekenwonders")
    assert policy is not None and "role" in policy.attributes, "a preview saves nothing"

    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Opgeslagen")
    policy = world.broker.registry.policy("regenboog", "rekenwonders")
    assert policy is not None and not policy.attributes
    assert policy.by_role == {"student": {"given_name"}}
    with pupil_logs_in(world) as browser:
        assert whoami_names(world, browser) == previewed
    assert PAIRWISE_ID in previewed
    page.context.close()


def test_suspend_stops_logins_at_once_and_resume_restores_them(world: World) -> None:
    page = world.page()
    log_in(world, page, COORDINATOR)
    page.goto(world.admin("/schools/regenboog/suppliers/rekenwonders"))
    reason = "<script>alert(1)</script> contract under review"
    page.get_by_label("Reden").fill(reason)
    page.get_by_role("button", name="Nu opschorten").click()
    expect(page.get_by_role("status").first).to_contain_text("Opgeschort")
    with ScriptedBrowser() as browser:
        browser.get(f"{world.stack.suppliers['rekenwonders']}/login", {"school": "regenboog"})
        assert browser.page.status_code == 403, "stopped before the pupil goes to school"
        assert "OBS De Regenboog heeft Rekenwonders even stopgezet" in browser.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; contract under review" in browser.text
        assert "<script>alert(1)" not in browser.text
    page.get_by_role("button", name="Weer toestaan").click()
    expect(page.get_by_role("status").first).to_contain_text("Weer toegestaan")
    with pupil_logs_in(world) as browser:
        assert whoami_names(world, browser)
    page.context.close()


def test_export_the_ledger(world: World) -> None:
    with pupil_logs_in(world):
        pass
    page = world.page()
    log_in(world, page, COORDINATOR)
    page.get_by_role("link", name="Logboek").click()
    page.get_by_label("Leverancier").select_option("rekenwonders")
    page.get_by_role("button", name="Filteren").click()
    expect(page.locator("tbody tr").first).to_contain_text("Rekenwonders")
    screenshot(page, "04-ledger")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download als CSV").click()
    assert download.value.suggested_filename.startswith("loper-ledger-regenboog-")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["supplier"] for r in rows} == {"rekenwonders"}
    assert "Sanne" not in text, "names of attributes, never their values"
    page.context.close()


def test_the_operator_registers_a_supplier(world: World, tmp_path: Path) -> None:
    metadata = tmp_path / "woordjes-sp.xml"
    metadata.write_text(sp_metadata("https://woordjes.example/sp"), encoding="utf-8")
    page = world.page(locale="en-GB")
    log_in(world, page, OPERATOR)
    expect(page.get_by_role("heading", name="Health")).to_be_visible()
    screenshot(page, "05-operator")
    page.get_by_role("link", name="Register a supplier").click()
    page.get_by_label("id").first.fill("woordjes")
    page.get_by_label("Name").fill("Woordjes")
    page.get_by_label("Metadata file").set_input_files(str(metadata))
    screenshot(page, "06-register-supplier")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("Registered")
    expect(page.get_by_role("link", name="Woordjes")).to_be_visible()
    supplier = world.broker.registry.supplier("woordjes")
    assert supplier is not None and supplier.protocol == "saml"
    assert supplier.config.entity_id == "https://woordjes.example/sp"
    page.context.close()


def test_activate_a_supplier_and_read_the_audit_trail(world: World) -> None:
    registry = world.broker.registry
    register_new_supplier(world.stack)
    registry.deactivate("regenboog", "taalapp", reason="the test starts without it")
    taalapp = world.stack.suppliers["taalapp"]
    with ScriptedBrowser() as pupil:
        stopped = pupil.get(f"{taalapp}/login", {"school": "regenboog"})
        assert stopped.status_code == 403
        assert "Taalapp nog niet aangezet" in pupil.text
    page = world.page()
    log_in(world, page, COORDINATOR)
    new = page.locator("tr", has_text="Woordenschat")
    expect(new).to_contain_text("nieuw")
    expect(new).to_contain_text("zet leerlingen in de woordenlijsten van hun klas")
    expect(page.locator("#new-suppliers")).to_contain_text("wachten op uw besluit")
    screenshot(page, "07-new-supplier")

    page.get_by_role("link", name="Beheren Taalapp").click()
    expect(page.locator("#activation")).to_contain_text("niet actief")
    page.get_by_label("Verwerkersovereenkomst").fill("VWO-2026-042")
    page.get_by_label("Geldig tot en met").fill("2099-07-31")
    page.get_by_role("button", name="Activeren").click()
    expect(page.get_by_role("status").first).to_contain_text("de leverancier is actief")
    policy = registry.policy("regenboog", "taalapp")
    assert policy is not None and policy.active and policy.agreement == "VWO-2026-042"
    with ScriptedBrowser() as pupil:
        log_in_via_picker(pupil, taalapp, DEFAULT_PEOPLE[0])
        assert pupil.page.status_code == 200 and "SAMLResponse" not in pupil.text

    page.get_by_role("link", name="Wijzigingen").click()
    page.get_by_label("Handeling").select_option("activate")
    page.get_by_role("button", name="Filteren").click()
    latest = page.locator("#audit tbody tr").first
    expect(latest).to_contain_text("geactiveerd")
    expect(latest).to_contain_text(COORDINATOR)
    expect(latest).to_contain_text("VWO-2026-042")
    screenshot(page, "08-audit")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download als CSV voor Excel (;)").click()
    assert download.value.suggested_filename.startswith("loper-audit-regenboog-")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert rows and {r["action"] for r in rows} == {"activate"}
    assert rows[0]["actor"] == COORDINATOR and rows[0]["supplier"] == "taalapp"
    assert world.broker.registry.ledger().verify().ok
    page.context.close()


def test_a_second_tab_does_not_undo_what_the_first_one_saved(world: World) -> None:
    """The release page open in two tabs: tab A withdraws the given name; tab B, still showing
    the old form, changes the role and saves. Nothing is saved (409), the given name stays
    withheld, and tab B shows its choices against the release as it is now, with a warning
    that can be seen where the browser lands; saving again applies them."""
    registry = world.broker.registry
    current = registry.policy("regenboog", "taalapp")
    assert current is not None
    registry.set_policy(dataclasses.replace(current, attributes=frozenset({"given_name"}),
                                            by_role={}))
    tab_a = world.page()
    log_in(world, tab_a, COORDINATOR)
    tab_b = tab_a.context.new_page()
    for tab in (tab_a, tab_b):
        tab.goto(world.admin("/schools/regenboog/suppliers/taalapp"))

    tab_a.get_by_role("group", name="Vrijgeven aan: voornaam").get_by_label("niemand").check()
    tab_a.get_by_role("button", name="Opslaan").click()
    expect(tab_a.get_by_role("status").first).to_contain_text("Opgeslagen")

    tab_b.get_by_role("group", name="Vrijgeven aan: rol (leerling, leraar)").get_by_label(
        "alleen leraren").check()
    tab_b.get_by_role("button", name="Opslaan").click()
    expect(tab_b.locator("#release-stale")).to_contain_text(
        "Iemand heeft deze vrijgave gewijzigd nadat u deze pagina opende. Er is niets "
        "opgeslagen.")
    expect(tab_b.locator("#release-stale")).to_contain_text(f"Laatst gewijzigd door {COORDINATOR}")
    expect(tab_b.get_by_role("link", name="Niet opgeslagen: de vrijgave is intussen gewijzigd")
           ).to_be_in_viewport()
    policy = registry.policy("regenboog", "taalapp")
    assert policy is not None and not policy.attributes, "the given name stays withheld"
    assert policy.by_role == {}

    tab_b.get_by_role("button", name="Opslaan").click()
    expect(tab_b.get_by_role("status").first).to_contain_text("Opgeslagen")
    policy = registry.policy("regenboog", "taalapp")
    assert policy is not None and policy.attributes == {"given_name"}
    assert policy.by_role == {"employee": {"role"}}
    tab_a.context.close()
