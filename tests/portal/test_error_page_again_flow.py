"""A pupil presses Cancel at their school, over real HTTP: the school's answer (a POST to the
SAML ACS, a GET of the OIDC callback) ends on "Inloggen gestopt". Its language link shows that
very page in English (same error id, same ways on) without the school's answer being sent to
Loper again: the login waits as it was, and its stop link still tells the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from broker.metrics import REGISTRY
from tests.fixtures.redis_state import stored
from tests.flows.conftest import (  # noqa: F401  (fixtures, shared with tests/flows)
    LYCEUM,
    REGENBOOG,
    Federation,
    browser,
    federation,
)
from tests.flows.stopping import assert_stopped_answer, stop_link
from tests.flows.test_cancel import assert_cancelled_page, cancel_at_school
from tests.peers.browser import Browser
from tests.portal.error_page import ErrorPage, read_page

ANSWERED_AT = {REGENBOOG: "/saml/sp/acs", LYCEUM: "/oidc/callback"}


@pytest.fixture(scope="module")
def state(federation: Federation) -> Iterator[redis.Redis]:  # noqa: F811
    client = redis.Redis.from_url(federation.broker.settings.state_url)
    yield client
    client.close()


def cancelled() -> float:
    return REGISTRY.get_sample_value("loper_failures_total", {"reason": "login_cancelled"}) or 0


def shown(browser: Browser) -> ErrorPage:  # noqa: F811
    return read_page(browser.page.status_code, browser.text)


@pytest.mark.parametrize("school", [REGENBOOG, LYCEUM])
def test_the_cancelled_page_in_english_is_the_same_page(
        federation: Federation, browser: Browser, state: redis.Redis,  # noqa: F811
        school: str) -> None:
    taalapp = federation.supplier("taalapp")
    browser.get(f"{taalapp}/login")
    browser.click(school)
    cancel_at_school(browser)
    assert_cancelled_page(browser, "Taalapp")
    assert browser.url.startswith(federation.issuer + ANSWERED_AT[school])
    dutch = shown(browser)
    assert dutch.lang == "nl" and dutch.language_link is not None
    assert dutch.language_link.startswith("/error?page=")

    before, counted, asked = stored(state), cancelled(), len(browser.history)
    browser.click("English")
    english = shown(browser)
    assert "Login cancelled" in browser.text and "Stop and go back to Taalapp" in browser.text
    assert (english.status, english.code, english.lang) == (400, "login_cancelled", "en")
    assert (english.error_id, english.ways) == (dutch.error_id, dutch.ways)
    assert browser.page.headers["Cache-Control"] == "no-store"
    assert browser.page.headers["Referrer-Policy"] == "no-referrer"
    sent = [r.url for r in browser.history[asked:]]
    assert len(sent) == 1 and sent[0].startswith(f"{federation.issuer}/error?page="), sent
    assert stored(state, before) == before, "the login and its state are as they were"
    assert stored(state).keys() <= before.keys(), "nothing new stored"
    assert cancelled() == counted, "not counted as a second failure"

    browser.click("Nederlands")
    assert shown(browser) == dutch
    browser.get(stop_link(browser)[0])  # the login still waits for the pupil's stop
    assert_stopped_answer(federation, browser, taalapp)
