"""The shared classroom device, in a real Chromium: pupil A logs in to two apps, logs out
everywhere, and pupil B on the same browser must type their own password and lands as B.

The demo runs as `make demo` runs it, with OBS De Regenboog marked shared_devices = true (as
its operator would import it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from broker.context import Broker
from broker.registry.federation import Federation
from demo.stack import Running, running

SANNE, DAAN = "Sanne", "Daan"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("shared")) as stack:
        broker: Broker = stack.apps["broker"].extensions["loper"]
        school = broker.registry.school("regenboog")
        assert school is not None
        broker.registry.import_federation(
            Federation(schools=(replace(school, shared_devices=True),)),
            key_version=broker.pseudonym_keys.current)
        yield stack


@pytest.fixture
def context(chromium: object) -> Iterator[BrowserContext]:  # noqa: F811
    made: BrowserContext = chromium.new_context(locale="nl-NL")  # type: ignore[attr-defined]
    yield made
    made.close()


def log_in_at_school(page: Page, name: str) -> None:
    page.get_by_label(re.compile(name)).check()
    page.get_by_label(re.compile("Password")).fill("demo")
    page.get_by_role("button", name="Log in").click()


def test_the_next_pupil_on_a_shared_device_logs_in_as_themselves(
        demo: Running, context: BrowserContext, tmp_path: Path) -> None:
    page = context.new_page()
    rekenwonders, leesplein = demo.suppliers["rekenwonders"], demo.suppliers["leesplein"]
    page.goto(rekenwonders + "/login?school=regenboog")
    log_in_at_school(page, SANNE)
    page.wait_for_url(rekenwonders + "/")
    assert SANNE in page.content()
    page.goto(leesplein + "/login?school=regenboog")  # the second app: no password
    page.wait_for_url(leesplein + "/")
    assert SANNE in page.content()

    sso = [c for c in context.cookies() if c["name"] == "loper_sso"]
    assert sso and sso[0]["expires"] == -1  # a browser-session cookie on a shared device

    page.goto(demo.broker + "/logout")
    page.get_by_role("button", name="Overal uitloggen").click()
    page.wait_for_url(re.compile(re.escape(demo.broker)))
    page.get_by_role("status").wait_for()
    assert page.get_by_role("status").inner_text() == "Je bent overal uitgelogd."
    done = page.locator("ul.apps-done li").all_inner_texts()
    assert sorted(done) == ["Leesplein", "Rekenwonders"]
    assert page.locator("#school-done").is_visible()
    page.screenshot(path=str(tmp_path / "logged-out.png"))

    taalapp = demo.suppliers["taalapp"]
    page.goto(taalapp + "/")
    page.get_by_role("button", name="log in").click()
    page.wait_for_url(re.compile(r"/discovery"))
    page.get_by_role("link", name=re.compile("OBS De Regenboog")).click()
    password = page.get_by_label(re.compile("Password"))
    password.wait_for()  # Daan must type a password: nobody is logged in any more
    log_in_at_school(page, DAAN)
    page.wait_for_url(taalapp + "/")
    content = page.content()
    assert DAAN in content and SANNE not in content
    for app in (rekenwonders, leesplein):  # Sanne is gone there too
        page.goto(app + "/")
        assert SANNE not in page.content()
