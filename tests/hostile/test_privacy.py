"""Privacy: what a pupil's identity leaks, and to whom, across the running federation.

Canaries are the demo people's own values: the school's subject id, the ECK iD and the e-mail
address (and, for the logs, the names too). During real logins in every protocol pair they are
swept through all that leaves Loper or stays behind: every byte a supplier receives (front
channel requests, decrypted assertions, the token and userinfo answers of the back channel,
ID token payloads), every log record of the process (Loper's and its libraries', not the demo
peers' or the test server's), the error pages of refused answers, and the registry database
(the release ledger). A value may appear only where the school released it to that supplier.

Covered elsewhere and not repeated here: tests/flows/test_saml_to_saml.py,
test_saml_to_oidc.py, test_oidc_to_saml.py and test_oidc_to_oidc.py (the same pupil gets an
unrelated persistent identifier at each supplier, stable across logins and browsers, and
exactly the released attributes), tests/hostile/test_saml_idp.py (a NameIDPolicy
SPNameQualifier or a Subject naming another supplier's identifier).

Classes and cases: canary sweeps 5, unrelated identifiers 2, another supplier's pseudonym 3.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
import xmlsec
from lxml import etree

from broker.saml.crypto_decrypt import decrypt_first
from demo.keys import ensure_keypair
from demo.people import DemoPerson
from tests.flows.conftest import LYCEUM, REGENBOOG, Federation, log_in_via_picker, whoami
from tests.flows.oidc_clients import RpClient, register_client, strict_rp
from tests.flows.strict_rp import StrictRp
from tests.hostile.attacker import (
    SAML_NS,
    LogSink,
    SchoolSide,
    Traffic,
    authn_request,
    deflated,
    encode,
    refused,
    root_of,
    send,
    signed_query,
    xml_parser,
)
from tests.peers.browser import Browser, decode_saml

SUPPLIERS = ("rekenwonders", "taalapp", "leesplein")
BACK_CHANNEL = ("/oidc/token", "/oidc/userinfo")
XENC = "http://www.w3.org/2001/04/xmlenc#"
NOT_OURS = ("werkzeug", "demo", "urllib3")
"""Loggers of the test servers, the demo peers and the HTTP client of the tests."""


@pytest.fixture(scope="module")
def wiretap(federation: Federation, traffic: Traffic) -> Traffic:
    traffic.tap(federation.running.apps["broker"], BACK_CHANNEL)
    return traffic


@dataclass
class Sweep:
    """Everything each supplier received, and what Loper logged, as text."""

    received: dict[str, list[str]] = field(default_factory=dict)
    logged: list[str] = field(default_factory=list)

    def add(self, supplier: str, text: str) -> None:
        self.received.setdefault(supplier, []).append(text)

    def at(self, supplier: str) -> str:
        return "\n".join(self.received.get(supplier, []))

    def everywhere(self) -> str:
        return "\n".join(text for texts in self.received.values() for text in texts)


def _decrypted(federation: Federation, supplier: str, xml: bytes) -> str:
    """A SAMLResponse as the supplier reads it: encrypted assertions opened with its key."""
    root = etree.fromstring(xml, xml_parser())
    if root.find(".//xenc:EncryptedData", {"xenc": XENC}) is None:
        return xml.decode()
    folder = federation.running.folder / "peers" / supplier
    key_file, _ = ensure_keypair(folder, f"{supplier}-sp-encryption")
    key = xmlsec.Key.from_file(str(key_file), xmlsec.constants.KeyDataFormatPem)
    opened = decrypt_first(root, key)
    return etree.tostring(opened).decode()


def _jwt_payloads(text: str) -> str:
    """The payloads of the JWTs in a text, decoded (an ID token's claims)."""
    found = []
    for token in re.findall(r"eyJ[\w-]+\.([\w-]+)\.[\w-]*", text):
        found.append(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    return "\n".join(found)


def collect(federation: Federation, traffic: Traffic, hits_mark: int, answers_mark: int,
            logs: LogSink, logs_mark: int) -> Sweep:
    """What the suppliers received and Loper logged since the marks. Loper's back-channel
    answers (token, userinfo) count as Leesplein's: the one OIDC supplier these flows use."""
    sweep = Sweep()
    for hit in traffic.since(hits_mark):
        if hit.peer in SUPPLIERS:
            text = f"{hit.path}?{hit.query}\n{hit.body.decode('utf-8', 'replace')}"
            form = dict(_form_fields(hit.body))
            if "SAMLResponse" in form:
                text += "\n" + _decrypted(federation, hit.peer,
                                          decode_saml(form["SAMLResponse"]).encode())
            sweep.add(hit.peer, text)
    with traffic.lock:
        answers = list(traffic.answers[answers_mark:])
    for path, body in answers:
        text = body.decode("utf-8", "replace")
        sweep.add("leesplein", f"{path}\n{text}\n{_jwt_payloads(text)}")
    for record in logs.since(logs_mark):
        if not record.name.startswith(NOT_OURS):
            sweep.logged.append(LogSink.text(record))
    return sweep


def _form_fields(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("ascii"), keep_blank_values=True)
    except UnicodeDecodeError:
        return []


def canaries(person: DemoPerson) -> dict[str, str]:
    return {"subject id": person.id, "ECK iD": person.eck_id, "e-mail": person.email,
            "ECK iD suffix": person.eck_id.rsplit("/", 1)[1]}


def assert_absent(text: str, values: dict[str, str], where: str) -> None:
    for name, value in values.items():
        assert value not in text, f"the {name} reached {where}"


def assert_logs_clean(sweep: Sweep, *people: DemoPerson) -> None:
    assert any(line.startswith(("loper.flow released ", "loper.errors request failed "))
               for line in sweep.logged), "the sweep saw none of Loper's lines"
    logged = "\n".join(sweep.logged)
    for person in people:
        names = {"given name": person.given_name, "family name": person.family_name}
        assert_absent(logged, {**canaries(person), **names}, "Loper's logs")


def assert_ledger_clean(federation: Federation, *people: DemoPerson) -> None:
    instance = federation.broker.settings.instance
    stored = b"".join(path.read_bytes() for path in instance.glob("registry.sqlite*"))
    assert stored, "no registry database found"
    text = stored.decode("latin-1")
    for person in people:
        assert_absent(text, canaries(person), "the registry (ledger)")


@pytest.fixture
def marks(traffic: Traffic, logs: LogSink, wiretap: Traffic) -> Iterator[tuple[int, int, int]]:
    with traffic.lock:
        answers = len(traffic.answers)
    yield traffic.mark(), answers, logs.mark()


# -- canary sweeps ----------------------------------------------------------------------------

def test_a_saml_pupil_at_two_saml_suppliers(federation: Federation, browser: Browser,
                                            traffic: Traffic, logs: LogSink,
                                            marks: tuple[int, int, int]) -> None:
    pupil = federation.pupil
    log_in_via_picker(browser, federation.supplier("rekenwonders"), pupil, REGENBOOG)
    browser.get(f"{federation.supplier('taalapp')}/login")
    assert whoami(browser, federation.supplier("taalapp"))["status"] == "ok"
    sweep = collect(federation, traffic, *marks[:2], logs, marks[2])
    assert {"rekenwonders", "taalapp"} <= set(sweep.received)
    assert "Sanne" in sweep.at("rekenwonders"), "the released given name arrived in clear"
    assert_absent(sweep.everywhere(), canaries(pupil), "a supplier")
    assert_logs_clean(sweep, pupil)
    assert_ledger_clean(federation, pupil)


def test_a_saml_pupil_at_two_oidc_suppliers(federation: Federation, browser: Browser,
                                            rp: StrictRp, traffic: Traffic, logs: LogSink,
                                            marks: tuple[int, int, int]) -> None:
    """Leesplein asks `openid profile email`, the strict RP `openid profile`: neither gets
    the e-mail, which the school did not release to Leesplein and which needs the email scope
    at the strict RP."""
    pupil = federation.pupil
    log_in_via_picker(browser, federation.supplier("leesplein"), pupil, REGENBOOG)
    assert whoami(browser, federation.supplier("leesplein"))["status"] == "ok"
    login = rp.begin(scope="openid profile", school="regenboog")
    browser.get(login.url)
    tokens = rp.finish(login, browser.url)
    assert tokens.claims.get("given_name") == "Sanne"
    strict = "\n".join([json.dumps(tokens.body), json.dumps(tokens.id_token),
                        rp.userinfo(tokens.access_token).text, browser.url])
    sweep = collect(federation, traffic, *marks[:2], logs, marks[2])
    assert "Sanne" in sweep.at("leesplein")
    assert_absent(sweep.everywhere(), canaries(pupil), "an OIDC supplier")
    assert_absent(strict, canaries(pupil), "the strict RP")
    assert_logs_clean(sweep, pupil)
    assert_ledger_clean(federation, pupil)


def test_an_oidc_pupil_at_saml_and_oidc_suppliers(federation: Federation, browser: Browser,
                                                  traffic: Traffic, logs: LogSink,
                                                  marks: tuple[int, int, int]) -> None:
    """The Lyceum releases the e-mail to Leesplein only: it may arrive there, nowhere else."""
    pupil = federation.lyceum_pupil
    log_in_via_picker(browser, federation.supplier("rekenwonders"), pupil, LYCEUM)
    browser.get(f"{federation.supplier('leesplein')}/login")
    assert whoami(browser, federation.supplier("leesplein"))["status"] == "ok"
    sweep = collect(federation, traffic, *marks[:2], logs, marks[2])
    assert pupil.email in sweep.at("leesplein"), "released to Leesplein: it must arrive"
    others = {k: v for k, v in canaries(pupil).items() if k != "e-mail"}
    assert_absent(sweep.everywhere(), others, "a supplier")
    assert_absent(sweep.at("rekenwonders"), canaries(pupil), "Rekenwonders")
    assert_logs_clean(sweep, pupil)
    assert_ledger_clean(federation, pupil)


def test_a_teacher_with_more_attributes(federation: Federation, browser: Browser,
                                        traffic: Traffic, logs: LogSink,
                                        marks: tuple[int, int, int]) -> None:
    teacher = federation.teacher
    log_in_via_picker(browser, federation.supplier("taalapp"), teacher, REGENBOOG)
    assert whoami(browser, federation.supplier("taalapp"))["status"] == "ok"
    sweep = collect(federation, traffic, *marks[:2], logs, marks[2])
    assert "leerkrachten" in sweep.at("taalapp"), "the released groups arrived"
    assert_absent(sweep.everywhere(), canaries(teacher), "a supplier")
    assert_logs_clean(sweep, teacher)


def test_refused_answers_show_and_log_nothing_of_the_pupil(federation: Federation,
                                                          school: SchoolSide, logs: LogSink,
                                                          traffic: Traffic) -> None:
    """A school's answer that fails validation carries the pupil's data: Loper's error page
    and log lines say what was wrong without repeating any of it (the school's own
    StatusMessage is shown, as the school wrote it)."""
    pupil = federation.pupil
    mark = logs.mark()
    pages = []
    for change in ("signature", "audience", "status"):
        with Browser() as browser:
            started = school.start(browser)
            root = root_of(school.answer(started))
            if change == "signature":
                root.find(".//saml:AttributeValue", SAML_NS).text = pupil.email
            elif change == "audience":
                root = root_of(school.tamper(started).edit(_foreign_audience).signed())
            else:
                code = root.find("samlp:Status/samlp:StatusCode", SAML_NS)
                code.set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
                etree.SubElement(root.find("samlp:Status", SAML_NS),
                                 f"{{{SAML_NS['samlp']}}}StatusMessage").text = "Locked"
            response = school.post(browser, started, encode(root))
            refused(response, 403)
            pages.append(response.text)
    sweep = Sweep(logged=[LogSink.text(r) for r in logs.since(mark)
                          if not r.name.startswith(NOT_OURS)])
    assert_absent("\n".join(pages), canaries(pupil), "an error page")
    assert_logs_clean(sweep, pupil)


def _foreign_audience(root: etree._Element) -> None:
    root.find(".//saml:Audience", SAML_NS).text = "https://elsewhere.example/sp"


# -- unrelated identifiers -------------------------------------------------------------------

def _shared(a: str, b: str, size: int = 8) -> set[str]:
    """Substrings of `size` characters that two identifiers share (after their prefix)."""
    a, b = a.split("-", 1)[-1], b.split("-", 1)[-1]
    return {a[i:i + size] for i in range(len(a) - size + 1)} & {
        b[i:i + size] for i in range(len(b) - size + 1)}


def test_a_saml_name_id_and_an_oidc_sub_are_unrelated(federation: Federation,
                                                      browser: Browser) -> None:
    log_in_via_picker(browser, federation.supplier("rekenwonders"), federation.pupil)
    name_id = str(whoami(browser, federation.supplier("rekenwonders"))["name_id"])
    browser.get(f"{federation.supplier('leesplein')}/login")
    sub = str(whoami(browser, federation.supplier("leesplein"))["sub"])
    assert name_id != sub and not _shared(name_id, sub)
    for identifier in (name_id, sub):
        assert federation.pupil.id not in identifier


def test_transient_name_ids_are_fresh_and_unrelated(federation: Federation) -> None:
    """A supplier asking for a transient NameID gets a new random value at every login,
    never its persistent pseudonym."""
    taalapp = federation.registry.supplier("taalapp")
    assert taalapp is not None and taalapp.protocol == "saml"
    folder = federation.running.folder / "peers" / "taalapp"
    key_file, _ = ensure_keypair(folder, "taalapp-sp")
    sso = federation.running.broker + "/saml/idp/sso"
    policy = ('<samlp:NameIDPolicy '
              'Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"/>')
    seen = []
    with Browser() as browser:
        log_in_via_picker(browser, federation.supplier("rekenwonders"), federation.pupil)
        for _ in range(2):
            xml = authn_request(taalapp.config.entity_id, destination=sso,
                                name_id_policy=policy)
            query = signed_query({"SAMLRequest": deflated(xml)}, key_file)
            answer = send(browser, "GET", f"{sso}?{query}&school=regenboog")
            form = re.search(r'name="SAMLResponse" value="([^"]+)"', answer.text)
            assert form is not None, answer.text[:300]
            root = etree.fromstring(decode_saml(form.group(1)).encode(), xml_parser())
            seen.append(root.findtext(".//saml:Subject/saml:NameID", "", SAML_NS))
    persistent = federation.pseudonym_of("regenboog", federation.pupil, "taalapp")
    assert seen[0] != seen[1] and persistent not in seen
    assert not _shared(seen[0], persistent) and not _shared(seen[1], persistent)


# -- another supplier's pseudonym --------------------------------------------------------------

@pytest.fixture(scope="module")
def rival(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, "rival-rp", [f"{catcher}/rival/cb"],
                           {"regenboog": ["given_name"]}, offline_access=True)


@pytest.fixture(scope="module")
def victim(federation: Federation, catcher: str) -> RpClient:
    return register_client(federation, "victim-rp", [f"{catcher}/victim/cb"],
                           {"regenboog": ["given_name"]}, offline_access=True)


def _logged_in(federation: Federation, browser: Browser, rp: StrictRp) -> Any:
    login = rp.begin(scope="openid offline_access", school="regenboog")
    browser.get(login.url)
    if browser.url.startswith(federation.running.school):
        browser.login(federation.pupil.id)
    return login, rp.code(login, browser.url)


def test_another_clients_code_gives_nothing(federation: Federation, browser: Browser,
                                           rival: RpClient, victim: RpClient) -> None:
    with strict_rp(federation.issuer, victim) as victims, \
            strict_rp(federation.issuer, rival) as rivals:
        login, code = _logged_in(federation, browser, victims)
        stolen = rivals.redeem(login, code, redirect_uri=victim.redirect_uri)
        assert stolen.status in (400, 401) and "access_token" not in stolen.body
        assert stolen.body["error"] in ("invalid_grant", "invalid_client")


def test_another_clients_refresh_token_gives_nothing_and_revokes_it(
        federation: Federation, browser: Browser, rival: RpClient, victim: RpClient) -> None:
    with strict_rp(federation.issuer, victim) as victims, \
            strict_rp(federation.issuer, rival) as rivals:
        login, code = _logged_in(federation, browser, victims)
        tokens = victims.redeem(login, code)
        assert tokens.refresh_token
        stolen = rivals.refresh(tokens.refresh_token)
        assert stolen.status == 400 and "access_token" not in stolen.body
        assert victims.refresh(tokens.refresh_token).status == 400, "a leaked token is dead"


def test_another_client_cannot_revoke_a_token(federation: Federation, browser: Browser,
                                              rival: RpClient, victim: RpClient) -> None:
    with strict_rp(federation.issuer, victim) as victims, \
            strict_rp(federation.issuer, rival) as rivals:
        login, code = _logged_in(federation, browser, victims)
        tokens = victims.redeem(login, code)
        revoke = rivals.http.post(federation.issuer + "/oidc/revoke", timeout=10,
                                  data={"token": tokens.access_token},
                                  auth=(rival.client_id, rival.secret))
        assert revoke.status_code == 200  # RFC 7009: a quiet 200, and nothing revoked
        userinfo = victims.userinfo(tokens.access_token)
        assert userinfo.status_code == 200
        assert userinfo.json()["sub"] == federation.pseudonym_of("regenboog", federation.pupil,
                                                                 "victim-rp")
