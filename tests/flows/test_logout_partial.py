"""An app's own logout that Loper could not carry everywhere, as the app's user reads it.

An app that could not be logged out (here an OIDC app whose back-channel logout endpoint
fails) makes Loper answer the SAML app that started the logout with Success and a second-level
PartialLogout. Both demo SAML apps, Rekenwonders (pysaml2) and Taalapp (python3-saml), must
then say that the pupil is logged out there but not everywhere, and so must the demo school
when its own logout button started it; a full logout still says "everywhere"
(tests/flows/test_logout_saml.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.flows.conftest import Federation, at_school_login, whoami
from tests.flows.oidc_clients import RpClient, register_client
from tests.peers.browser import Browser
from tests.peers.servers import serve

NOT_EVERYWHERE = "You are logged out here, but the IdP could not log you out everywhere."
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B


def _failing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    return [b""]


@pytest.fixture
def failing_app(federation: Federation) -> Iterator[RpClient]:
    """An OIDC app whose every endpoint fails, its back-channel logout too."""
    with serve(_failing) as base:
        yield register_client(federation, "failing-rp", [f"{base}/cb"], {"regenboog": ["role"]},
                              backchannel_logout_uri=f"{base}/logout")


def _logged_in_at_the_failing_app(federation: Federation, browser: Browser,
                                  failing_app: RpClient) -> None:
    browser.get(f"{federation.issuer}/oidc/authorize", {
        "client_id": failing_app.client_id, "redirect_uri": failing_app.redirect_uri,
        "response_type": "code", "scope": "openid", "school": "regenboog",
        "code_challenge_method": "S256", "code_challenge": CHALLENGE})
    browser.login(federation.pupil.id)  # logged in at the failing app (it never answers)


@pytest.mark.parametrize("app", ["rekenwonders", "taalapp"])  # pysaml2, python3-saml
def test_an_app_says_so_when_the_idp_could_not_log_out_everywhere(
        federation: Federation, browser: Browser, failing_app: RpClient, app: str) -> None:
    _logged_in_at_the_failing_app(federation, browser, failing_app)
    own = federation.supplier(app)
    browser.get(f"{own}/login", {"school": "regenboog"})
    assert whoami(browser, own)["status"] == "ok", browser.text[:300]

    browser.post(f"{own}/logout", {})

    assert browser.url.startswith(f"{own}/slo"), browser.text[:300]
    assert NOT_EVERYWHERE in browser.text
    assert "You are logged out everywhere." not in browser.text
    assert whoami(browser, own) is None
    browser.get(f"{own}/login", {"school": "regenboog"})
    assert at_school_login(browser)  # the school's session ended all the same



def test_the_school_says_so_when_loper_could_not_log_out_everywhere(
        federation: Federation, browser: Browser, failing_app: RpClient) -> None:
    _logged_in_at_the_failing_app(federation, browser, failing_app)
    school = federation.running.school
    browser.post(f"{school}/logout", {})
    assert browser.url.startswith(f"{school}/slo"), browser.text[:300]
    assert "You are logged out at school." in browser.text
    assert "and everywhere" not in browser.text
    browser.get(f"{federation.supplier('taalapp')}/login", {"school": "regenboog"})
    assert at_school_login(browser)
