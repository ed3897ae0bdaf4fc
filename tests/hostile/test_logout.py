"""Hostile single logout messages at Loper's SAML IdP (/saml/idp/slo), sent for Taalapp (the
attacker holds its signing key) to a browser where a pupil is logged in. A refused message
ends on Loper's 4xx page with an error id and logs nobody out; a LogoutRequest naming another
pupil ends nobody's session and is answered exactly as one for a session that is already gone.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from broker.keys import KeyPair
from demo.keys import ensure_keypair
from tests.flows.conftest import Federation
from tests.hostile.attacker import deflated, query_of, refused, send, signed_query
from tests.peers.browser import Browser, decode_saml

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Attacker:
    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        supplier = federation.registry.supplier("taalapp")
        assert supplier is not None and supplier.protocol == "saml"
        self.entity_id = supplier.config.entity_id
        folder = federation.running.folder / "peers" / "taalapp"
        self.key = KeyPair(*ensure_keypair(folder, "taalapp-sp"))
        self.slo = federation.issuer + "/saml/idp/slo"

    def message(self, name_id: str, *, kind: str = "LogoutRequest",
                destination: str | None = None, age: float = 0,
                in_response_to: str | None = None, issuer: str | None = None) -> bytes:
        issued = _instant(datetime.now(UTC) - timedelta(seconds=age))
        body = (f'<saml:NameID Format="{PERSISTENT}">{name_id}</saml:NameID>'
                if kind == "LogoutRequest" else
                '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:'
                'Success"/></samlp:Status>')
        reply = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        return (f'<samlp:{kind} xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
                f'ID="_{secrets.token_hex(16)}" Version="2.0" IssueInstant="{issued}" '
                f'Destination="{destination or self.slo}"{reply}>'
                f'<saml:Issuer>{issuer or self.entity_id}</saml:Issuer>{body}</samlp:{kind}>'
                ).encode()

    def url(self, xml: bytes, *, relay_state: str | None = None, signed: bool = True,
            key: Path | None = None) -> str:
        param = "SAMLResponse" if b"LogoutResponse" in xml[:40] else "SAMLRequest"
        fields = {param: deflated(xml)}
        if relay_state is not None:
            fields["RelayState"] = relay_state
        if signed:
            return f"{self.slo}?{signed_query(fields, key or self.key.key)}"
        return f"{self.slo}?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items())


@pytest.fixture(scope="module")
def attacker(federation: Federation) -> Attacker:
    return Attacker(federation)


@pytest.fixture
def pupil(federation: Federation) -> Iterator[Browser]:
    with Browser() as logged_in:
        logged_in.get(f"{federation.supplier('taalapp')}/login", {"school": "regenboog"})
        logged_in.login(federation.pupil.id)
        assert logged_in.url.startswith(federation.supplier("taalapp")), logged_in.url
        yield logged_in


def session_alive(federation: Federation, browser: Browser) -> bool:
    session_id = browser.session.cookies.get("loper_sso")
    return bool(session_id) and federation.broker.store.get_session(session_id) is not None


def pseudonym(federation: Federation) -> str:
    return federation.pseudonym_of("regenboog", federation.pupil, "taalapp")


def test_an_unsigned_logout_request_logs_nobody_out(
        federation: Federation, attacker: Attacker, pupil: Browser) -> None:
    xml = attacker.message(pseudonym(federation))
    refused(send(pupil, "GET", attacker.url(xml, signed=False)), 403, "logout_rejected")
    posted = send(pupil, "POST", attacker.slo,
                  data={"SAMLRequest": base64.b64encode(xml).decode()})
    refused(posted, 403, "not signed")
    assert session_alive(federation, pupil)


def test_a_logout_request_signed_with_another_key_logs_nobody_out(
        federation: Federation, attacker: Attacker, pupil: Browser, tmp_path: Path) -> None:
    other = KeyPair(*ensure_keypair(tmp_path, "intruder"))
    xml = attacker.message(pseudonym(federation))
    refused(send(pupil, "GET", attacker.url(xml, key=other.key)), 403,
            "does not match the sender")
    assert session_alive(federation, pupil)


@pytest.mark.parametrize(("destination", "age", "says"), [
    ("https://elsewhere.example/slo", 0, "another Destination"),
    (None, 3600, "too long ago"),
])
def test_a_stale_or_misaddressed_logout_request_is_refused(
        federation: Federation, attacker: Attacker, pupil: Browser, destination: str | None,
        age: float, says: str) -> None:
    xml = attacker.message(pseudonym(federation), destination=destination, age=age)
    refused(send(pupil, "GET", attacker.url(xml)), 403, says)
    assert session_alive(federation, pupil)


def test_another_pupils_name_ends_nobodys_session_and_reveals_nothing(
        federation: Federation, attacker: Attacker, pupil: Browser) -> None:
    other = federation.pseudonym_of("regenboog", federation.teacher, "taalapp")
    answer = send(pupil, "GET", attacker.url(attacker.message(other)))
    assert session_alive(federation, pupil)
    with Browser() as nobody:  # the same request where no session exists at all
        alone = send(nobody, "GET", attacker.url(attacker.message(other)))
    for response in (answer, alone):
        assert response.status_code == 303
        location = response.headers["Location"]
        assert location.startswith(federation.supplier("taalapp") + "/slo?")
        sent = decode_saml(query_of(location)["SAMLResponse"])
        assert "status:Success" in sent and "PartialLogout" not in sent
    assert not any(c.startswith("loper_sso=") for c in answer.raw.headers.getlist("Set-Cookie"))


def test_a_replayed_logout_request_is_refused(
        federation: Federation, attacker: Attacker, pupil: Browser) -> None:
    url = attacker.url(attacker.message(pseudonym(federation)))
    first = send(pupil, "GET", url)
    assert first.status_code == 303 and not session_alive(federation, pupil)
    with Browser() as again:
        refused(send(again, "GET", url), 403, "used once already")


def test_relay_state_never_becomes_a_redirect(
        federation: Federation, attacker: Attacker, pupil: Browser) -> None:
    evil = "https://evil.example/phish"
    pupil.get(attacker.url(attacker.message(pseudonym(federation)), relay_state=evil))
    visited = [r.url for r in pupil.history]
    assert not any(url.startswith(evil) for url in visited)
    answered = [url for url in visited if url.startswith(federation.supplier("taalapp"))]
    assert answered and answered[-1].startswith(federation.supplier("taalapp") + "/slo?")
    assert query_of(answered[-1])["RelayState"] == evil  # echoed to the app, never followed
    refused(send(pupil, "GET", attacker.url(attacker.message(pseudonym(federation)),
                                            relay_state="x" * 1025)), 403, "RelayState")


def test_a_logout_response_that_answers_no_request_of_lopers_is_refused(
        federation: Federation, attacker: Attacker, pupil: Browser) -> None:
    xml = attacker.message("", kind="LogoutResponse", in_response_to="_" + "ab" * 20)
    refused(send(pupil, "GET", attacker.url(xml, relay_state="no-such-logout")), 403,
            "belongs to no logout")
    assert session_alive(federation, pupil)


def test_a_logout_response_for_another_request_in_a_running_logout_is_refused(
        federation: Federation, attacker: Attacker, pupil: Browser) -> None:
    started = send(pupil, "GET", federation.issuer + "/logout")
    token = started.text.split('name="csrf_token" value="')[1].split('"')[0]
    step = send(pupil, "POST", federation.issuer + "/logout", data={"csrf_token": token})
    assert step.status_code == 303  # to the school first, with Loper's LogoutRequest
    at_school = send(pupil, "GET", step.headers["Location"])
    step = send(pupil, "GET", at_school.headers["Location"])  # the school's answer, at Loper
    assert step.status_code == 303  # then to Taalapp's SLO with Loper's LogoutRequest
    assert step.headers["Location"].startswith(federation.supplier("taalapp") + "/slo?")
    run = query_of(step.headers["Location"])["RelayState"]
    xml = attacker.message("", kind="LogoutResponse", in_response_to="_" + "cd" * 20)
    refused(send(pupil, "GET", attacker.url(xml, relay_state=run)), 403,
            "answers no LogoutRequest")


def test_the_schools_unsigned_logout_request_logs_nobody_out(
        federation: Federation, attacker: Attacker, pupil: Browser) -> None:
    school = federation.registry.school("regenboog")
    assert school is not None and school.protocol == "saml"
    slo = federation.issuer + "/saml/sp/slo"
    xml = attacker.message(federation.pupil.id, issuer=school.config.entity_id,
                           destination=slo)
    refused(send(pupil, "GET", f"{slo}?SAMLRequest={quote(deflated(xml), safe='')}"), 403,
            "logout_rejected")
    answer = attacker.message("", kind="LogoutResponse", issuer=school.config.entity_id,
                              destination=slo, in_response_to="_" + "ef" * 20)
    refused(send(pupil, "GET", f"{slo}?SAMLResponse={quote(deflated(answer), safe='')}"
                               "&RelayState=made-up"), 403, "belongs to no logout")
    assert session_alive(federation, pupil)


def test_garbage_at_the_logout_endpoint_is_a_clear_400(federation: Federation) -> None:
    url = federation.issuer + "/saml/idp/slo"
    for params in ({}, {"SAMLRequest": "not base64!"}, {"SAMLRequest": deflated(b"<a/>")}):
        response = requests.get(url, params=params, timeout=10, allow_redirects=False)
        assert response.status_code == 400 and "Traceback" not in response.text
