"""The logout's page in the other language: its link shows the page of the same logout again,
in that language, in the same browser only, and does nothing again (no frames, no answer to
an app, no cookie cleared, nothing in Redis). The choice sticks, as any language link's. A link
of another browser, altered or expired, is Loper's 4xx page with an error id.

The real demo federation over HTTP, state in Redis.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
import redis

from broker.logout import run as runs
from broker.web import cookies
from tests.fixtures.redis_state import stored
from tests.flows.conftest import REGENBOOG, Federation, log_out
from tests.flows.stopping import ERROR_ID
from tests.flows.test_logout_earlier_schools import schools_listed
from tests.flows.test_logout_oidc import Receiver, log_in_at_front_channel_app
from tests.flows.test_logout_saml import listed, log_in_everywhere
from tests.peers.browser import Browser
from tests.peers.servers import serve

APPS = ["Leesplein", "Rekenwonders", "Taalapp"]


@pytest.fixture
def kept(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def everything(kept: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key in Redis that outlives the test, with its value (as DUMP gives it): what a
    request may not change."""
    return stored(kept)


def language_link(browser: Browser) -> str:
    doc = lxml.html.fromstring(browser.page.content, base_url=browser.url)
    doc.make_links_absolute(browser.url)
    links = doc.xpath('//p[@class="lang screen-only"]/a/@href')
    assert len(links) == 1, browser.text[:400]
    return str(links[0])


def run_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["run"][0]


def logged_out_everywhere(browser: Browser, federation: Federation) -> str:
    """A pupil logged in to every app, then "log out everywhere" (in Dutch): the link."""
    log_in_everywhere(browser, federation)
    log_out(browser, federation.issuer)
    assert "Je bent overal uitgelogd." in browser.text, browser.text[:400]
    link = language_link(browser)
    assert link.startswith(f"{federation.issuer}/logout/page?") and "lang=en" in link
    return link


def test_the_logout_page_links_to_itself_in_english_and_does_nothing_again(
        federation: Federation, browser: Browser, kept: redis.Redis) -> None:
    link = logged_out_everywhere(browser, federation)
    before = everything(kept)

    response = browser.get(link)

    assert response.status_code == 200 and not response.history  # no redirect anywhere
    assert '<html lang="en">' in browser.text
    assert "You are logged out everywhere." in browser.text
    assert sorted(listed(browser, "done")) == APPS
    assert schools_listed(browser, "done") == [REGENBOOG]
    assert "<iframe" not in browser.text and not browser.forms()  # nothing sent to anyone
    sso = cookies.cookie_name(federation.broker.settings, cookies.SSO)
    assert sso not in response.headers.get("Set-Cookie", "")  # no cookie cleared
    assert everything(kept) == before  # nothing done, nothing kept, nothing taken
    back = language_link(browser)  # and back to Dutch, the same logout's page
    assert run_of(back) == run_of(link) and "lang=nl" in back
    browser.get(back)
    assert '<html lang="nl">' in browser.text and "Je bent overal uitgelogd." in browser.text


def test_an_apps_front_channel_frame_is_not_loaded_again(
        federation: Federation, browser: Browser, kept: redis.Redis) -> None:
    with serve(Receiver()) as base:
        log_in_at_front_channel_app(federation, browser, "frontchannel-lang", base, "/front")
        log_out(browser, federation.issuer)
    assert browser.text.count("<iframe") == 1  # the logout itself asked the app in a frame
    before = everything(kept)

    browser.get(language_link(browser))

    assert "Asked to log out (through your browser, not confirmed):" in browser.text
    assert listed(browser, "frame") == ["Frontchannel Lang"]
    assert "<iframe" not in browser.text
    assert "frame-src" not in browser.page.headers["Content-Security-Policy"]
    assert everything(kept) == before


def test_the_language_chosen_on_the_logout_page_sticks(federation: Federation,
                                                       browser: Browser) -> None:
    browser.get(logged_out_everywhere(browser, federation))
    browser.get(f"{federation.issuer}/logout")  # the next page, without ?lang
    assert '<html lang="en">' in browser.text


def test_a_reload_of_the_link_shows_the_page_again(federation: Federation,
                                                   browser: Browser) -> None:
    link = logged_out_everywhere(browser, federation)
    for _ in range(2):
        browser.get(link)
        assert browser.page.status_code == 200
        assert "You are logged out everywhere." in browser.text


def test_nobody_logged_in_keeps_the_link_to_the_logout_page(federation: Federation,
                                                            browser: Browser) -> None:
    log_out(browser, federation.issuer)  # nothing to log out: no logout kept to show again
    assert "Er was op dit apparaat niemand ingelogd" in browser.text, browser.text[:400]
    assert language_link(browser) == f"{federation.issuer}/logout?lang=en"


def refused(browser: Browser, kept: redis.Redis, url: str, words: str) -> None:
    """`url` is Loper's 4xx page with an error id, in `words`' language; nothing changed."""
    before = everything(kept)
    response = browser.get(url)
    assert response.status_code == 400 and not response.history, browser.text[:400]
    assert 'data-error-code="logout_page_gone"' in browser.text
    assert ERROR_ID.search(browser.text), "the page must show an error id"
    assert words in browser.text
    assert everything(kept) == before


def test_the_link_in_another_browser_shows_nothing_of_the_logout(
        federation: Federation, browser: Browser, kept: redis.Redis) -> None:
    link = logged_out_everywhere(browser, federation)
    with Browser() as other:
        refused(other, kept, link, "This logout page cannot be shown here")
        assert "Rekenwonders" not in other.text and REGENBOOG not in other.text
        other.get(f"{federation.issuer}/logout")  # in the language of the link it followed
        assert '<html lang="en">' in other.text


@pytest.mark.parametrize("change", [
    lambda run: run[:-1] + ("A" if run[-1] != "A" else "B"),
    lambda run: "",
    lambda run: run * 10,
    lambda run: "../" + run,
])
def test_an_altered_link_is_refused(federation: Federation, browser: Browser,
                                    kept: redis.Redis, change: object) -> None:
    link = logged_out_everywhere(browser, federation)
    assert callable(change)
    altered = re.sub(r"run=[^&]*", f"run={change(run_of(link))}", link)
    refused(browser, kept, altered, "This logout page cannot be shown here")


def test_an_expired_logout_is_refused_in_the_pupils_language(
        federation: Federation, browser: Browser, kept: redis.Redis) -> None:
    link = logged_out_everywhere(browser, federation)
    browser_id = browser.session.cookies.get(
        cookies.cookie_name(federation.broker.settings, cookies.BROWSER))
    assert browser_id
    federation.broker.store.delete_token(runs.FINISHED, runs.key(run_of(link), browser_id))
    refused(browser, kept, link.replace("lang=en", "lang=nl"),
            "Deze uitlogpagina kan hier niet getoond worden")
