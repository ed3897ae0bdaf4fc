"""A pupil's login at a piece of supplier software, driven two ways: by the scripted browser of
tests/peers/browser.py (requests, no JavaScript) or by a real Chromium (Playwright).

Either way: open the app's protected page, pick OBS De Regenboog in Loper's picker, log in at
the school, and land back on the app's page, which shows what the app received.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page

from demo.people import PASSWORD, DemoPerson
from tests.flows.conftest import REGENBOOG
from tests.peers.browser import Browser
from tests.suppliers.software import Seen, SupplierSoftware


def log_in(browser: Browser, software: SupplierSoftware, person: DemoPerson) -> Seen:
    """Log `person` in at `software` from scratch; what the app then sees."""
    browser.get(software.app_url)
    assert "/discovery" in browser.url, browser.text[:500]
    browser.click(REGENBOOG)
    browser.login(person.id)
    seen = open_app(browser, software)
    assert seen is not None, f"not back in the app: {browser.url}\n{browser.text[:500]}"
    return seen


def open_app(browser: Browser, software: SupplierSoftware) -> Seen | None:
    """What the app shows on the page the browser is at; None when not at the app."""
    page = browser.page
    if not page.url.startswith(software.app_url) or page.status_code != 200:
        return None
    return software.seen(page.json())


def log_in_with_page(page: Page, software: SupplierSoftware, person: DemoPerson) -> Seen:
    """The same login in a real browser: clicks and typing, JavaScript and cookie rules."""
    page.goto(software.app_url)
    page.get_by_role("link", name=re.compile(REGENBOOG)).click()
    page.get_by_label(re.compile(person.given_name)).check()
    page.get_by_label(re.compile("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(software.app_url)
    return software.seen(json.loads(page.locator("body").inner_text()))
