"""OIDC suppliers receive a release at the token step, so that is when the ledger records it:
a code that is never redeemed, or whose redemption fails, leaves no row; a redeemed one leaves
exactly one, which the school's ledger and the pupil's /me page show. Over real HTTP."""

from __future__ import annotations

from broker.registry.ledger import LedgerEntry
from tests.flows.conftest import REGENBOOG, STRICT_RELEASE, Federation
from tests.flows.strict_rp import Login, StrictRp
from tests.flows.test_transparency import me, table
from tests.peers.browser import Browser

STRICT_RP = "Strict Rp"


def rows(federation: Federation) -> list[LedgerEntry]:
    """The pupil's rows for the strict RP at De Regenboog, as the admin's ledger finds them."""
    sub = federation.pseudonym_of("regenboog", federation.pupil, "strict-rp")
    return [e for e in federation.registry.ledger().entries("regenboog", "strict-rp", limit=1000)
            if e.pseudonym == sub]


def code_for(federation: Federation, browser: Browser, rp: StrictRp) -> tuple[Login, str]:
    """Log the pupil in (at school the first time in this browser) and catch the code."""
    login = rp.begin(scope="openid profile")
    browser.get(login.url)
    if "/discovery" in browser.url:
        browser.click(REGENBOOG)
        browser.login(federation.pupil.id)
    return login, rp.code(login, browser.url)


def sent_to_strict_rp(federation: Federation, browser: Browser) -> int:
    return sum(1 for row in table(me(federation, browser), "sent") if row[1] == STRICT_RP)


def test_a_code_is_recorded_when_redeemed_once(federation: Federation, browser: Browser,
                                              rp: StrictRp) -> None:
    before = rows(federation)
    login, code = code_for(federation, browser, rp)
    assert rows(federation) == before  # the code went to the app; the release did not
    assert sent_to_strict_rp(federation, browser) == len(before)
    tokens = rp.redeem(login, code)
    assert tokens.status == 200, tokens.body
    after = rows(federation)
    assert len(after) == len(before) + 1
    entry = after[0]
    assert entry.protocol == "oidc" and entry.pseudonym == tokens.sub
    assert entry.attributes and set(entry.attributes) <= set(STRICT_RELEASE)
    assert "given_name" in entry.attributes  # the release, not the claims of the scope
    assert rp.redeem(login, code).status == 400  # replayed
    assert rows(federation) == after
    assert sent_to_strict_rp(federation, browser) == len(after)
    assert federation.registry.ledger().verify().ok


def test_an_unredeemed_or_failed_code_leaves_no_row(federation: Federation, browser: Browser,
                                                    rp: StrictRp) -> None:
    before = rows(federation)
    code_for(federation, browser, rp)  # never redeemed
    login, code = code_for(federation, browser, rp)  # single sign-on: no school page
    assert rp.redeem(login, code, code_verifier="x" * 43).status == 400
    assert rp.redeem(login, code).status == 400  # spent by the failed attempt
    assert rows(federation) == before
    assert sent_to_strict_rp(federation, browser) == len(before)
