"""Loper as a SAML IdP: hostile AuthnRequests sent to /saml/idp/sso of the running federation.

The attacker plays a registered supplier: Rekenwonders (pysaml2; unsigned requests, encrypted
answers) or Taalapp (python3-saml; it signs its requests, so the attacker holds its key, and
takes plain assertions). A request that cannot be trusted or is not sound ends on Loper's error
page (4xx with an error id), with no pending login stored, no request to the school and no form
or redirect to anyone; a trusted request that asks for what Loper cannot give (a NameIDPolicy,
a RequestedAuthnContext) or that Loper may answer with the protocol's error (IsPassive) gets a
signed SAML Response without an assertion at its ACS, with nothing stored either. RelayState
goes back unchanged, and only inside the auto-POST form.

Classes and cases: ACS not in the metadata 11, NameIDPolicy and Subject 7, RequestedAuthnContext
9, untrusted requests asking what Loper refuses 3, IsPassive 3, RelayState 7, signature
algorithm downgrade 9, parsing and sizes 11, repeated parameters 18, hints naming two schools 3.

Covered elsewhere and not repeated here:
- tests/downstream/test_saml_idp_rejects.py (SamlIdp.parse_request): undecodable, truncated,
  deflate bombs, DOCTYPE in UTF-8, other messages, an unknown issuer, a foreign ACS URL or
  index or the Artifact binding, a missing or wrong signature, an altered signed query,
  RSA-SHA1 and SHA-1 digests, a foreign SPNameQualifier and emailAddress format, oversize
  RelayState, stale IssueInstant and a foreign Destination, unusable supplier metadata.
- tests/flows/test_saml_edges.py (HTTP): garbage, deflate bombs, a DOCTYPE, an unknown
  supplier, an over-long RelayState. tests/flows/test_saml_to_saml.py: IsPassive="true" with
  and without a session.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from saml2.samlp import STATUS_NO_PASSIVE

from broker.downstream.saml_idp import SamlIdp
from broker.keys import KeyPair
from demo.keys import ensure_keypair
from tests.downstream.refusals import error_response
from tests.error_log import says
from tests.flows.conftest import Federation
from tests.hostile.attacker import (
    SAML_NS,
    SHA256_SIGALG,
    Listener,
    LogSink,
    StateWatch,
    Traffic,
    authn_request,
    deflated,
    reason_coded,
    refused,
    resign,
    send,
    sets_sso_cookie,
    signed_query,
    xml_parser,
)
from tests.peers.browser import Browser, decode_saml, parse_forms
from tests.upstream.saml_idp import sign as sign_enveloped

NS = SAML_NS
DS = NS["ds"]
MORE = "http://www.w3.org/2001/04/xmldsig-more#"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@dataclass
class Sso:
    """Loper's SSO endpoint, and the two suppliers the attacker can speak for."""

    federation: Federation
    state: StateWatch
    traffic: Traffic
    logs: LogSink

    @property
    def url(self) -> str:
        return self.federation.running.broker + "/saml/idp/sso"

    def entity(self, supplier: str) -> str:
        record = self.federation.registry.supplier(supplier)
        assert record is not None and record.protocol == "saml"
        return record.config.entity_id

    def acs(self, supplier: str) -> str:
        return self.federation.supplier(supplier) + "/acs"

    @property
    def taalapp_key(self) -> KeyPair:
        """Taalapp's request-signing key (the attacker speaks for Taalapp)."""
        folder = self.federation.running.folder / "peers" / "taalapp"
        return KeyPair(*ensure_keypair(folder, "taalapp-sp"))

    def redirect(self, xml: bytes, relay_state: str | None = None, *, signed: bool = False,
                 school: str | None = None, **sign: Any) -> str:
        """The URL a supplier sends the browser to (HTTP-Redirect binding)."""
        fields = {"SAMLRequest": deflated(xml)}
        if relay_state is not None:
            fields["RelayState"] = relay_state
        if signed:
            query = signed_query(fields, self.taalapp_key.key, **sign)
        else:
            query = "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items())
        return f"{self.url}?{query}" + (f"&school={school}" if school else "")

    def refuses(self, browser: Browser, method: str, url: str,
                status: int | tuple[int, ...] = 403, *words: str,
                **kwargs: Any) -> requests.Response:
        mark = self.logs.mark()
        with self.state.unchanged(), self.traffic.none():
            response = send(browser, method, url, **kwargs)
        refused(response, status, *words)
        reason_coded(self.logs.since(mark))
        return response

    def answers(self, browser: Browser, xml: bytes, second_level: str,
                relay_state: str | None = None) -> None:
        """Rekenwonders' request `xml` (HTTP-Redirect) is answered at its ACS with a signed
        error Response (Requester, `second_level`), logged with the error id it names;
        nothing stored (but the start, counted), nothing sent to anyone, no session."""
        mark = self.logs.mark()
        with self.state.unchanged(counted=True), self.traffic.none():
            response = send(browser, "GET", self.redirect(xml, relay_state, school="regenboog"))
        assert response.status_code == 200, response.text[:400]
        assert "Location" not in response.headers and not sets_sso_cookie(response)
        form, = parse_forms(response.content, response.url)
        idp = self.federation.broker.downstreams["saml"]
        assert isinstance(idp, SamlIdp)
        error_id = error_response(
            form.action, form.fields, cert=idp.config.signing.cert, acs=self.acs("rekenwonders"),
            request_id=etree.fromstring(xml).get("ID"), relay_state=relay_state,
            second_level=second_level)
        logged = self.logs.since(mark)
        reason_coded(logged)
        assert any(getattr(r, "error_id", None) == error_id for r in logged), error_id


@pytest.fixture
def sso(federation: Federation, state: StateWatch, traffic: Traffic, logs: LogSink) -> Sso:
    return Sso(federation, state, traffic, logs)


def answer_of(response: requests.Response) -> tuple[dict[str, str], etree._Element]:
    """Loper's auto-POST form to a supplier: its fields and the SAML Response in it."""
    assert response.status_code == 200, response.text[:400]
    forms = parse_forms(response.content, response.url)
    assert len(forms) == 1 and "SAMLResponse" in forms[0].fields, response.text[:400]
    fields = forms[0].fields
    return fields, etree.fromstring(decode_saml(fields["SAMLResponse"]).encode(), xml_parser())


# -- the ACS comes from the metadata only --------------------------------------------------

def _acs(sso: Sso) -> str:
    return sso.acs("rekenwonders")


def _another_port(sso: Sso) -> str:
    acs = _acs(sso)
    port = int(acs.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    return acs.replace(f":{port}/", f":{port + 1}/")


ACS_VARIANTS: dict[str, Callable[[Sso], dict[str, str]]] = {
    "trailing slash": lambda sso: {"acs": _acs(sso) + "/"},
    "scheme in upper case": lambda sso: {"acs": _acs(sso).replace("http://", "HTTP://")},
    "localhost for 127.0.0.1": lambda sso: {"acs": _acs(sso).replace("127.0.0.1", "localhost")},
    "query added": lambda sso: {"acs": _acs(sso) + "?next=https://evil.example/"},
    "fragment added": lambda sso: {"acs": _acs(sso) + "#x"},
    "https instead of http": lambda sso: {"acs": _acs(sso).replace("http://", "https://")},
    "another port": lambda sso: {"acs": _another_port(sso)},
    "another supplier's ACS": lambda sso: {"acs": sso.acs("taalapp")},
    "Loper's own ACS": lambda sso: {"acs": sso.federation.running.broker + "/saml/sp/acs"},
    "an index not in the metadata": lambda sso: {"index": "99"},
    "PAOS binding": lambda sso: {"binding": "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"},
}


@pytest.mark.parametrize("name", ACS_VARIANTS)
def test_an_acs_not_in_the_metadata_is_refused(sso: Sso, browser: Browser, name: str) -> None:
    xml = authn_request(sso.entity("rekenwonders"), **ACS_VARIANTS[name](sso))
    sso.refuses(browser, "GET", sso.redirect(xml, "lesson-1", school="regenboog"), 403)


# -- NameIDPolicy and Subject: nobody asks for another supplier's identifier --------------

def _policy(**attributes: str) -> str:
    values = " ".join(f'{k}="{v}"' for k, v in attributes.items())
    return f"<samlp:NameIDPolicy {values}/>"


POLICIES = {
    "SPNameQualifier of another supplier": lambda sso: _policy(
        Format=PERSISTENT, SPNameQualifier=sso.entity("taalapp")),
    "SPNameQualifier of Loper's IdP": lambda sso: _policy(
        SPNameQualifier=sso.federation.running.broker + "/saml/idp/metadata"),
    "SPNameQualifier of the school": lambda sso: _policy(
        SPNameQualifier=sso.federation.running.school + "/metadata"),
    "X509SubjectName format": lambda sso: _policy(
        Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"),
    "entity format": lambda sso: _policy(
        Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity"),
    "encrypted format": lambda sso: _policy(
        Format="urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted"),
}


@pytest.mark.parametrize("name", POLICIES)
def test_a_name_id_policy_outside_the_offer_is_answered_invalid_name_id_policy(
        sso: Sso, browser: Browser, name: str) -> None:
    xml = authn_request(sso.entity("rekenwonders"), name_id_policy=POLICIES[name](sso))
    sso.answers(browser, xml, "InvalidNameIDPolicy", "lesson-2")


def _context(comparison: str, *classes: str) -> str:
    refs = "".join(f"<saml:AuthnContextClassRef>{c}</saml:AuthnContextClassRef>"
                   for c in classes)
    return f'<samlp:RequestedAuthnContext Comparison="{comparison}">{refs}' \
           "</samlp:RequestedAuthnContext>"


CONTEXTS: dict[str, str] = {
    "unknown Comparison": _context("atleast", "urn:a"),
    "an empty Comparison": _context("", "urn:a"),
    "17 classes": _context("exact", *(f"urn:c:{i}" for i in range(17))),
    "a class of 1100 characters": _context("exact", "urn:" + "x" * 1100),
    "an empty class": _context("minimum", ""),
    "2,000 classes": _context("exact", *(f"urn:c:{i}" for i in range(2000))),
    "a class of 100,000 characters": _context("exact", "urn:" + "x" * 100_000),
    "better than the strongest class": _context("better", "https://refeds.org/profile/mfa"),
    "a DeclRef": '<samlp:RequestedAuthnContext><saml:AuthnContextDeclRef>urn:decl'
                 "</saml:AuthnContextDeclRef></samlp:RequestedAuthnContext>",
}


@pytest.mark.parametrize("name", CONTEXTS)
def test_a_requested_authn_context_loper_cannot_accept_is_answered_no_authn_context(
        sso: Sso, browser: Browser, name: str) -> None:
    xml = authn_request(sso.entity("rekenwonders"), name_id_policy=CONTEXTS[name])
    sso.answers(browser, xml, "NoAuthnContext")


UNTRUSTED: dict[str, tuple[Callable[[Sso], bytes], str]] = {
    "an ACS not in the metadata": (lambda sso: authn_request(
        sso.entity("rekenwonders"), acs="https://evil.example/acs",
        name_id_policy=POLICIES["X509SubjectName format"](sso)), "not in the learning app"),
    "unsigned from a supplier that signs": (lambda sso: authn_request(
        sso.entity("taalapp"), destination=sso.url, name_id_policy=CONTEXTS["a DeclRef"]),
        "AuthnRequestsSigned"),
    "issued an hour ago": (lambda sso: authn_request(
        sso.entity("rekenwonders"), issued=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        name_id_policy=CONTEXTS["unknown Comparison"]), "too long ago"),
}


@pytest.mark.parametrize("name", UNTRUSTED)
def test_an_untrusted_request_gets_lopers_page_whatever_it_asks(sso: Sso, browser: Browser,
                                                                name: str) -> None:
    """Only a trusted request, with its ACS from the metadata, is answered at that ACS."""
    request, words = UNTRUSTED[name]
    url = sso.redirect(request(sso), "x", school="regenboog")
    sso.refuses(browser, "GET", url, 403, words)


def test_a_subject_naming_another_suppliers_pseudonym_gets_the_askers_own(
        sso: Sso, pupil: Browser) -> None:
    """SAML core 3.4.1: a <Subject> in the request; Loper answers about who logged in, under
    the asking supplier's own pseudonym, whatever the request names."""
    federation = sso.federation
    others = federation.pseudonym_of("regenboog", federation.pupil, "rekenwonders")
    subject = (f'<saml:Subject><saml:NameID Format="{PERSISTENT}" '
               f'SPNameQualifier="{sso.entity("rekenwonders")}">{others}</saml:NameID>'
               "</saml:Subject>")
    xml = authn_request(sso.entity("taalapp"), destination=sso.url, inner=subject)
    _, answer = answer_of(send(pupil, "GET", sso.redirect(xml, signed=True, school="regenboog")))
    name_id = answer.find(".//saml:Assertion/saml:Subject/saml:NameID", NS)
    assert name_id is not None
    assert name_id.text == federation.pseudonym_of("regenboog", federation.pupil, "taalapp")
    assert name_id.get("SPNameQualifier") == sso.entity("taalapp")
    assert others not in etree.tostring(answer).decode()


# -- IsPassive without a session: the protocol's NoPassive, nothing else --------------------

PASSIVE = {"IsPassive=1": {"passive": "1"},
           "IsPassive and ForceAuthn": {"passive": "true", "force": "true"},
           "IsPassive with a school in Scoping": {"passive": "true"}}


@pytest.mark.parametrize("name", PASSIVE)
def test_is_passive_without_a_session_answers_no_passive(sso: Sso, browser: Browser,
                                                         name: str) -> None:
    scoping = (f'<samlp:Scoping><samlp:IDPList><samlp:IDPEntry '
               f'ProviderID="{sso.federation.running.school}/metadata"/></samlp:IDPList>'
               "</samlp:Scoping>") if "Scoping" in name else ""
    xml = authn_request(sso.entity("rekenwonders"), name_id_policy=scoping, **PASSIVE[name])
    with sso.state.unchanged(), sso.traffic.none():
        response = send(browser, "GET", sso.redirect(xml, "lesson-7"))
    fields, answer = answer_of(response)
    assert fields["RelayState"] == "lesson-7"
    assert answer.find("saml:Assertion", NS) is None
    assert answer.find("saml:EncryptedAssertion", NS) is None
    codes = [c.get("Value") for c in answer.iter(f"{{{NS['samlp']}}}StatusCode")]
    assert codes[-1] == STATUS_NO_PASSIVE
    assert answer.find("ds:Signature", NS) is not None


# -- RelayState: back unchanged, only inside the auto-POST form, escaped --------------------

RELAY_STATES = {
    "CRLF header injection": "a\r\nSet-Cookie: loper_sso=evil\r\n",
    "script": '"><script>alert(1)</script>',
    "closing the form": "</form><form action=https://evil.example>",
    "quotes and ampersands": "a'b\"c&amp;d&lt;",
    "unicode": "üñí☃\u2028\u2029",
    "exactly 80 bytes": "r" * 80,
}


def as_submitted(value: str) -> str:
    """A form field's value as a browser posts it (HTML: every line break becomes CR LF)."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


@pytest.mark.parametrize("name", RELAY_STATES)
def test_relay_state_comes_back_unchanged_and_escaped(sso: Sso, pupil: Browser,
                                                      name: str) -> None:
    relay_state = RELAY_STATES[name]
    xml = authn_request(sso.entity("taalapp"), destination=sso.url)
    response = send(pupil, "GET", sso.redirect(xml, relay_state, signed=True,
                                               school="regenboog"))
    fields, _ = answer_of(response)
    assert as_submitted(fields["RelayState"]) == relay_state
    assert parse_forms(response.content, response.url)[0].action == sso.acs("taalapp")
    assert "Location" not in response.headers
    assert not any("\n" in value or "\r" in value for value in response.headers.values())
    assert "evil" not in response.headers.get("Set-Cookie", "")
    for dangerous in ("<script>", "</form><form"):
        if dangerous in relay_state:
            assert dangerous not in response.text


def test_a_refused_request_never_shows_its_relay_state(sso: Sso, browser: Browser) -> None:
    xml = authn_request(sso.entity("rekenwonders"), acs="https://evil.example/acs")
    response = sso.refuses(browser, "GET", sso.redirect(xml, "<script>alert(1)</script>"))
    assert "alert(1)" not in response.text


# -- signature algorithm downgrade (Taalapp signs its requests) -----------------------------

def _taalapp_private(sso: Sso) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(sso.taalapp_key.key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _rsa(hash_algorithm: hashes.HashAlgorithm) -> Callable[[Sso], Callable[[bytes], bytes]]:
    return lambda sso: lambda data: _taalapp_private(sso).sign(data, padding.PKCS1v15(),
                                                               hash_algorithm)


def _cert_hmac(name: str, size: int | None = None) -> Callable[[Sso], Callable[[bytes], bytes]]:
    return lambda sso: lambda data: hmac.new(sso.taalapp_key.cert.read_bytes(), data,
                                             name).digest()[:size]


QUERY_DOWNGRADES: dict[str, tuple[str, Callable[[Sso], Callable[[bytes], bytes]]]] = {
    "RSA-SHA1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", _rsa(hashes.SHA1())),
    "RSA-MD5": (MORE + "rsa-md5", _rsa(hashes.MD5())),
    "HMAC-SHA256 keyed with the certificate": (MORE + "hmac-sha256", _cert_hmac("sha256")),
    "DSA-SHA1": ("http://www.w3.org/2000/09/xmldsig#dsa-sha1", _rsa(hashes.SHA1())),
    "RSA-SHA256 spelt in upper case": (SHA256_SIGALG.upper(), _rsa(hashes.SHA256())),
}


@pytest.mark.parametrize("name", QUERY_DOWNGRADES)
def test_a_weak_sig_alg_on_the_redirect_binding_is_refused(sso: Sso, browser: Browser,
                                                           name: str) -> None:
    """Valid signatures, by Taalapp's own key, under an algorithm Loper must not accept."""
    sig_alg, signer = QUERY_DOWNGRADES[name]
    xml = authn_request(sso.entity("taalapp"), destination=sso.url)
    url = sso.redirect(xml, "x", signed=True, sig_alg=sig_alg, sign=signer(sso))
    sso.refuses(browser, "GET", url, 403, "refused")


def test_a_signature_without_sig_alg_is_refused(sso: Sso, browser: Browser) -> None:
    xml = authn_request(sso.entity("taalapp"), destination=sso.url)
    url = sso.redirect(xml, signed=True)
    without = "&".join(p for p in url.split("?", 1)[1].split("&") if not p.startswith("SigAlg="))
    sso.refuses(browser, "GET", f"{sso.url}?{without}", 403, "refused")


def _enveloped(sso: Sso, method: str, signer: Callable[[bytes], bytes],
               digest: tuple[str, Callable[[bytes], bytes]] | None = None,
               length: int | None = None) -> str:
    """Taalapp's AuthnRequest with an enveloped signature, re-signed under `method`."""
    root = etree.fromstring(authn_request(sso.entity("taalapp"), destination=sso.url))
    sign_enveloped(root, sso.taalapp_key)
    root = etree.fromstring(etree.tostring(root))
    children = []
    if length is not None:
        children.append(etree.Element(f"{{{DS}}}HMACOutputLength"))
        children[0].text = str(length)
    resign(root, method, signer, digest=digest, method_children=children)
    return base64.b64encode(etree.tostring(root)).decode()


ENVELOPED_DOWNGRADES = {
    "RSA-MD5": lambda sso: _enveloped(sso, MORE + "rsa-md5", _rsa(hashes.MD5())(sso)),
    "RSA-SHA256 over an MD5 digest": lambda sso: _enveloped(
        sso, MORE + "rsa-sha256", _rsa(hashes.SHA256())(sso),
        digest=(MORE + "md5", lambda data: hashlib.md5(data).digest())),
    "HMAC-SHA1 truncated to 8 bits": lambda sso: _enveloped(
        sso, "http://www.w3.org/2000/09/xmldsig#hmac-sha1", _cert_hmac("sha1", 1)(sso),
        length=8),
}


@pytest.mark.parametrize("name", ENVELOPED_DOWNGRADES)
def test_a_weak_enveloped_signature_is_refused(sso: Sso, browser: Browser, name: str) -> None:
    sso.refuses(browser, "POST", sso.url, 403, "refused",
                data={"SAMLRequest": ENVELOPED_DOWNGRADES[name](sso)})


# -- parsing and sizes ---------------------------------------------------------------------

def _disguised(sso: Sso, listener: str, encoding: str, declaration: str = "") -> bytes:
    body = authn_request(sso.entity("rekenwonders")).decode()
    doctype = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{listener}/xxe">]>'
    if encoding == "utf-7":
        doctype = doctype.replace("<!", "+ADwAIQ-")
        return (declaration + doctype + body).encode("ascii")
    return (doctype + body.replace("</saml:Issuer>", "&x;</saml:Issuer>")).encode(encoding)


DISGUISES = {"UTF-16LE": ("utf-16-le", ""), "UTF-16BE": ("utf-16-be", ""),
             "UTF-32": ("utf-32", ""),
             "UTF-7": ("utf-7", '<?xml version="1.0" encoding="UTF-7"?>')}


@pytest.mark.parametrize("binding", ["redirect", "post"])
@pytest.mark.parametrize("name", DISGUISES)
def test_a_doctype_in_another_encoding_is_refused_without_a_connection(
        sso: Sso, browser: Browser, name: str, binding: str) -> None:
    with Listener() as listener:
        xml = _disguised(sso, listener.url, *DISGUISES[name])
        if binding == "redirect":
            response = sso.refuses(browser, "GET", sso.redirect(xml), 400)
        else:
            response = sso.refuses(browser, "POST", sso.url, 400,
                                   data={"SAMLRequest": base64.b64encode(xml).decode()})
    assert listener.connections == 0
    assert says(response.text, "not encoded in UTF-8") or says(response.text, "is not XML")


def _nested(sso: Sso, depth: int) -> bytes:
    deep = "<x>" * depth + "</x>" * depth
    return authn_request(sso.entity("rekenwonders"),
                         inner=f"<samlp:Extensions>{deep}</samlp:Extensions>")


@pytest.mark.parametrize("depth", [30_000, 100_000])
def test_deep_nesting_is_refused(sso: Sso, browser: Browser, depth: int) -> None:
    sso.refuses(browser, "GET", sso.redirect(_nested(sso, depth)), 400)


def test_a_post_over_max_content_length_is_a_clean_413(sso: Sso, browser: Browser) -> None:
    sso.refuses(browser, "POST", sso.url, 413, data={"SAMLRequest": "A" * (1024 * 1024 + 1)})


# -- every parameter once: a repeat is ambiguous, whichever copy a check reads ------------

def _query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)


def _redirect_repeats(sso: Sso, name: str) -> str:
    """A well-formed Taalapp request (signed query, a school hint) with `name` sent twice."""
    fields = {"SAMLRequest": deflated(authn_request(sso.entity("taalapp"), destination=sso.url)),
              "RelayState": "lesson-1"}
    query = signed_query(fields, sso.taalapp_key.key) + "&school=regenboog&idp_hint=regenboog"
    pairs = [tuple(pair.split("=", 1)) for pair in query.split("&")]
    again = next(value for key, value in pairs if key == name)
    return f"{sso.url}?{query}&{name}={again}"


def _post_request(sso: Sso) -> str:
    return base64.b64encode(authn_request(sso.entity("rekenwonders"),
                                          destination=sso.url)).decode()


REDIRECT_REPEATS = ("SAMLRequest", "RelayState", "SigAlg", "Signature", "school", "idp_hint")


@pytest.mark.parametrize("name", REDIRECT_REPEATS)
def test_a_parameter_repeated_in_the_query_is_refused(sso: Sso, browser: Browser,
                                                      name: str) -> None:
    sso.refuses(browser, "GET", _redirect_repeats(sso, name), 400, name, "more than once")


POST_REPEATS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    # name: (extra query, extra form) besides one SAMLRequest and RelayState in the form
    "SAMLRequest twice in the form": ([], [("SAMLRequest", "{request}")]),
    "RelayState twice in the form": ([], [("RelayState", "lesson-2")]),
    "SAMLRequest in the query and the form": ([("SAMLRequest", "{request}")], []),
    "RelayState in the query and the form": ([("RelayState", "lesson-1")], []),
    "school in the query and the form": ([("school", "regenboog")], [("school", "zonnebloem")]),
    "school twice in the query": ([("school", "regenboog"), ("school", "zonnebloem")], []),
    "idp_hint in the query and the form": ([("idp_hint", "regenboog")],
                                           [("idp_hint", "regenboog")]),
    "idp_hint twice in the form": ([], [("idp_hint", "regenboog"), ("idp_hint", "x")]),
}


@pytest.mark.parametrize("case", POST_REPEATS)
def test_a_parameter_repeated_in_a_post_is_refused(sso: Sso, browser: Browser,
                                                   case: str) -> None:
    request = _post_request(sso)
    query, form = ([(k, v.format(request=request)) for k, v in pairs]
                   for pairs in POST_REPEATS[case])
    name = (query or form)[0][0]
    url = f"{sso.url}?{_query(query)}" if query else sso.url
    data = [("SAMLRequest", request), ("RelayState", "lesson-1"), *form]
    sso.refuses(browser, "POST", url, 400, name, "more than once", data=data)


GET_BODIES = {"SAMLRequest": "SAMLRequest", "RelayState": "RelayState", "school": "school"}
"""A redirect (GET) that carries a field in a body as well as in its query."""


@pytest.mark.parametrize("name", GET_BODIES)
def test_a_redirect_with_the_parameter_in_a_body_too_is_refused(sso: Sso, browser: Browser,
                                                                name: str) -> None:
    once = _redirect_repeats(sso, "SAMLRequest").rsplit("&", 1)[0]
    other = {"SAMLRequest": _post_request(sso), "RelayState": "lesson-2", "school": "lyceum"}
    sso.refuses(browser, "GET", once, 400, name, "more than once", data={name: other[name]})


CONFLICTS: dict[str, tuple[str, dict[str, str]]] = {
    # name: (query, form); a form means the POST binding
    "school and idp_hint in the query": ("school=regenboog&idp_hint=lyceum", {}),
    "school in the query, idp_hint in the form": ("school=regenboog", {"idp_hint": "lyceum"}),
    "idp_hint in the query, school in the form": ("idp_hint=lyceum", {"school": "regenboog"}),
}


@pytest.mark.parametrize("case", CONFLICTS)
def test_hints_naming_two_schools_are_refused(sso: Sso, browser: Browser, case: str) -> None:
    query, form = CONFLICTS[case]
    if not form:
        url = sso.redirect(authn_request(sso.entity("rekenwonders"), destination=sso.url))
        sso.refuses(browser, "GET", f"{url}&{query}", 400, "different schools")
        return
    data = {"SAMLRequest": _post_request(sso), "RelayState": "lesson-1", **form}
    sso.refuses(browser, "POST", f"{sso.url}?{query}", 400, "different schools", data=data)


def test_the_same_requests_sent_once_are_answered(sso: Sso, browser: Browser) -> None:
    """The controls for the repeats above: each request itself is fine."""
    once = _redirect_repeats(sso, "SAMLRequest").rsplit("&", 1)[0]
    posted = {"SAMLRequest": _post_request(sso), "RelayState": "lesson-1"}
    for response in (send(browser, "GET", once),
                     send(browser, "POST", f"{sso.url}?school=regenboog", data=posted)):
        assert response.status_code in (200, 302, 303), response.text[:400]
