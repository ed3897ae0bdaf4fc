"""Loper as a SAML SP: hostile school answers posted to /saml/sp/acs of the running federation.

Each case starts a real login in a browser of its own (so the answer meets a pending login and
is parsed), posts what the attacker made, and expects a refusal: a 4xx page with an error id,
no SSO session cookie, nothing new in the state store, no request to any peer, and no log line
of Loper above a warning (each failure logged with its reason code). The few answers that must
be accepted (baselines, and reading a NameID with a comment in full) say so.

Classes and cases: signature wrapping 11, comment injection 3, signed/unsigned matrix 7, keys
7, algorithm downgrade 7, replay and binding 10, time 11, audience/destination/recipient/issuer
and status 15, XML parsing and sizes 17, repeated parameters 4.

Covered elsewhere and not repeated here:
- tests/upstream/test_saml.py (SamlUpstream against a pysaml2 IdP): one wrong field each
  (Destination missing or foreign, Recipient, expired SubjectConfirmation, no NotOnOrAfter,
  expired or not yet valid Conditions, sender-vouches, no or a foreign second
  AudienceRestriction, another school's Issuer on Response or Assertion, no InResponseTo, no
  AuthnStatement, no Subject, two assertions, an error status with an assertion), unsigned,
  another school's key (plain, encrypted, response-signed), edited after signing, duplicate-ID
  wrapping, Advice attributes, SHA-1 only for a legacy school, transient and emailAddress
  NameIDs, undecodable input, and a hypothesis fuzz of mangled responses.
- tests/saml/test_crypto_tamper.py (in-process backend next to xmlsec1): wrapping in
  samlp:Extensions and ds:Object, a foreign Reference, a signature moved to the Response, a
  rogue key with and without KeyInfo, a rogue certificate next to a genuine signature.
- tests/flows/test_saml_edges.py (HTTP): unsolicited answers, an answer meant for another
  browser, a replay after success, a tampered answer, garbage at the ACS.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

from broker.keys import KeyPair
from demo.people import DEFAULT_PEOPLE
from tests.flows.conftest import Federation, whoami
from tests.hostile.attacker import (
    SAML_NS,
    Listener,
    LogSink,
    SchoolSide,
    Started,
    StateWatch,
    Traffic,
    add_saml_school,
    c14n,
    encode,
    reason_coded,
    refused,
    resign,
    root_of,
    send,
)
from tests.peers.browser import Browser, parse_forms
from tests.saml.tamper import hmac_resign
from tests.upstream.saml_idp import make_keypair

NS = SAML_NS
DS = NS["ds"]
MORE = "http://www.w3.org/2001/04/xmldsig-more#"
Change = Callable[[etree._Element], None]
"""An edit of the answer's XML (a parsed Response whose assertion is signed)."""


def iso(seconds: float) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Acs:
    """Posts the attacker's answers to Loper's ACS and checks how they end."""

    def __init__(self, federation: Federation, school: SchoolSide, state: StateWatch,
                 traffic: Traffic, logs: LogSink) -> None:
        self.federation, self.school = federation, school
        self.state, self.traffic, self.logs = state, traffic, logs

    def refuses(self, make: Callable[[Started], str | dict[str, str] | list[tuple[str, str]]],
                status: int | tuple[int, ...] = 403, *words: str,
                school: SchoolSide | None = None, query: str = "") -> requests.Response:
        """Start a login, post make(login) (a SAMLResponse, or the whole form) to the ACS (with
        `query` added to its URL), expect a clean refusal."""
        school = school or self.school
        with Browser() as browser:
            started = school.start(browser)
            made = make(started)
            form = made if not isinstance(made, str) else {
                "SAMLResponse": made, "RelayState": started.relay_state}
            mark = self.logs.mark()
            with self.state.unchanged(), self.traffic.none():
                url = f"{school.acs}?{query}" if query else school.acs
                response = send(browser, "POST", url, data=form)
            refused(response, status, *words)
            reason_coded(self.logs.since(mark))
            return response

    def accepts(self, make: Callable[[Started], str],
                supplier: str = "rekenwonders") -> dict[str, Any]:
        """Start a login, post make(login), expect the answer to go on to the supplier;
        what the supplier received (its /whoami)."""
        with Browser() as browser:
            started = self.school.start(browser, supplier)
            response = self.school.post(browser, started, make(started))
            assert response.status_code == 200, response.text[:600]
            form = parse_forms(response.content, response.url)[0]
            assert "SAMLResponse" in form.fields
            browser.submit(form)
            return whoami(browser, self.federation.supplier(supplier))


@pytest.fixture
def acs(federation: Federation, school: SchoolSide, state: StateWatch, traffic: Traffic,
        logs: LogSink) -> Acs:
    return Acs(federation, school, state, traffic, logs)


def edited(school: SchoolSide, change: Change, **options: Any) -> Callable[[Started], str]:
    """The school's genuine answer (assertion signed), edited after signing."""
    def make(started: Started) -> str:
        root = root_of(school.answer(started, **options))
        change(root)
        return encode(root)
    return make


def tampered(school: SchoolSide, change: Change, **options: Any) -> Callable[[Started], str]:
    """The school's answer edited before the assertion is signed (the signature is valid)."""
    def make(started: Started) -> str:
        return school.tamper(started, **options).edit(change).signed()
    return make


def _assertion(root: etree._Element) -> etree._Element:
    found = root.find("saml:Assertion", NS)
    assert found is not None
    return found


# -- signature wrapping: XSW1-XSW8 (Somorovsky et al. 2012) and later variants ----------------

TEACHER_ID = DEFAULT_PEOPLE[3].id
"""Bram Visser, the demo teacher: the identity every wrapping attack tries to assume."""


def _evil(original: etree._Element, keep_signature: bool = False) -> etree._Element:
    """A copy of the signed assertion with a new ID, naming the teacher (signature dropped)."""
    evil = copy.deepcopy(original)
    signature = evil.find("ds:Signature", NS)
    if signature is not None and not keep_signature:
        evil.remove(signature)
    evil.set("ID", "_evil" + secrets.token_hex(8))
    name_id = evil.find("saml:Subject/saml:NameID", NS)
    assert name_id is not None
    name_id.text = TEACHER_ID
    for value in evil.iterfind(".//saml:AttributeValue", NS):
        if value.text == "student":
            value.text = "employee"
    return evil


def _unsigned(element: etree._Element) -> etree._Element:
    clone = copy.deepcopy(element)
    signature = clone.find("ds:Signature", NS)
    if signature is not None:
        clone.remove(signature)
    return clone


def _swap(root: etree._Element, evil: etree._Element) -> etree._Element:
    """Put `evil` where the signed assertion was; return the (removed) signed assertion."""
    original = _assertion(root)
    original.addprevious(evil)
    root.remove(original)
    return original


def xsw1(root: etree._Element) -> None:
    """Response signature: evil Response (new ID) around the genuine signature, which holds
    the signed original Response."""
    original = _unsigned(root)
    signature = root.find("ds:Signature", NS)
    _swap(root, _evil(_assertion(root)))
    root.set("ID", "_evil-response")
    signature.append(original)


def xsw2(root: etree._Element) -> None:
    """Response signature: as XSW1, the signed original a sibling before the signature."""
    original = _unsigned(root)
    signature = root.find("ds:Signature", NS)
    _swap(root, _evil(_assertion(root)))
    root.set("ID", "_evil-response")
    signature.addprevious(original)


def xsw3(root: etree._Element) -> None:
    """An unsigned evil assertion before the signed one."""
    _assertion(root).addprevious(_evil(_assertion(root)))


def xsw4(root: etree._Element) -> None:
    """The signed assertion wrapped inside the evil one."""
    evil = _evil(_assertion(root))
    evil.append(_swap(root, evil))


def xsw5(root: etree._Element) -> None:
    """The evil assertion carries the genuine signature; an unsigned copy of the original
    (the Reference's target) trails the Response."""
    original = _assertion(root)
    evil = _evil(original, keep_signature=True)
    _swap(root, evil)
    root.append(_unsigned(original))


def xsw6(root: etree._Element) -> None:
    """As XSW5, the unsigned original inside the evil assertion's signature."""
    original = _assertion(root)
    evil = _evil(original, keep_signature=True)
    _swap(root, evil)
    evil.find("ds:Signature", NS).append(_unsigned(original))


def xsw7(root: etree._Element) -> None:
    """The signed assertion in samlp:Extensions, an unsigned evil one in its place."""
    original = _swap(root, _evil(_assertion(root)))
    extensions = etree.Element(f"{{{NS['samlp']}}}Extensions")
    root.find("saml:Issuer", NS).addnext(extensions)
    extensions.append(original)


def xsw8(root: etree._Element) -> None:
    """The evil assertion carries the genuine signature, whose ds:Object holds the original."""
    original = _assertion(root)
    evil = _evil(original, keep_signature=True)
    _swap(root, evil)
    holder = etree.SubElement(evil.find("ds:Signature", NS), f"{{{DS}}}Object")
    holder.append(_unsigned(original))


def second_assertion_after(root: etree._Element) -> None:
    """CVE-2022-41912 class: only the first assertion is verified, the second is used."""
    _assertion(root).addnext(_evil(_assertion(root)))


def digest_elsewhere(root: etree._Element) -> None:
    """CVE-2024-45409 class: the signed assertion altered in place (ID kept), and the digest
    of the altered assertion put earlier in the document for a verifier that takes the first
    ds:DigestValue it finds."""
    signed = _assertion(root)
    signed.find("saml:Subject/saml:NameID", NS).text = TEACHER_ID
    altered = _unsigned(signed)
    extensions = etree.SubElement(root, f"{{{NS['samlp']}}}Extensions")
    etree.SubElement(extensions, f"{{{DS}}}DigestValue").text = base64.b64encode(
        hashlib.sha256(c14n(altered)).digest()).decode()
    root.find("saml:Issuer", NS).addnext(extensions)


def in_advice(root: etree._Element) -> None:
    """The signed assertion hidden in the Advice of an unsigned evil one."""
    evil = _evil(_assertion(root))
    advice = etree.Element(f"{{{NS['saml']}}}Advice")
    evil.find("saml:Conditions", NS).addnext(advice)
    advice.append(_swap(root, evil))


RESPONSE_SIGNED = {"sign_response": True, "sign_assertion": False}
WRAPPING: dict[str, tuple[Change, dict[str, bool]]] = {
    "XSW1": (xsw1, RESPONSE_SIGNED), "XSW2": (xsw2, RESPONSE_SIGNED), "XSW3": (xsw3, {}),
    "XSW4": (xsw4, {}), "XSW5": (xsw5, {}), "XSW6": (xsw6, {}), "XSW7": (xsw7, {}),
    "XSW8": (xsw8, {}), "CVE-2022-41912 second assertion": (second_assertion_after, {}),
    "CVE-2024-45409 digest elsewhere": (digest_elsewhere, {}),
    "signed assertion in Advice": (in_advice, {}),
}


def a_digest_still_holds(root: etree._Element) -> bool:
    """Does some signature in the document still match the element its Reference names (so
    the attack is live against a verifier that checks the reference, then reads elsewhere)?"""
    for signature in root.iter(f"{{{DS}}}Signature"):
        reference = signature.find("ds:SignedInfo/ds:Reference", NS)
        if reference is None:
            continue
        for target in root.xpath("//*[@ID=$v]", v=reference.get("URI", "")[1:]):
            unsigned = copy.deepcopy(target)
            for own in unsigned.findall("ds:Signature", NS):
                unsigned.remove(own)
            digest = base64.b64encode(hashlib.sha256(c14n(unsigned)).digest()).decode()
            if digest == "".join((reference.findtext("ds:DigestValue", "", NS)).split()):
                return True
    return False


@pytest.mark.parametrize("name", WRAPPING)
def test_signature_wrapping_is_refused(acs: Acs, school: SchoolSide, name: str) -> None:
    change, options = WRAPPING[name]

    def make(started: Started) -> str:
        root = root_of(school.answer(started, **options))
        change(root)
        assert a_digest_still_holds(root) != (change is digest_elsewhere)
        assert TEACHER_ID in etree.tostring(root).decode()
        return encode(root)

    acs.refuses(make, (400, 403))


# -- comment injection (CVE-2017-11427 class) ------------------------------------------------

@pytest.mark.parametrize("injected", ["<!---->", "<!-- -->", "<![CDATA[]]>"])
def test_a_comment_in_the_name_id_does_not_cut_it_short(
        acs: Acs, federation: Federation, school: SchoolSide, injected: str) -> None:
    """The school signs `<victim>.evil` for the attacker; a comment after `<victim>` leaves the
    signature valid (exclusive c14n without comments): Loper reads the whole value."""
    victim = federation.pupil
    attacker = replace(victim, id=f"{victim.id}.evil")

    def make(started: Started) -> str:
        xml = base64.b64decode(school.answer(started, person=attacker))
        marked = xml.replace(f"{victim.id}.evil<".encode(),
                             f"{victim.id}{injected}.evil<".encode())
        assert marked != xml
        return base64.b64encode(marked).decode()

    me = acs.accepts(make)
    assert me["name_id"] == federation.pseudonym_of("regenboog", attacker, "rekenwonders")
    assert me["name_id"] != federation.pseudonym_of("regenboog", victim, "rekenwonders")


# -- the signed / unsigned Response x Assertion matrix --------------------------------------

MATRIX = {  # (response signed, assertion signed, encrypted) -> accepted
    (False, False, False): False, (True, False, False): True, (False, True, False): True,
    (True, True, False): True, (False, False, True): False, (True, False, True): True,
    (False, True, True): True,
}


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: "resp{}-assert{}-enc{}".format(*map(int, c)))
def test_signed_unsigned_matrix(acs: Acs, federation: Federation, school: SchoolSide,
                                case: tuple[bool, bool, bool]) -> None:
    response, assertion, encrypted = case

    def make(started: Started) -> str:
        return school.answer(started, sign_response=response, sign_assertion=assertion,
                             encrypt_assertion=encrypted)

    if MATRIX[case]:
        me = acs.accepts(make)
        assert me["name_id"] == federation.pseudonym_of("regenboog", federation.pupil,
                                                        "rekenwonders")
    else:
        acs.refuses(make, 403, "signed")


# -- keys: not in the metadata, in KeyInfo, another school's ---------------------------------

@pytest.fixture(scope="module")
def rogue(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_keypair(tmp_path_factory.mktemp("rogue"), "rogue-idp")


@pytest.fixture(scope="module")
def zonnebloem(federation: Federation, tmp_path_factory: pytest.TempPathFactory) -> SchoolSide:
    """School B: a second SAML school, registered, with its own key and entity id."""
    return add_saml_school(federation, "zonnebloem", tmp_path_factory.mktemp("zonnebloem"),
                           {"rekenwonders": ["given_name", "role"]})


def _key_info(content: Callable[[KeyPair, SchoolSide], etree._Element]) -> Any:
    def factory(school: SchoolSide, rogue: KeyPair) -> Callable[[Started], str]:
        def make(started: Started) -> str:
            root = root_of(school.tamper(started).signed(keys=rogue))
            key_info = _assertion(root).find("ds:Signature/ds:KeyInfo", NS)
            for child in list(key_info):
                key_info.remove(child)
            key_info.append(content(rogue, school))
            return encode(root)
        return make
    return factory


def _rsa_key_value(rogue: KeyPair, school: SchoolSide) -> etree._Element:
    public = serialization.load_pem_private_key(rogue.key.read_bytes(), None).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    numbers = public.public_numbers()

    def b64(n: int) -> str:
        return base64.b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).decode()

    value = etree.Element(f"{{{DS}}}KeyValue")
    key = etree.SubElement(value, f"{{{DS}}}RSAKeyValue")
    etree.SubElement(key, f"{{{DS}}}Modulus").text = b64(numbers.n)
    etree.SubElement(key, f"{{{DS}}}Exponent").text = b64(numbers.e)
    return value


def _pem_body(path: Path) -> str:
    return "".join(line for line in path.read_text().splitlines() if "-----" not in line)


def _schools_certificate(rogue: KeyPair, school: SchoolSide) -> etree._Element:
    data = etree.Element(f"{{{DS}}}X509Data")
    etree.SubElement(data, f"{{{DS}}}X509Certificate").text = _pem_body(school.keys.cert)
    return data


def _issuer_serial(rogue: KeyPair, school: SchoolSide) -> etree._Element:
    data = etree.Element(f"{{{DS}}}X509Data")
    serial = etree.SubElement(data, f"{{{DS}}}X509IssuerSerial")
    etree.SubElement(serial, f"{{{DS}}}X509IssuerName").text = "CN=regenboog-idp"
    etree.SubElement(serial, f"{{{DS}}}X509SerialNumber").text = "1"
    return data


ROGUE_KEY_INFO = {
    "rogue key, its certificate in KeyInfo": None,
    "rogue key, raw RSAKeyValue in KeyInfo": _key_info(_rsa_key_value),
    "rogue key, the school's certificate in KeyInfo": _key_info(_schools_certificate),
    "rogue key, X509IssuerSerial of the school": _key_info(_issuer_serial),
}


@pytest.mark.parametrize("name", ROGUE_KEY_INFO)
def test_a_key_not_in_the_metadata_is_refused(acs: Acs, school: SchoolSide, rogue: KeyPair,
                                              name: str) -> None:
    factory = ROGUE_KEY_INFO[name]
    make = (factory(school, rogue) if factory is not None
            else lambda started: school.tamper(started).signed(keys=rogue))
    acs.refuses(make, 403, "cannot be verified")


def test_school_b_signs_with_school_a_as_issuer(acs: Acs, school: SchoolSide,
                                                zonnebloem: SchoolSide) -> None:
    acs.refuses(lambda started: school.tamper(started).signed(keys=zonnebloem.keys), 403)


def test_school_bs_genuine_answer_to_a_login_at_school_a(acs: Acs,
                                                         zonnebloem: SchoolSide) -> None:
    acs.refuses(lambda started: zonnebloem.answer(started), 403, "was issued by")


def test_school_a_signs_for_a_login_at_school_b(acs: Acs, school: SchoolSide,
                                                zonnebloem: SchoolSide) -> None:
    def make(started: Started) -> str:
        return school.answer(started, issuer=zonnebloem.entity_id)

    acs.refuses(make, 403, "cannot be verified", school=zonnebloem)


# -- algorithm downgrade: valid signatures under weak algorithms -----------------------------

def _private(school: SchoolSide) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(school.keys.key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _rsa(hash_algorithm: hashes.HashAlgorithm) -> Callable[[SchoolSide], Callable[[bytes], bytes]]:
    return lambda school: lambda data: _private(school).sign(data, padding.PKCS1v15(),
                                                             hash_algorithm)


def _weak(method: str, signer: Callable[[SchoolSide], Callable[[bytes], bytes]], *,
          digest: tuple[str, Callable[[bytes], bytes]] | None = None,
          output_length: int | None = None) -> Callable[[SchoolSide], Change]:
    def factory(school: SchoolSide) -> Change:
        def change(root: etree._Element) -> None:
            children = []
            if output_length is not None:
                length = etree.Element(f"{{{DS}}}HMACOutputLength")
                length.text = str(output_length)
                children.append(length)
            resign(_assertion(root), method, signer(school), digest=digest,
                   method_children=children)
        return change
    return factory


def _cert_hmac(name: str, size: int | None = None) -> Callable[[SchoolSide],
                                                              Callable[[bytes], bytes]]:
    def signer(school: SchoolSide) -> Callable[[bytes], bytes]:
        key = school.keys.cert.read_bytes()
        return lambda data: hmac.new(key, data, name).digest()[:size]
    return signer


SHA1_DIGEST = (DIGEST_SHA1, lambda data: hashlib.sha1(data).digest())
MD5_DIGEST = (MORE + "md5", lambda data: hashlib.md5(data).digest())
DOWNGRADES: dict[str, Callable[[SchoolSide], Change]] = {
    "RSA-SHA256 over a SHA-1 digest": _weak(MORE + "rsa-sha256", _rsa(hashes.SHA256()),
                                            digest=SHA1_DIGEST),
    "RSA-MD5": _weak(MORE + "rsa-md5", _rsa(hashes.MD5())),
    "RSA-MD5 over an MD5 digest": _weak(MORE + "rsa-md5", _rsa(hashes.MD5()), digest=MD5_DIGEST),
    "HMAC-SHA256 keyed with the certificate": lambda school: hmac_resign(
        school.keys.cert.read_bytes()),
    "HMAC-SHA1 truncated to 8 bits": _weak(DS + "hmac-sha1", _cert_hmac("sha1", 1),
                                           output_length=8),
    "HMAC-SHA1 truncated to 0 bits": _weak(DS + "hmac-sha1", _cert_hmac("sha1", 0),
                                           output_length=0),
}


def test_rsa_sha1_is_refused(acs: Acs, school: SchoolSide) -> None:
    acs.refuses(lambda s: school.answer(s, sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1),
                403, "legacy_sha1")


@pytest.mark.parametrize("name", DOWNGRADES)
def test_weak_signature_algorithms_are_refused(acs: Acs, school: SchoolSide,
                                               name: str) -> None:
    acs.refuses(edited(school, DOWNGRADES[name](school)), 403)


# -- replay and binding ------------------------------------------------------------------------

def _rewrap(school: SchoolSide, old_answer: str, started: Started) -> str:
    """A new Response (new ID, this login's InResponseTo) around an old signed assertion."""
    old = root_of(old_answer)
    fresh = root_of(school.answer(started))
    fresh.set("ID", "_rewrapped" + secrets.token_hex(6))
    _swap(fresh, copy.deepcopy(_assertion(old)))
    return encode(fresh)


@pytest.mark.parametrize("used", [True, False], ids=["after-use", "never-used"])
def test_an_assertion_rewrapped_in_a_new_response(acs: Acs, school: SchoolSide,
                                                  used: bool) -> None:
    with Browser() as browser:
        first = school.start(browser)
        old_answer = school.answer(first)
        if used:
            assert school.post(browser, first, old_answer).status_code == 200
        acs.refuses(lambda started: _rewrap(school, old_answer, started), 403)


def test_two_threads_posting_one_answer_make_exactly_one_login(
        school: SchoolSide, state: StateWatch) -> None:
    with Browser() as browser, requests.Session() as twin:
        started = school.start(browser)
        answer = school.answer(started)
        twin.cookies.update(browser.session.cookies)
        gate = threading.Barrier(2)
        results: list[requests.Response] = []

        def post(session: requests.Session) -> None:
            gate.wait()
            results.append(session.post(school.acs, timeout=10, allow_redirects=False, data={
                "SAMLResponse": answer, "RelayState": started.relay_state}))

        sessions_before = state.sessions()
        threads = [threading.Thread(target=post, args=(s,)) for s in (browser.session, twin)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(r.status_code for r in results) == [200, 403]
        refused(next(r for r in results if r.status_code == 403), 403)
        assert len(state.sessions() - sessions_before) == 1


def test_an_unsolicited_answer_without_relay_state(acs: Acs, school: SchoolSide) -> None:
    acs.refuses(lambda started: {"SAMLResponse": school.answer(started, in_response_to=None)},
                403, "does not belong to a login started in this browser")


def _in_response_to(value: str | None, *, confirmation: bool) -> Change:
    def change(root: etree._Element) -> None:
        element = root.find(".//saml:SubjectConfirmationData", NS) if confirmation else root
        current = element.get("InResponseTo")
        assert current
        element.set("InResponseTo", value.format(current) if value is not None else "")
    return change


IN_RESPONSE_TO: dict[str, Change] = {
    "padded with spaces": _in_response_to(" {} ", confirmation=False),
    "empty on the Response": _in_response_to(None, confirmation=False),
    "empty on the SubjectConfirmationData": _in_response_to(None, confirmation=True),
    "another request's id on the SubjectConfirmationData": _in_response_to(
        "id-other", confirmation=True),
}


@pytest.mark.parametrize("name", IN_RESPONSE_TO)
def test_in_response_to_variants(acs: Acs, school: SchoolSide, name: str) -> None:
    acs.refuses(tampered(school, IN_RESPONSE_TO[name]), 403)


def test_an_answer_for_one_login_posted_for_another_of_the_same_browser(
        school: SchoolSide, state: StateWatch) -> None:
    """Refused, and it burns only the login it was posted for: the right one still works."""
    with Browser() as browser:
        first, second = school.start(browser), school.start(browser)
        answer = school.answer(first)
        with state.unchanged():
            refused(school.post(browser, first, answer, relay_state=second.relay_state), 403)
        accepted = school.post(browser, first, answer)
        assert accepted.status_code == 200 and "SAMLResponse" in accepted.text
        refused(school.post(browser, second, school.answer(second)), 403)


def test_a_failed_validation_burns_its_request(acs: Acs, school: SchoolSide,
                                               state: StateWatch) -> None:
    with Browser() as browser:
        started = school.start(browser)
        genuine = school.answer(started)
        root = root_of(genuine)
        root.find(".//saml:AttributeValue", NS).text = "Admin"
        with state.unchanged():
            refused(school.post(browser, started, encode(root)), 403)
            refused(school.post(browser, started, genuine), 403, "been used already")


# -- time ------------------------------------------------------------------------------------

def _set(path: str, **attributes: str | None) -> Change:
    def change(root: etree._Element) -> None:
        element = root if path == "." else root.find(path, NS)
        assert element is not None, path
        for name, value in attributes.items():
            if value is None:
                element.attrib.pop(name, None)
            else:
                element.set(name, value)
    return change


def _both_issue_instants(value: Callable[[], str]) -> Change:
    def change(root: etree._Element) -> None:
        root.set("IssueInstant", value())
        _assertion(root).set("IssueInstant", value())
    return change


CONDITIONS, SC_DATA, AUTHN = ".//saml:Conditions", ".//saml:SubjectConfirmationData", \
    ".//saml:AuthnStatement"
TIMES: dict[str, Callable[[], Change]] = {
    "Conditions window inverted within the skew": lambda: _set(
        CONDITIONS, NotBefore=iso(30), NotOnOrAfter=iso(10)),
    "SubjectConfirmationData window inverted": lambda: _set(
        SC_DATA, NotBefore=iso(40), NotOnOrAfter=iso(20)),
    "IssueInstant 20 hours ago": lambda: _both_issue_instants(lambda: iso(-20 * 3600)),
    "IssueInstant 20 hours ahead": lambda: _both_issue_instants(lambda: iso(20 * 3600)),
    "IssueInstant before the AuthnRequest": lambda: _both_issue_instants(lambda: iso(-600)),
    "AuthnInstant 20 hours ahead": lambda: _set(AUTHN, AuthnInstant=iso(20 * 3600)),
    "NotOnOrAfter 'tomorrow'": lambda: _set(SC_DATA, NotOnOrAfter="tomorrow"),
    "NotOnOrAfter on 30 February": lambda: _set(CONDITIONS,
                                                NotOnOrAfter="2031-02-30T00:00:00Z"),
    "IssueInstant empty": lambda: _set(".", IssueInstant=""),
    "AuthnInstant not a time": lambda: _set(AUTHN, AuthnInstant="now"),
    "SessionNotOnOrAfter passed": lambda: _set(AUTHN, SessionNotOnOrAfter=iso(-3600)),
}


@pytest.mark.parametrize("name", TIMES)
def test_time_windows_and_timestamps(acs: Acs, school: SchoolSide, name: str) -> None:
    acs.refuses(tampered(school, TIMES[name]()), (400, 403))


# -- audience, destination, recipient, issuer, confirmation, status ------------------------

def _loper(path: str, variant: Callable[[str], str]) -> Callable[[SchoolSide], Change]:
    """Set the attribute or text at `path` to a variant of Loper's expected value."""
    def factory(school: SchoolSide) -> Change:
        element_path, _, attribute = path.partition("@")

        def change(root: etree._Element) -> None:
            element = root if element_path == "." else root.find(element_path, NS)
            assert element is not None
            if attribute:
                element.set(attribute, variant(element.get(attribute, "")))
            else:
                element.text = variant(element.text or "")
        return change
    return factory


def _upper_host(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme.upper()}://{host.upper()}/{path}"


def _confirmation(method: str, replace_bearer: bool) -> Callable[[SchoolSide], Change]:
    def factory(school: SchoolSide) -> Change:
        def change(root: etree._Element) -> None:
            bearer = root.find(".//saml:SubjectConfirmation", NS)
            if replace_bearer:
                bearer.set("Method", method)
            else:
                other = copy.deepcopy(bearer)
                other.set("Method", method)
                bearer.addnext(other)
        return change
    return factory


def _status(top: str, second: str | None) -> Callable[[SchoolSide], Change]:
    def factory(school: SchoolSide) -> Change:
        def change(root: etree._Element) -> None:
            code = root.find("samlp:Status/samlp:StatusCode", NS)
            code.set("Value", "urn:oasis:names:tc:SAML:2.0:status:" + top)
            if second:
                etree.SubElement(code, f"{{{NS['samlp']}}}StatusCode",
                                 Value="urn:oasis:names:tc:SAML:2.0:status:" + second)
        return change
    return factory


def _no_status(school: SchoolSide) -> Change:
    def change(root: etree._Element) -> None:
        root.remove(root.find("samlp:Status", NS))
    return change


def _audience_of_lopers_idp(school: SchoolSide) -> Change:
    def change(root: etree._Element) -> None:
        audience = root.find(".//saml:Audience", NS)
        audience.text = audience.text.replace("/saml/sp/metadata", "/saml/idp/metadata")
    return change


def _issuer_format(school: SchoolSide) -> Change:
    def change(root: etree._Element) -> None:
        _assertion(root).find("saml:Issuer", NS).set(
            "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
    return change


def _issuer_is_loper(school: SchoolSide) -> Change:
    def change(root: etree._Element) -> None:
        for issuer in root.iterfind(".//saml:Issuer", NS):
            issuer.text = school.sp_entity_id
    return change


ASSERTION_ISSUER = "saml:Assertion/saml:Issuer"
ADDRESSING: dict[str, Callable[[SchoolSide], Change]] = {
    "Destination with a trailing slash": _loper(".@Destination", lambda v: v + "/"),
    "Destination with its scheme in upper case": _loper(".@Destination", _upper_host),
    "Destination with a query": _loper(".@Destination", lambda v: v + "?next=/"),
    "Recipient with a trailing slash": _loper(SC_DATA + "@Recipient", lambda v: v + "/"),
    "Audience: Loper's IdP, not its SP": _audience_of_lopers_idp,
    "Audience with a trailing slash": _loper(".//saml:Audience", lambda v: v + "/"),
    "Audience empty": _loper(".//saml:Audience", lambda v: ""),
    "Issuer with a transient Format": _issuer_format,
    "Issuer: Loper itself": _issuer_is_loper,
    "Issuer with a trailing slash": _loper(ASSERTION_ISSUER, lambda v: v + "/"),
    "holder-of-key confirmation": _confirmation(
        "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key", True),
    "bearer and sender-vouches": _confirmation(
        "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches", False),
    "Requester / RequestDenied with an assertion": _status("Requester", "RequestDenied"),
    "Responder without a second level, with an assertion": _status("Responder", None),
    "no Status at all": _no_status,
}


@pytest.mark.parametrize("name", ADDRESSING)
def test_addressing_confirmation_and_status(acs: Acs, school: SchoolSide, name: str) -> None:
    acs.refuses(tampered(school, ADDRESSING[name](school)), 403)


# -- XML parsing and sizes ----------------------------------------------------------------------

def _body(school: SchoolSide, started: Started) -> str:
    """The genuine answer's XML without its declaration."""
    xml = base64.b64decode(school.answer(started)).decode()
    return xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml


Made = Callable[[SchoolSide, str], Callable[[Started], str]]
"""Given the school and a listener's URL: what to post for a started login."""


def _with_doctype(doctype: str, encoding: str = "utf-8", entity: str | None = None,
                  declaration: str = "") -> Made:
    def factory(school: SchoolSide, listener: str) -> Callable[[Started], str]:
        def make(started: Started) -> str:
            body = _body(school, started)
            if entity:
                body = body.replace(">Sanne<", f">&{entity};<", 1)
            text = declaration + doctype.format(listener=listener) + body
            return base64.b64encode(text.encode(encoding)).decode()
        return make
    return factory


LAUGHS = ('<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
          + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
                    for p, n in zip("abcdefgh", "bcdefghi", strict=True))
          + "]>")
XXE = '<!DOCTYPE r [<!ENTITY x SYSTEM "{listener}/xxe">]>'
PARAMETER = '<!DOCTYPE r [<!ENTITY % p SYSTEM "{listener}/p.dtd"> %p;]>'
EXTERNAL_DTD = '<!DOCTYPE r SYSTEM "{listener}/r.dtd">'
PARSING: dict[str, Made] = {
    "XXE to a listener": _with_doctype(XXE, entity="x"),
    "XXE to file:///etc/passwd": _with_doctype(
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', entity="x"),
    "parameter entity": _with_doctype(PARAMETER),
    "external DTD": _with_doctype(EXTERNAL_DTD),
    "billion laughs": _with_doctype(LAUGHS, entity="i"),
    "XXE in UTF-16 (BOM)": _with_doctype(XXE, "utf-16", entity="x"),
    "XXE in UTF-16LE (no BOM)": _with_doctype(XXE, "utf-16-le", entity="x"),
    "billion laughs in UTF-16BE": _with_doctype(LAUGHS, "utf-16-be", entity="i"),
    "external DTD in UTF-32": _with_doctype(EXTERNAL_DTD, "utf-32"),
    "DOCTYPE hidden in UTF-7": _with_doctype(
        "+ADwAIQ-DOCTYPE r SYSTEM +ACI-{listener}/r.dtd+ACI-+AD4-",
        declaration='<?xml version="1.0" encoding="UTF-7"?>'),
}


@pytest.mark.parametrize("name", PARSING)
def test_dtds_and_entities_are_refused_without_a_connection(acs: Acs, school: SchoolSide,
                                                            name: str) -> None:
    with Listener() as listener:
        acs.refuses(PARSING[name](school, listener.url), (400, 403))
    assert listener.connections == 0


@pytest.mark.parametrize("where", ["response", "assertion"])
def test_xinclude_is_never_resolved(acs: Acs, school: SchoolSide, where: str) -> None:
    """In the unsigned Response it is an unknown element and ignored (the login goes on with
    the signed assertion alone); inside the signed assertion the answer is refused."""
    with Listener() as listener:
        def change(root: etree._Element) -> None:
            parent = root if where == "response" else _assertion(root)
            etree.SubElement(parent, "{http://www.w3.org/2001/XInclude}include",
                             href=f"{listener.url}/include", parse="xml")
        if where == "response":
            acs.accepts(edited(school, change))
        else:
            acs.refuses(tampered(school, change), 403)
    assert listener.connections == 0


def _nested(depth: int) -> Callable[[SchoolSide], Callable[[Started], str]]:
    def factory(school: SchoolSide) -> Callable[[Started], str]:
        def make(started: Started) -> str:
            root = root_of(school.answer(started))
            extensions = etree.Element(f"{{{NS['samlp']}}}Extensions")
            extensions.text = "DEEP"
            root.find("samlp:Status", NS).addprevious(extensions)
            xml = etree.tostring(root).replace(b"DEEP", b"<x>" * depth + b"</x>" * depth)
            return encode(xml)
        return make
    return factory


def _deflate_bomb(school: SchoolSide) -> Callable[[Started], str]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = b"".join(packer.compress(b"\0" * (1 << 20)) for _ in range(50)) + packer.flush()
    return lambda started: base64.b64encode(bomb).decode()


SIZES: dict[str, tuple[Callable[[SchoolSide], Callable[[Started], str]],
                       int | tuple[int, ...]]] = {
    "100k nested elements (over the size cap)": (_nested(100_000), (400, 413)),
    "30k nested elements (under the cap)": (_nested(30_000), 400),
    "a deflate bomb posted (never inflated)": (_deflate_bomb, 400),
    "600 kB of base64 (over the cap)": (lambda school: lambda s: "PHg+" * 150_000, 400),
}


@pytest.mark.parametrize("name", SIZES)
def test_oversize_and_deep_answers(acs: Acs, school: SchoolSide, name: str) -> None:
    factory, status = SIZES[name]
    acs.refuses(factory(school), status)


def test_a_post_over_max_content_length_is_a_clean_413(
        federation: Federation, state: StateWatch, browser: Browser) -> None:
    with state.unchanged():
        response = browser.session.post(f"{federation.running.broker}/saml/sp/acs", timeout=10,
                                        data={"SAMLResponse": "A" * (1024 * 1024 + 10),
                                              "RelayState": "x"})
    refused(response, 413)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]



# -- every parameter once: which answer, for which login? -----------------------------------

def _twice(name: str, school: SchoolSide) -> Callable[[Started], list[tuple[str, str]]]:
    """The school's genuine answer, with `name` posted twice (a copy, or another login's)."""
    def make(started: Started) -> list[tuple[str, str]]:
        answer = school.answer(started)
        form = [("SAMLResponse", answer), ("RelayState", started.relay_state)]
        again = {"SAMLResponse": encode(root_of(answer)), "RelayState": "login-of-someone-else"}
        return [*form, (name, again[name])]
    return make


@pytest.mark.parametrize("name", ["SAMLResponse", "RelayState"])
def test_a_field_posted_twice_is_refused(acs: Acs, school: SchoolSide, name: str) -> None:
    acs.refuses(_twice(name, school), 400, name, "more than once")


@pytest.mark.parametrize("name", ["SAMLResponse", "RelayState"])
def test_a_field_in_the_query_and_the_form_is_refused(acs: Acs, school: SchoolSide,
                                                      name: str) -> None:
    acs.refuses(lambda started: {"SAMLResponse": school.answer(started),
                                 "RelayState": started.relay_state},
                400, name, "more than once", query=f"{name}=x")
