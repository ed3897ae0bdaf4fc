"""`make demo` as a newcomer sees it: a real Chromium clicks through a demo login.

The demo runs exactly as `make demo` runs it (embedded SQLite state, the demo peers); the
browser sees the supplier page with its pseudonym, and a different one at the second supplier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from demo.stack import Running, running
from tests.fixtures.chromium import launched_chromium

PSEUDONYM = re.compile(r"v1-[a-z2-7]{52}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("demo")) as stack:
        yield stack


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="nl-NL")
    yield context.new_page()
    context.close()


def pseudonym_on(page: Page) -> str:
    text = page.locator("code.name-id").inner_text()
    assert PSEUDONYM.fullmatch(text), text
    return text


def test_a_pupil_logs_in_through_the_demo(demo: Running, page: Page,
                                          tmp_path: Path) -> None:
    page.goto(demo.suppliers["rekenwonders"] + "/")
    page.get_by_role("button", name="log in").click()
    page.wait_for_url(re.compile(r"/discovery"))
    assert page.get_by_role("heading", name="Kies je school").is_visible()
    page.get_by_role("searchbox").fill("Utrecht")
    page.get_by_role("button", name="Zoeken").click()
    page.get_by_role("link", name=re.compile("OBS De Regenboog")).click()
    page.get_by_label(re.compile("Sanne")).check()
    page.get_by_label(re.compile("Password")).fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(demo.suppliers["rekenwonders"] + "/")
    first = pseudonym_on(page)
    assert "Sanne" in page.content()

    page.goto(demo.suppliers["taalapp"] + "/")
    page.get_by_role("button", name="log in").click()
    page.wait_for_url(demo.suppliers["taalapp"] + "/")
    second = pseudonym_on(page)
    assert second != first
    page.screenshot(path=str(tmp_path / "taalapp.png"))
