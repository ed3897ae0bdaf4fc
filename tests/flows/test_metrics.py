"""/metrics as an operator's Prometheus reads it, over HTTP, after real logins: a login that
succeeds, one that the school refuses, an error page, a metadata refresh."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.flows.conftest import (
    LYCEUM,
    REGENBOOG,
    Federation,
    at_school_login,
    log_in_via_picker,
    oidc_request_to_school,
)
from tests.peers.browser import Browser

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(federation: Federation) -> dict[Sample, float]:
    page = requests.get(f"{federation.issuer}/metrics", timeout=10)
    assert page.status_code == 200, page.text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(page.text) for s in family.samples}


def grew(before: dict[Sample, float], after: dict[Sample, float], name: str,
         **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_a_login_counts_with_its_protocols_and_times_each_hop(federation: Federation,
                                                            browser: Browser) -> None:
    before = scrape(federation)
    leesplein = federation.supplier("leesplein")
    log_in_via_picker(browser, leesplein, federation.pupil, REGENBOOG)
    assert browser.url == f"{leesplein}/", browser.text[:300]
    after = scrape(federation)
    assert grew(before, after, "loper_logins_total", upstream="saml", downstream="oidc",
                outcome="released") == 1
    assert grew(before, after, "loper_upstream_seconds_count", school="regenboog",
                call="callback") == 1
    assert grew(before, after, "loper_upstream_seconds_count", school="regenboog",
                call="redirect") == 1
    for step in ("saml.sp_acs", "oidc.authorize", "discovery.discovery", "oidc.token"):
        assert grew(before, after, "loper_step_seconds_count", step=step) >= 1, step
    assert not any(name == "loper_failures_total" and grew(before, after, name, **dict(labels))
                   for name, labels in after)
    # the second app of the morning: from Loper's session, the school not asked
    rekenwonders = federation.supplier("rekenwonders")
    browser.get(f"{rekenwonders}/login")
    assert browser.url.startswith(rekenwonders), browser.url
    assert grew(after, scrape(federation), "loper_logins_total", upstream="sso_session",
                downstream="saml", outcome="released") == 1


def test_a_school_that_refuses_counts_as_its_error_by_school(federation: Federation,
                                                           browser: Browser) -> None:
    before = scrape(federation)
    browser.get(f"{federation.supplier('rekenwonders')}/login")
    browser.click(LYCEUM)
    assert at_school_login(browser)
    state = oidc_request_to_school(browser, federation.running.schools["lyceum"])["state"]
    page = browser.get(f"{federation.issuer}/oidc/callback",
                       {"state": state, "error": "access_denied"})
    assert page.status_code == 403
    after = scrape(federation)
    code = "school_response_rejected"
    assert grew(before, after, "loper_upstream_errors_total", school="lyceum", reason=code) == 1
    assert grew(before, after, "loper_logins_total", upstream="oidc", downstream="saml",
                outcome=code) == 1
    assert grew(before, after, "loper_failures_total", reason=code) == 1


def test_error_pages_count_by_their_code_never_by_what_was_sent(federation: Federation) -> None:
    before = scrape(federation)
    for n in range(3):
        page = requests.get(f"{federation.issuer}/discovery", timeout=10,
                            params={"login": f"forged-login-id-{n}"})
        assert page.status_code == 400
    after = scrape(federation)
    assert grew(before, after, "loper_failures_total", reason="login_expired") == 3
    assert not any("forged" in value for _, labels in after for _, value in labels)
