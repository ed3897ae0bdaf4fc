"""What each reader sees while Redis or PostgreSQL is down, over real HTTP: a pupil's browser
gets Loper's 503 page with a way on (back to the app, or the same step again), a relying
party gets a JSON OAuth error it can act on (never a page), and a supplier refreshing Loper's
metadata gets the last copy.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import requests

from tests.faults.outage import APP_URL, AUTHORIZE_PATH, Served, down, served, storage
from tests.fixtures.postgres_server import PostgresServer
from tests.fixtures.redis_server import RedisServer

TRY_AGAIN = re.compile(r'<a href="([^"]+)" data-way="try-again">([^<]+)</a>')
ERROR_ID = re.compile(r"[0-9a-f]{12}")
MACHINE_CALLS = {
    "token": ("post", "/oidc/token", {"data": {"grant_type": "authorization_code",
                                                "code": "c" * 43, "code_verifier": "v" * 43,
                                                "redirect_uri": "https://rekenapp.example/callback"},
                                       "auth": ("rekenapp", "not-used-in-these-tests")}),
    "userinfo": ("get", "/oidc/userinfo", {"headers": {"Authorization": "Bearer " + "t" * 43}}),
    "revoke": ("post", "/oidc/revoke", {"data": {"token": "t" * 43},
                                         "auth": ("rekenapp", "not-used-in-these-tests")}),
}


@pytest.fixture(scope="module")
def parts() -> Iterator[tuple[RedisServer, PostgresServer]]:
    with storage() as running:
        yield running


@pytest.fixture(scope="module")
def loper(parts: tuple[RedisServer, PostgresServer],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("outage") / "instance", *parts) as running:
        yield running


def _outage_page(response: requests.Response) -> str:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'data-error-code="service_unavailable"' in response.text
    assert 'class="error-id"' in response.text and "Traceback" not in response.text
    return response.text


def test_the_503_page_leads_back_to_the_app_that_sent_the_pupil(loper: Served) -> None:
    with down(loper.redis):  # a new browser: Loper has never seen it, no cookie to go by
        page = _outage_page(loper.get(AUTHORIZE_PATH, headers={"Accept-Language": "nl"}))
        assert f'<a href="{APP_URL}">Opnieuw beginnen bij Rekenapp</a>' in page
        ((again, words),) = TRY_AGAIN.findall(page)
        assert words == "Probeer het opnieuw" and html.unescape(again) == AUTHORIZE_PATH
        english = _outage_page(loper.get(AUTHORIZE_PATH, headers={"Accept-Language": "en"}))
        assert f'<a href="{APP_URL}">Start again at Rekenapp</a>' in english
        assert TRY_AGAIN.search(english).group(2) == "Try again"  # type: ignore[union-attr]
    retried = loper.get(html.unescape(again))  # Redis is back: the same link goes on
    assert retried.status_code == 303 and "/discovery?login=" in retried.headers["Location"]


def test_the_503_page_of_a_step_without_an_app_offers_the_same_step_again(
        loper: Served) -> None:
    step = "/discovery?login=abcdefghijklmnopqrstuvwx"
    with down(loper.redis):
        page = _outage_page(loper.get(step, headers={"Accept-Language": "en"}))
    ((again, words),) = TRY_AGAIN.findall(page)
    assert words == "Try again" and html.unescape(again) == step
    assert "Start again" not in page  # no app to go back to: this browser started no login


@pytest.mark.parametrize("path", ["//evil.example/discovery", "/no-such-page?x=1"])
def test_try_again_never_leads_off_loper(loper: Served, path: str) -> None:
    with down(loper.postgres):  # every page then fails before routing is looked at
        page = loper.get(path)
    assert page.status_code in (404, 503), page.text
    assert 'href="//' not in page.text and not TRY_AGAIN.search(page.text)


@pytest.mark.parametrize("part", ["redis", "postgres"])
@pytest.mark.parametrize("call", sorted(MACHINE_CALLS))
def test_relying_parties_get_a_json_oauth_error_while_storage_is_down(
        loper: Served, part: str, call: str) -> None:
    method, path, kwargs = MACHINE_CALLS[call]
    with down(getattr(loper, part)):
        answer = getattr(loper, method)(path, **kwargs)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Retry-After"] == "5" and answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["error"] == "temporarily_unavailable"
    assert "try again" in body["error_description"]
    assert ERROR_ID.fullmatch(body["error_id"])


@pytest.mark.parametrize("part", ["redis", "postgres"])
def test_discovery_and_jwks_need_no_storage(loper: Served, part: str) -> None:
    with down(getattr(loper, part)):
        for path in ("/.well-known/openid-configuration", "/oidc/jwks"):
            answer = loper.get(path)
            assert answer.status_code == 200, answer.text
            assert answer.headers["Content-Type"] == "application/json"


def test_a_machine_endpoint_never_answers_a_page(loper: Served) -> None:
    wrong_method = loper.get("/oidc/token")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "invalid_request"
    assert ERROR_ID.fullmatch(wrong_method.json()["error_id"])


def test_suppliers_refreshing_metadata_get_the_last_copy_while_the_registry_is_down(
        loper: Served) -> None:
    before = {path: loper.get(path) for path in ("/saml/idp/metadata", "/saml/sp/metadata")}
    with down(loper.postgres):
        for path, earlier in before.items():
            during = loper.get(path)
            assert during.status_code == 200, during.text
            assert during.headers["Content-Type"].startswith("application/samlmetadata+xml")
            assert during.text == earlier.text  # the very copy served before the outage


def test_a_process_that_never_rendered_its_metadata_answers_503_until_the_registry_is_back(
        loper: Served) -> None:
    # a new worker of the same instance
    with served(loper.folder, loper.redis, loper.postgres) as fresh:
        with down(loper.postgres):  # started while it answered; nobody asked for the metadata yet
            _outage_page(fresh.get("/saml/idp/metadata"))
            assert fresh.get("/saml/sp/metadata").status_code == 200  # lists no school
        assert fresh.get("/saml/idp/metadata").status_code == 200
