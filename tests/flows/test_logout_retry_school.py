"""A school that Loper could not log out at, tried again from the logout's page: its button sends
the browser to that school's logout again (a fresh request naming the same pupil), and the page
comes back with the new outcome. Only in that browser, only for a school that failed in that
logout, at most three times, and not once someone has logged in on the device again. Every
other try (no token, another browser, an altered run, a school that succeeded, the same POST
again) is Loper's 4xx page with an error id: nothing is sent to any school, nothing changes in
Redis.

The real demo federation over HTTP (De Regenboog a pysaml2 IdP, Het Lyceum an OIDC provider),
state in Redis; De Regenboog's logout request cannot be built while the test says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import redis
import requests

from broker.errors import SchoolUnavailable
from broker.logout.run import Initiator, LogoutRun, SchoolStep
from broker.outgoing import Outgoing
from broker.records import School
from broker.upstream import Logout
from broker.web import cookies, csrf
from broker.web.logout import retry_purpose
from demo.school_op import LYCEUM_PEOPLE
from tests.flows.conftest import LYCEUM, REGENBOOG, Federation, at_school_login, log_out
from tests.flows.stopping import ERROR_ID
from tests.flows.test_logout_earlier_schools import (
    IJSSEL,
    IJSSEL_NAME,
    PUPILS,
    ClosingSchool,
    asked,
    at_school,
    ijssel,
    log_in,
    schools_listed,
)
from tests.flows.test_logout_earlier_sessions import sso_cookie
from tests.flows.test_logout_page_language import everything, kept, language_link
from tests.flows.test_logout_saml import listed
from tests.peers.browser import Browser, Form

__all__ = ["ijssel", "kept"]  # fixtures shared with other tests


@dataclass
class Schools:
    """Every logout request Loper builds for a school, and De Regenboog's failing while
    `down` (its upstream raises, as for a school that cannot be reached)."""

    down: bool = True
    asked: list[str] = field(default_factory=list)


@pytest.fixture
def schools(federation: Federation, monkeypatch: pytest.MonkeyPatch) -> Schools:
    seen = Schools()
    for upstream in federation.broker.upstreams.values():
        assert isinstance(upstream, Logout)
        real = upstream.logout_redirect

        def asking(school: School, session: bytes, relay_state: str,
                   real: object = real) -> tuple[Outgoing, bytes] | None:
            seen.asked.append(school.id)
            if seen.down and school.id == "regenboog":
                raise SchoolUnavailable("De Regenboog cannot be asked to log out (the test)")
            assert callable(real)
            answer: tuple[Outgoing, bytes] | None = real(school, session, relay_state=relay_state)
            return answer

        monkeypatch.setattr(upstream, "logout_redirect", asking)
    return seen


def try_again_buttons(browser: Browser) -> dict[str, Form]:
    """The page's "try again" forms, by the school they try."""
    return {form.fields["school"]: form for form in browser.forms()
            if form.action.endswith("/logout/retry")}


def regenboog_failed(browser: Browser, federation: Federation, schools: Schools) -> Form:
    """The pupil logged in at De Regenboog, whose logout then failed: its button."""
    log_in(browser, federation, "rekenwonders", "regenboog", PUPILS["regenboog"])
    log_out(browser, federation.issuer)
    assert "Je bent uitgelogd bij Loper, maar niet overal." in browser.text, browser.text[:400]
    assert schools_listed(browser, "failed") == [REGENBOOG]
    assert "Opnieuw proberen bij OBS De Regenboog" in browser.text
    assert schools.asked == ["regenboog"] and asked(browser, federation) == []
    buttons = try_again_buttons(browser)
    assert list(buttons) == ["regenboog"]
    return buttons["regenboog"]


def test_a_school_that_failed_is_tried_again_and_the_page_says_how_it_went(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    log_in(browser, federation, "rekenwonders", "regenboog", PUPILS["regenboog"])
    named = at_school(federation, sso_cookie(federation, browser))
    log_out(browser, federation.issuer)
    button = try_again_buttons(browser)["regenboog"]
    schools.down = False  # the school can be reached again

    browser.submit(button)

    assert asked(browser, federation) == [named]  # a fresh LogoutRequest naming the pupil
    assert browser.url.startswith(federation.issuer), browser.text[:400]
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [REGENBOOG]
    assert schools_listed(browser, "failed") == [] and not try_again_buttons(browser)
    assert listed(browser, "done") == ["Rekenwonders"]
    browser.get(language_link(browser))  # the same logout's page, in English, as it is now
    assert "You are logged out everywhere." in browser.text
    assert schools_listed(browser, "done") == [REGENBOOG]
    browser.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
    assert at_school_login(browser)  # logged out at school: a password again


def test_the_page_in_english_tries_again_in_english(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    regenboog_failed(browser, federation, schools)
    browser.get(language_link(browser))
    assert "Try again at OBS De Regenboog" in browser.text  # the button, on the page again
    browser.submit(try_again_buttons(browser)["regenboog"])  # still down
    assert '<html lang="en">' in browser.text
    assert "You are logged out of Loper, but not everywhere." in browser.text
    assert schools_listed(browser, "failed") == [REGENBOOG]


def test_a_school_is_tried_again_at_most_three_times(
        federation: Federation, browser: Browser, schools: Schools,
        kept: redis.Redis) -> None:
    button = regenboog_failed(browser, federation, schools)
    for tried in range(1, 4):
        browser.submit(button)
        assert browser.page.status_code == 200, browser.text[:400]
        assert schools_listed(browser, "failed") == [REGENBOOG]
        assert schools.asked == ["regenboog"] * (tried + 1)
        buttons = try_again_buttons(browser)
        assert list(buttons) == ([] if tried == 3 else ["regenboog"])
        button = buttons.get("regenboog", button)
    refused(browser, federation, schools, kept, lambda: browser.submit(button), 403)


def test_a_try_that_fails_at_once_ends_at_the_pages_own_address(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    """Its page is reached by a link, not as the answer to the button's POST: reloading it
    shows it again and tries nothing (no "send the form again?", no try used up)."""
    browser.submit(regenboog_failed(browser, federation, schools))  # still down
    assert browser.url.startswith(f"{federation.issuer}/logout/page?run="), browser.url
    assert schools_listed(browser, "failed") == [REGENBOOG]
    tried = list(schools.asked)
    browser.get(browser.url)  # a reload
    assert browser.page.status_code == 200 and schools.asked == tried
    assert schools_listed(browser, "failed") == [REGENBOOG]
    assert list(try_again_buttons(browser)) == ["regenboog"]


def test_a_try_the_school_never_answered_can_be_tried_again(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    """The browser stopped at the school (its own error page) and the pupil went back to the
    logout's page: the school counts as not reached, and its button is there again."""
    button = regenboog_failed(browser, federation, schools)
    schools.down = False  # the request can be made, but the browser never comes back
    sent = browser.session.post(button.action, data=button.fields, allow_redirects=False)
    assert sent.status_code == 303 and "/slo?SAMLRequest=" in sent.headers["Location"]
    browser.get(f"{federation.issuer}/logout/page", {"run": button.fields["run"], "lang": "nl"})
    assert browser.page.status_code == 200, browser.text[:400]
    assert schools_listed(browser, "failed") == [REGENBOOG]
    assert list(try_again_buttons(browser)) == ["regenboog"]
    assert schools.asked == ["regenboog", "regenboog"]
    browser.submit(try_again_buttons(browser)["regenboog"])  # and now it answers
    assert "Je bent overal uitgelogd." in browser.text


def refused(browser: Browser, federation: Federation, schools: Schools, kept: redis.Redis,
            act: object, status: int,
            words: str = "Deze school kan hier niet opnieuw geprobeerd worden") -> None:
    """`act` ends on Loper's 4xx page with an error id, saying `words` (its title in the
    pupil's language); nothing sent, nothing changed."""
    assert callable(act)
    before, asked_before, seen = everything(kept), list(schools.asked), len(browser.history)
    act()
    assert browser.page.status_code == status, browser.text[:400]
    assert 'data-error-code="logout_retry_gone"' in browser.text, browser.text[:400]
    assert ERROR_ID.search(browser.text), "the page must show an error id"
    assert words in browser.text
    assert schools.asked == asked_before  # no request built for any school
    assert all(r.url.startswith(federation.issuer) for r in browser.history[seen:])
    assert everything(kept) == before


def token_for(federation: Federation, browser: Browser, run: str, school: str) -> str:
    """The token of a button for `run` and `school` in this browser, as Loper would make it:
    a try with a token that is right, for a run or school that is not."""
    browser_id = browser.session.cookies.get(
        cookies.cookie_name(federation.broker.settings, cookies.BROWSER))
    assert browser_id
    with federation.running.apps["broker"].test_request_context():
        return csrf.token(retry_purpose(run, school), str(browser_id))


def test_a_try_without_its_token_is_refused(federation: Federation, browser: Browser,
                                            schools: Schools, kept: redis.Redis) -> None:
    button = regenboog_failed(browser, federation, schools)
    page = language_link(browser).replace("lang=en", "lang=nl")
    fields = {k: v for k, v in button.fields.items() if k != csrf.FIELD}
    refused(browser, federation, schools, kept,
            lambda: browser.post(button.action, fields), 400)
    refused(browser, federation, schools, kept,
            lambda: browser.submit(button, csrf_token="0" * 64), 400)
    browser.get(page)  # the button is still there
    assert list(try_again_buttons(browser)) == ["regenboog"]


def test_a_try_from_another_browser_is_refused(federation: Federation, browser: Browser,
                                               schools: Schools, kept: redis.Redis) -> None:
    button = regenboog_failed(browser, federation, schools)
    with Browser() as other:
        other.get(f"{federation.issuer}/logout")  # a browser of its own (its cookie)
        refused(other, federation, schools, kept, lambda: other.submit(button), 400)
        run = button.fields["run"]  # its own token, for that run: still not its logout
        refused(other, federation, schools, kept, lambda: other.submit(
            button, csrf_token=token_for(federation, other, run, "regenboog")), 403)


@pytest.mark.parametrize("run", ["x" * 20, "", "r" * 65])
def test_a_try_for_another_run_is_refused(federation: Federation, browser: Browser,
                                          schools: Schools, kept: redis.Redis, run: str) -> None:
    button = regenboog_failed(browser, federation, schools)
    refused(browser, federation, schools, kept, lambda: browser.submit(button, run=run), 400)
    refused(browser, federation, schools, kept, lambda: browser.submit(
        button, run=run, csrf_token=token_for(federation, browser, run, "regenboog")), 403)


def test_a_school_that_was_logged_out_is_not_tried_again(
        federation: Federation, browser: Browser, schools: Schools, kept: redis.Redis) -> None:
    log_in(browser, federation, "rekenwonders", "lyceum", LYCEUM_PEOPLE[0].id)  # pupil A
    log_in(browser, federation, "taalapp", "regenboog", PUPILS["regenboog"])  # pupil B
    log_out(browser, federation.issuer)
    assert schools_listed(browser, "failed") == [REGENBOOG]
    assert schools_listed(browser, "done") == [LYCEUM]
    button = try_again_buttons(browser)["regenboog"]
    assert list(try_again_buttons(browser)) == ["regenboog"]
    run = button.fields["run"]
    for school in ("lyceum", "nowhere"):
        token = token_for(federation, browser, run, school)
        refused(browser, federation, schools, kept, lambda school=school, token=token:
                browser.submit(button, school=school, csrf_token=token), 403)


def test_the_same_try_again_is_refused(federation: Federation, browser: Browser,
                                       schools: Schools, kept: redis.Redis) -> None:
    button = regenboog_failed(browser, federation, schools)
    schools.down = False
    browser.submit(button)
    assert schools_listed(browser, "done") == [REGENBOOG]
    refused(browser, federation, schools, kept, lambda: browser.submit(button), 403)


def test_no_try_again_once_someone_logged_in_on_the_device(
        federation: Federation, browser: Browser, schools: Schools, kept: redis.Redis) -> None:
    button = regenboog_failed(browser, federation, schools)
    link = language_link(browser)
    log_in(browser, federation, "leesplein", "lyceum", LYCEUM_PEOPLE[1].id)  # the next pupil
    browser.get(link)
    assert "someone has logged in on this device again" in browser.text
    assert not try_again_buttons(browser)
    refused(browser, federation, schools, kept, lambda: browser.submit(button), 403,
            "This school cannot be tried again from here")  # the language chosen sticks
    assert sso_cookie(federation, browser)  # the next pupil stays logged in


def test_a_school_the_browser_never_came_back_from_can_be_tried_again(
        federation: Federation, browser: Browser, ijssel: ClosingSchool) -> None:
    log_in(browser, federation, "rekenwonders", IJSSEL, LYCEUM_PEOPLE[0].id)
    ijssel.take_down()
    with pytest.raises(requests.ConnectionError):  # the browser's redirect there
        log_out(browser, federation.issuer)
    log_out(browser, federation.issuer)  # the pupil comes back and presses it again
    assert schools_listed(browser, "failed") == [IJSSEL_NAME]
    button = try_again_buttons(browser)[IJSSEL]  # its ID token was kept for that

    with pytest.raises(requests.ConnectionError) as nowhere:  # still down
        browser.submit(button)

    assert nowhere.value.request is not None
    url = str(nowhere.value.request.url)
    assert url.startswith(f"{ijssel.url}/logout?") and "id_token_hint=" in url


def test_a_school_without_a_logout_is_not_kept_to_try_again() -> None:
    run = LogoutRun("r", "b", Initiator("pupil"), (SchoolStep("a", b"s"), SchoolStep("b", b"t")))
    over = run.school_answered("none").school_answered("failed")
    assert [step.school_id for step in over.retry] == ["b"]
    assert over.retry[0].session == b"t"




def test_back_to_the_page_after_a_try_the_school_never_answered_offers_it_again(
        federation: Federation, browser: Browser, schools: Schools) -> None:
    """The school took the browser and never sent it back, twice: first the logout, then the
    try. The page was the answer to the app's LogoutResponse, the last step after "log out
    everywhere" was pressed again; Back sends that answer once more, and the page still offers
    the school (two tries left), never "tried as often as it can" after one."""
    schools.down = False
    log_in(browser, federation, "rekenwonders", "regenboog", PUPILS["regenboog"])
    browser.get(f"{federation.issuer}/logout")
    first = browser.form("csrf_token")
    sent = browser.session.post(first.action, data=first.fields, allow_redirects=False)
    assert sent.status_code == 303 and "/slo?SAMLRequest=" in sent.headers["Location"]
    log_out(browser, federation.issuer)  # the pupil went back and pressed it again
    assert schools_listed(browser, "failed") == [REGENBOOG], browser.text[:400]
    page = browser.history[-1]
    assert "/saml/idp/slo?SAMLResponse=" in page.url, page.url  # the app's answer
    button = try_again_buttons(browser)["regenboog"]
    tried = browser.session.post(button.action, data=button.fields, allow_redirects=False)
    assert tried.status_code == 303 and "/slo?SAMLRequest=" in tried.headers["Location"]

    browser.get(page.url)  # Back: the browser asks for that page again

    assert browser.page.status_code == 200, browser.text[:400]
    assert schools_listed(browser, "failed") == [REGENBOOG]
    assert list(try_again_buttons(browser)) == ["regenboog"]
    assert "zo vaak opnieuw geprobeerd" not in browser.text
