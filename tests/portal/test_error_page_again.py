"""The language link of an error page that answered a school's or an app's message
(broker/web/error_again.py): the same page shown again from a signed token, never the protocol
endpoint fetched again; and /error's answer to tokens it did not make."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, base64_decode, base64_encode

from app import create_app
from broker.errors import ServiceUnavailable
from broker.metrics import REGISTRY
from broker.web import error_again
from broker.web.errors import Shown
from tests.admin.conftest import FEDERATION
from tests.portal.error_page import ErrorPage, read_page
from tests.registry.conftest import initialised_instance

PUPIL_PROTOCOL_ERRORS = [  # (method, path, parameters): each answers with a pupil's page
    ("GET", "/oidc/callback", {}),
    ("GET", "/oidc/callback", {"code": "x", "state": "forged"}),
    ("GET", "/oidc/logged-out", {"state": "forged"}),
    ("POST", "/saml/sp/acs", {"SAMLResponse": "garbage"}),
    ("GET", "/saml/idp/sso", {"SAMLRequest": "garbage"}),
    ("POST", "/saml/idp/sso", {"SAMLRequest": "garbage"}),
    ("GET", "/saml/idp/slo", {"SAMLRequest": "garbage"}),
    ("POST", "/saml/idp/slo", {"SAMLRequest": "garbage"}),
    ("GET", "/saml/sp/slo", {"SAMLResponse": "garbage"}),
    ("POST", "/saml/sp/slo", {"SAMLRequest": "garbage"}),
    ("GET", "/oidc/authorize", {"client_id": "nobody", "response_type": "code"}),
    ("POST", "/oidc/authorize", {"client_id": "nobody", "response_type": "code"}),
    ("GET", "/oidc/logout", {"id_token_hint": "garbage"}),
    ("POST", "/oidc/logout", {"id_token_hint": "garbage"}),
]
MARK = "EVIL-MARK"
"""In every hostile token: it must never be shown."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app({"instance": initialised_instance(
        tmp_path_factory.mktemp("error-again"), FEDERATION)})
    yield application
    application.extensions["loper"].registry.close()
    application.extensions["loper"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()  # a browser of its own: no language remembered


def ask(client: FlaskClient, method: str, path: str, params: dict[str, str]) -> ErrorPage:
    answer = client.open(path, method=method, query_string=params if method == "GET" else None,
                         data=params if method == "POST" else None)
    return read_page(answer.status_code, answer.get_data(as_text=True))


def follow(client: FlaskClient, link: str | None) -> ErrorPage:
    assert link is not None and link.startswith("/error?page=") and "//" not in link, link
    answer = client.get(link)
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    return read_page(answer.status_code, answer.get_data(as_text=True))


def failures(code: str) -> float:
    return REGISTRY.get_sample_value("loper_failures_total", {"reason": code}) or 0.0


@pytest.mark.parametrize(("method", "path", "params"), PUPIL_PROTOCOL_ERRORS)
def test_a_protocol_endpoints_error_page_can_be_read_in_english(
        client: FlaskClient, method: str, path: str, params: dict[str, str]) -> None:
    dutch = ask(client, method, path, params)
    assert 400 <= dutch.status < 500 and dutch.code and dutch.error_id, (method, path, dutch)
    assert dutch.lang == "nl" and dutch.language_link is not None
    assert dutch.language_link.endswith("&lang=en")
    english = follow(client, dutch.language_link)
    assert english.lang == "en"
    assert (english.status, english.code, english.error_id, english.ways) == (
        dutch.status, dutch.code, dutch.error_id, dutch.ways)


def test_the_page_shown_again_is_not_a_new_error_and_links_back_to_dutch(
        client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    dutch = ask(client, "POST", "/saml/sp/acs", {"SAMLResponse": "garbage"})
    counted = failures("school_response_rejected")
    caplog.clear()
    english = follow(client, dutch.language_link)
    again = follow(client, english.language_link)
    assert not [r for r in caplog.records if r.name.startswith("loper.errors")]
    assert failures("school_response_rejected") == counted
    assert english.language_link == dutch.language_link.replace("lang=en", "lang=nl")
    assert (again.lang, again.error_id, again.ways) == ("nl", dutch.error_id, dutch.ways)


def test_every_way_on_is_kept_as_loper_put_it(app: Flask, client: FlaskClient) -> None:
    shown = Shown(400, "login_cancelled", {}, back_url="https://app.example/start",
                  supplier_name="Rekenwonders", other_school_url="/discovery?login=L1",
                  cancel_url="/discovery/cancel?login=L1")
    page = error_again.Page(shown, "0123456789ab")
    with app.test_request_context("/saml/sp/acs", method="POST"):
        link = error_again.language_url(page)
    english = follow(client, link)
    assert (english.status, english.code, english.error_id) == (400, "login_cancelled",
                                                                "0123456789ab")
    assert english.ways == (("/discovery/cancel?login=L1", "stop"),
                            ("/discovery?login=L1", None), ("/me", None))


def test_a_try_again_link_never_goes_into_the_token(app: Flask, client: FlaskClient) -> None:
    """A 503 page's "try again" is the protocol message's own URL (a one-use code, a SAML
    message naming the pupil): the page in the other language leaves it out."""
    with app.test_request_context("/oidc/callback?code=one-use&state=s"):
        link = error_again.language_url(error_again.Page(Shown(503, ServiceUnavailable.code),
                                                         "0123456789ab"))
    assert link is not None and "one-use" not in link
    sealed = link.split("page=", 1)[1].split("&", 1)[0]
    assert b"one-use" not in base64_decode(sealed.rsplit(".", 2)[0])
    assert "try-again" not in [way for _, way in follow(client, link).ways]


def test_a_page_too_long_for_a_link_gets_none(app: Flask) -> None:
    shown = Shown(403, "supplier_suspended", {"school": "S", "supplier": "A"},
                  reason="x" * 5000)
    with app.test_request_context("/saml/sp/acs", method="POST"):
        assert error_again.language_url(error_again.Page(shown, "0123456789ab")) is None


# -- tokens /error did not make -------------------------------------------------------------

def sign_with(signer: TimestampSigner, payload: bytes) -> str:
    return signer.sign(base64_encode(payload)).decode()


def ours(app: Flask) -> TimestampSigner:
    return error_again.signer(app.config["SECRET_KEY"])


def fields(**changed: object) -> bytes:
    """A page as Loper would sign it, with `changed` fields."""
    page = {"status": 403, "code": "supplier_suspended", "error_id": "0123456789ab",
            "params": {"school": MARK, "supplier": MARK}, "reason": MARK,
            "back_url": f"https://{MARK}.example", **changed}
    return json.dumps({k: v for k, v in page.items() if v is not None}).encode()


class _Old(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - error_again.MAX_AGE - 60


def tampered(app: Flask) -> str:
    payload, rest = sign_with(ours(app), fields()).split(".", 1)
    changed = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    return f"{changed}.{rest}"


HOSTILE: dict[str, Callable[[Flask], str]] = {
    "tampered": tampered,
    "expired": lambda app: sign_with(_Old(app.config["SECRET_KEY"], salt=error_again.SALT,
                                          key_derivation="hmac", digest_method=hashlib.sha256),
                                     fields()),
    "10 kB": lambda app: "A" * 10240,
    "10 kB, signed": lambda app: sign_with(ours(app), fields(reason=MARK * 1000)),
    "another salt": lambda app: sign_with(TimestampSigner(
        app.config["SECRET_KEY"], salt="itsdangerous", key_derivation="hmac",
        digest_method=hashlib.sha256), fields()),
    "another key": lambda app: sign_with(error_again.signer("another secret"), fields()),
    "unsigned": lambda app: base64_encode(fields()).decode(),
    "garbage": lambda app: "%%<script>",
    "empty": lambda app: "",
    "no JSON": lambda app: sign_with(ours(app), MARK.encode()),
    "no base64": lambda app: ours(app).sign(f"!{MARK}!").decode(),
    "a list": lambda app: sign_with(ours(app), json.dumps([MARK]).encode()),
    "status as text": lambda app: sign_with(ours(app), fields(status="403")),
    "status 200": lambda app: sign_with(ours(app), fields(status=200)),
    "markup as code": lambda app: sign_with(ours(app), fields(code="<b>x</b>")),
    "no error id": lambda app: sign_with(ours(app), fields(error_id=None)),
    "another error id": lambda app: sign_with(ours(app), fields(error_id="x" * 12)),
    "a number as name": lambda app: sign_with(ours(app), fields(params={"school": 1})),
    "a number as reason": lambda app: sign_with(ours(app), fields(reason=5)),
    "a field of its own": lambda app: sign_with(ours(app), fields(script=MARK)),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_token_loper_did_not_make_gets_a_400_page_of_its_own(
        app: Flask, client: FlaskClient, case: str) -> None:
    answer = client.get("/error", query_string={"page": HOSTILE[case](app)})
    html = answer.get_data(as_text=True)
    page = read_page(answer.status_code, html)
    assert (page.status, page.code, page.lang) == (400, "error_page_gone", "nl"), case
    assert page.error_id and page.error_id != "0123456789ab"
    assert MARK not in html and "<b>x</b>" not in html
    assert answer.headers["Cache-Control"] == "no-store"
    assert all(href == "/me" for href, _ in page.ways), page.ways


def test_the_refusal_speaks_english_too(client: FlaskClient) -> None:
    dutch = read_page(*_get(client, "/error", {"page": "garbage"}))
    english = follow(client, dutch.language_link)  # that page shown again, "garbage" not echoed
    assert (english.status, english.code, english.lang) == (400, "error_page_gone", "en")
    assert english.error_id == dutch.error_id
    assert read_page(*_get(client, "/error", {})).code == "error_page_gone"  # no token at all


def _get(client: FlaskClient, path: str, params: dict[str, str]) -> tuple[int, str]:
    answer = client.get(path, query_string=params)
    return answer.status_code, answer.get_data(as_text=True)
