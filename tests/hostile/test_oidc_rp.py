"""Loper as a relying party of an OIDC school: hostile answers at /oidc/callback of the running
federation, from an attacker in the browser or from a misbehaving school (Het Lyceum, the demo
OP, told how to misbehave with demo/school_op.py `OpTweaks`).

A refused answer ends on Loper's error page (4xx, error id), starts no session, stores nothing,
and the supplier receives nothing; an answer that cannot be genuine (wrong state, wrong iss,
an error, a bogus code) is refused before Loper asks the school for tokens.

Classes and cases: state bound to the browser 2, code injection 1, callback replay and race 2,
cross-protocol confusion 2, mix-up (iss) 2, ID token and userinfo 11, forged callbacks that
must cause no outbound request 4.

Covered elsewhere and not repeated here: tests/upstream/oidc/test_rejections.py (the same
hostile tokens against OidcUpstream, each with its message, and `none`/HS* refused even when
pinned), tests/upstream/oidc/test_provider.py (discovery issuer, https endpoints, oversize or
unreadable documents, unreachable or hanging schools, CA variables).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from demo.school_op import OpTweaks
from tests.flows.conftest import Federation
from tests.hostile.attacker import (
    Hit,
    Listener,
    LogSink,
    SchoolSide,
    StateWatch,
    Traffic,
    query_of,
    reason_coded,
    refused,
    send,
)
from tests.peers.browser import Browser

OUTBOUND = ("/token", "/userinfo", "/jwks", "/.well-known/openid-configuration")


def loper_calls(hits: list[Hit]) -> list[str]:
    """The requests Loper itself made to the Lyceum (the browser only visits /authorize)."""
    return [hit.path for hit in hits if hit.peer == "lyceum" and hit.path in OUTBOUND]


@pytest.fixture
def lyceum(federation: Federation) -> Iterator[Any]:
    """The Lyceum's app, told to misbehave by the test; correct again afterwards."""
    app = federation.running.apps["lyceum"]
    yield app
    app.config["TWEAKS"] = OpTweaks()


class Callbacks:
    """Starts logins at the Lyceum and catches its answer before Loper sees it."""

    def __init__(self, federation: Federation, state: StateWatch, traffic: Traffic,
                 logs: LogSink) -> None:
        self.federation, self.state, self.traffic, self.logs = federation, state, traffic, logs
        self.url = federation.issuer + "/oidc/callback"

    def caught(self, browser: Browser, supplier: str = "rekenwonders") -> str:
        """Log the Lyceum's pupil in; the callback URL the Lyceum sends the browser to."""
        browser.get(f"{self.federation.supplier(supplier)}/login", {"school": "lyceum"})
        form = browser.form(lambda f: "password" in f.visible and "person" in f.choices)
        response = send(browser, "POST", form.action, data={
            **form.fields, "person": self.federation.lyceum_pupil.id, "password": "demo"})
        location = response.headers.get("Location", "")
        assert response.status_code == 303 and location.startswith(self.url), response.text
        return location

    def started(self, browser: Browser) -> str:
        """Start a login at the Lyceum; the state (Loper's login id) it carries."""
        browser.get(f"{self.federation.supplier('rekenwonders')}/login", {"school": "lyceum"})
        authorize = next(r.url for r in reversed(browser.history) if "/authorize?" in r.url)
        return query_of(authorize)["state"]

    def refuses(self, browser: Browser, url: str, status: int | tuple[int, ...] = 403,
                *words: str) -> requests.Response:
        mark = self.logs.mark()
        with self.state.unchanged():
            response = send(browser, "GET", url)
        refused(response, status, *words)
        reason_coded(self.logs.since(mark))
        return response

    def fine(self, browser: Browser, url: str) -> None:
        """The callback completes the login: the supplier gets its answer."""
        response = send(browser, "GET", url)
        assert response.status_code == 200 and "SAMLResponse" in response.text, response.text


@pytest.fixture
def callbacks(federation: Federation, state: StateWatch, traffic: Traffic,
              logs: LogSink) -> Callbacks:
    return Callbacks(federation, state, traffic, logs)


def _with(url: str, **params: str) -> str:
    base, _, _ = url.partition("?")
    return f"{base}?{urlencode({**query_of(url), **params})}"


# -- state is bound to the browser ------------------------------------------------------------

def test_a_callback_opened_in_another_browser_is_refused_and_burns_nothing(
        callbacks: Callbacks, browser: Browser, traffic: Traffic) -> None:
    with Browser() as victim:
        url = callbacks.caught(victim)
        mark = traffic.mark()
        callbacks.refuses(browser, url, 403, "does not belong to a login started in this")
        assert not loper_calls(traffic.since(mark)), "no token request for a stray answer"
        callbacks.fine(victim, url)


def test_a_state_without_any_login(callbacks: Callbacks, browser: Browser,
                                   traffic: Traffic) -> None:
    with traffic.none():
        callbacks.refuses(browser, callbacks.url + "?state=made-up&code=abc&iss=x", 403)


# -- code injection -----------------------------------------------------------------------

def test_the_attackers_code_in_the_victims_callback(callbacks: Callbacks,
                                                    state: StateWatch) -> None:
    """The attacker logs in at the Lyceum, keeps the code, and makes the victim's browser
    bring it with the victim's own state: the Lyceum refuses it (PKCE), Loper too."""
    with Browser() as attacker, Browser() as victim:
        attackers = query_of(callbacks.caught(attacker))
        victims = callbacks.caught(victim)
        sessions = state.sessions()
        callbacks.refuses(victim, _with(victims, code=attackers["code"]), 403,
                          "refused to hand out tokens")
        assert state.sessions() == sessions


# -- replay and race -----------------------------------------------------------------------

def test_a_callback_replayed_after_the_login(callbacks: Callbacks, browser: Browser,
                                            traffic: Traffic) -> None:
    url = callbacks.caught(browser)
    callbacks.fine(browser, url)
    with traffic.none():
        callbacks.refuses(browser, url, 403)


def test_two_threads_on_one_callback_make_one_login(callbacks: Callbacks, browser: Browser,
                                                    state: StateWatch,
                                                    traffic: Traffic) -> None:
    url = callbacks.caught(browser)
    gate = threading.Barrier(2)
    results: list[requests.Response] = []

    def open_it(session: requests.Session) -> None:
        gate.wait()
        results.append(session.get(url, timeout=10, allow_redirects=False))

    sessions, mark = state.sessions(), traffic.mark()
    with requests.Session() as twin:
        twin.cookies.update(browser.session.cookies)
        threads = [threading.Thread(target=open_it, args=(s,)) for s in (browser.session, twin)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert sorted(r.status_code for r in results) == [200, 403]
    assert len(state.sessions() - sessions) == 1
    assert loper_calls(traffic.since(mark)).count("/token") == 1


# -- cross-protocol confusion ----------------------------------------------------------------

def test_an_oidc_callback_with_the_state_of_a_saml_login(callbacks: Callbacks,
                                                         browser: Browser,
                                                         school: SchoolSide) -> None:
    started = school.start(browser)
    with callbacks.traffic.none():
        callbacks.refuses(browser, f"{callbacks.url}?state={started.relay_state}&code=abc",
                          400)


def test_a_saml_answer_with_the_state_of_an_oidc_login(callbacks: Callbacks,
                                                       browser: Browser, school: SchoolSide,
                                                       state: StateWatch) -> None:
    login_id = callbacks.started(browser)
    saml_response = school.answer(school.start(browser))
    with state.unchanged(), callbacks.traffic.none():
        response = send(browser, "POST", school.acs,
                        data={"SAMLResponse": saml_response, "RelayState": login_id})
    refused(response, 403)


# -- mix-up and hostile tokens from the school ----------------------------------------------

HOSTILE: dict[str, OpTweaks] = {
    "iss of another server": OpTweaks(iss_param="https://evil.example"),
    "no iss although promised": OpTweaks(iss_param=""),
    "ID token alg none": OpTweaks(alg="none"),
    "ID token HS256 keyed with the public key": OpTweaks(alg="HS256"),
    "ID token signed by a key not in the JWKS": OpTweaks(key="rogue"),
    "ID token for another client": OpTweaks(claims={"aud": "another-app"}),
    "ID token with another nonce": OpTweaks(claims={"nonce": "not-the-nonce"}),
    "ID token without a nonce": OpTweaks(claims={"nonce": None}),
    "ID token expired": OpTweaks(claims={"exp": int(time.time()) - 600,
                                         "iat": int(time.time()) - 900}),
    "ID token issued in the future": OpTweaks(claims={"iat": int(time.time()) + 3600}),
    "ID token from another issuer": OpTweaks(claims={"iss": "https://evil.example"}),
    "ID token with a foreign azp": OpTweaks(claims={"azp": "another-app"}),
    "userinfo about another user": OpTweaks(userinfo_sub="someone-else"),
    "an answer of 501 claims": OpTweaks(claims={f"c{i}": "x" for i in range(501)}),
    "a claim of 1001 values": OpTweaks(claims={"groups": [f"g{i}" for i in range(1001)]}),
    "a value of 5000 characters": OpTweaks(claims={"name": "x" * 5000}),
}
MIX_UP = ("iss of another server", "no iss although promised")


@pytest.mark.parametrize("name", HOSTILE)
def test_a_misbehaving_school_starts_no_session(callbacks: Callbacks, browser: Browser,
                                                lyceum: Any, traffic: Traffic,
                                                name: str) -> None:
    lyceum.config["TWEAKS"] = HOSTILE[name]
    url = callbacks.caught(browser)
    mark = traffic.mark()
    response = callbacks.refuses(browser, url, 403)
    assert callbacks.federation.lyceum_pupil.id not in response.text
    calls = loper_calls(traffic.since(mark))
    assert ("/token" not in calls) == (name in MIX_UP), calls


# -- forged callbacks: refused before any outbound request ---------------------------------

FORGED = {
    "an error with markup": {"error": "access_denied",
                             "error_description": "<script>alert(1)</script>"},
    "an error code with markup": {"error": "<img src=x onerror=alert(1)>"},
    "a 5000-character code": {"code": "c" * 5000},
}
FORGED_STATUS = {"a 5000-character code": 400}


@pytest.mark.parametrize("name", FORGED)
def test_a_forged_callback_causes_no_outbound_request(callbacks: Callbacks, browser: Browser,
                                                      name: str) -> None:
    url = callbacks.caught(browser)
    forged = {k: v for k, v in query_of(url).items() if k != "code"}
    forged.update(FORGED[name])
    with callbacks.traffic.none():
        response = callbacks.refuses(browser, f"{callbacks.url}?{urlencode(forged)}",
                                     FORGED_STATUS.get(name, 403))
    assert "<script>" not in response.text and "<img" not in response.text


def test_an_iss_pointing_at_a_listener_is_never_fetched(callbacks: Callbacks,
                                                        browser: Browser) -> None:
    url = callbacks.caught(browser)
    with Listener() as listener, callbacks.traffic.none():
        callbacks.refuses(browser, _with(url, iss=listener.url), 403, "mix-up")
    assert listener.connections == 0
