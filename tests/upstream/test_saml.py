"""Loper's SAML SP against a real pysaml2 IdP: what it accepts, and each thing it refuses."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT

from broker import acr, codec
from broker.acr import AcrRequest
from broker.errors import (
    BadRequest,
    BrokerError,
    ConfigError,
    LoginCancelled,
    LoginTooOld,
    UpstreamRejected,
)
from broker.records import School
from broker.upstream.oidc_kind import OidcSchool
from broker.upstream.saml import RequestState, SamlSpConfig, SamlUpstream
from broker.upstream.saml_checks import Expected, check_max_age
from broker.upstream.saml_kind import SamlSchool
from tests.upstream.saml_idp import (
    NS,
    PASSWORD,
    SAML,
    SAMLP,
    SCHOOL_IDP,
    Login,
    SchoolIdp,
    Tamper,
    encode,
    pending_login,
)

SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SECRETS = ("Sanne", "de Vries", "pupil-4711", "0612345678")


def rejected(login: Login, saml_response: str, state: bytes, match: str) -> None:
    """Refused with a message that says why, and never shows the pupil's data."""
    with pytest.raises(UpstreamRejected, match=match) as caught:
        login.finish(saml_response, state)
    assert not any(secret in caught.value.message for secret in SECRETS)


def iso(offset: float) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Loper's metadata and AuthnRequest ----------------------------------------------------


def test_metadata_offers_what_schools_need(upstream: SamlUpstream, sp_config: SamlSpConfig) -> None:
    root = etree.fromstring(upstream.metadata_xml().encode())
    sp = root.find(f"{{{MD}}}SPSSODescriptor")
    assert root.get("entityID") == sp_config.entity_id
    assert sp.get("AuthnRequestsSigned") == "true" and sp.get("WantAssertionsSigned") == "true"
    acs = sp.findall(f"{{{MD}}}AssertionConsumerService")
    assert [(a.get("Binding"), a.get("Location")) for a in acs] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", sp_config.acs_url)]
    uses = [kd.get("use") for kd in sp.findall(f"{{{MD}}}KeyDescriptor")]
    assert sorted(uses) == ["encryption", "encryption", "signing", "signing"]  # current + next
    certs = {c.text for c in sp.iter("{http://www.w3.org/2000/09/xmldsig#}X509Certificate")}
    assert len(certs) == 2
    assert sp.findtext(f"{{{MD}}}NameIDFormat") == (
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")


def test_authn_request_is_signed_sha256_over_redirect(upstream: SamlUpstream, idp: SchoolIdp,
                                                      sp_config: SamlSpConfig) -> None:
    login = Login(upstream, idp, idp.school())
    request, state = login.start(force_authn=True)  # the IdP verified the query signature
    outgoing, _ = upstream.login_redirect(login.school, pending_login(), "relay-1")
    query = dict(parse_qsl(urlsplit(outgoing.url).query))
    assert outgoing.form is None and query["SigAlg"] == SHA256
    assert query["RelayState"] == "relay-1"
    assert request.message.force_authn == "true"
    assert request.message.assertion_consumer_service_url == sp_config.acs_url
    assert request.message.name_id_policy.format.endswith(":persistent")
    kept = codec.decode(state, RequestState)
    assert kept is not None and kept.id == request.message.id and kept.force is True
    assert abs(kept.at - time.time()) < 5 and len(state) < 80


def test_authn_request_is_posted_when_the_idp_offers_no_redirect(
        upstream: SamlUpstream, post_only_idp: SchoolIdp) -> None:
    login = Login(upstream, post_only_idp, post_only_idp.school())
    outgoing, state = upstream.login_redirect(login.school, pending_login(), "relay-2")
    assert outgoing.form is not None and outgoing.form["RelayState"] == "relay-2"
    xml = etree.fromstring(base64.b64decode(outgoing.form["SAMLRequest"]))
    signed_info = xml.find("ds:Signature/ds:SignedInfo", NS)
    assert signed_info.find("ds:SignatureMethod", NS).get("Algorithm") == SHA256
    assert signed_info.find("ds:Reference/ds:DigestMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/04/xmlenc#sha256")
    assert xml.get("ForceAuthn") is None
    request = post_only_idp.parse(outgoing)  # verifies the embedded signature
    kept = codec.decode(state, RequestState)
    assert kept is not None and kept.id == request.message.id and len(state) < 80


# --- what is accepted --------------------------------------------------------------------


def test_valid_response_gives_the_identity(login: Login) -> None:
    request, state = login.start()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    callback = login.finish(encode(login.idp.respond(request)), state)
    identity = callback.identity
    assert identity.school_id == "regenboog" and identity.subject == "pupil-4711"
    assert dict(identity.attributes) == {
        "given_name": ("Sanne",), "family_name": ("de Vries",), "role": ("student", "member")}
    assert identity.authn.class_ref == PASSWORD
    assert identity.authn.instant.tzinfo is dt.UTC and identity.authn.instant >= before
    assert callback.replay_key.startswith("saml-assertion:id-")
    assert 5 * 60 <= callback.replay_ttl <= 5 * 60 + 60 + 2  # lifetime + skew


def test_encrypted_assertion_is_decrypted(login: Login) -> None:
    request, state = login.start()
    xml = login.idp.respond(request, encrypt=True)
    assert "EncryptedAssertion" in xml and "Sanne" not in xml
    assert login.finish(encode(xml), state).identity.attributes["given_name"] == ("Sanne",)


def test_assertion_encrypted_for_the_next_key_is_decrypted(login: Login,
                                                           sp_config: SamlSpConfig) -> None:
    request, state = login.start()
    assert sp_config.next_signing is not None
    next_cert = sp_config.next_signing.cert.read_text()
    xml = login.idp.respond(request, encrypt=True, encrypt_cert_assertion=next_cert)
    assert login.finish(encode(xml), state).identity.subject == "pupil-4711"


def test_signed_response_with_unsigned_assertion_is_accepted(login: Login) -> None:
    request, state = login.start()
    xml = login.idp.respond(request, sign_assertion=False, sign_response=True)
    assert login.finish(encode(xml), state).identity.subject == "pupil-4711"


def test_sha1_is_accepted_only_for_a_legacy_school(upstream: SamlUpstream, idp: SchoolIdp) -> None:
    login = Login(upstream, idp, idp.school())
    request, state = login.start()
    rejected(login, encode(idp.respond(request, sha1=True)), state, "rsa-sha1.*legacy_sha1")
    legacy = Login(upstream, idp, idp.school(legacy_sha1=True))
    request, state = legacy.start()
    assert legacy.finish(encode(idp.respond(request, sha1=True)), state).identity.subject


def test_sha1_inside_an_encrypted_assertion_is_rejected(login: Login) -> None:
    request, state = login.start()
    xml = login.idp.respond(request, sha1=True, encrypt=True)
    rejected(login, encode(xml), state, "assertion is signed with .*rsa-sha1")


@pytest.mark.parametrize(("subject", "values"), [
    ("email", ["sanne@regenboog.example"]),
    ("urn:oid:0.9.2342.19200300.100.1.3", ["sanne@regenboog.example"]),
    ("urn:oid:2.5.4.20", ["0612345678"]),  # outside the vocabulary: named exactly
])
def test_subject_from_an_attribute(upstream: SamlUpstream, idp: SchoolIdp, subject: str,
                                   values: list[str]) -> None:
    login = Login(upstream, idp, idp.school(subject=subject))
    request, state = login.start()
    identity = {"mail": ["sanne@regenboog.example"], "telephoneNumber": ["0612345678"]}
    xml = idp.respond(request, identity=identity, name_format=NAMEID_FORMAT_TRANSIENT)
    assert login.finish(encode(xml), state).identity.subject == values[0]
    assert request.message.name_id_policy is None


def test_subject_attribute_needs_exactly_one_value(upstream: SamlUpstream, idp: SchoolIdp) -> None:
    login = Login(upstream, idp, idp.school(subject="email"))
    request, state = login.start()
    xml = idp.respond(request, identity={"mail": ["a@regenboog.example", "b@regenboog.example"]})
    rejected(login, encode(xml), state, "2 values of email")


def test_advice_attributes_are_not_used(login: Login) -> None:
    request, state = login.start()
    tamper = Tamper(login.idp, request)
    advice = etree.fromstring(
        f'<saml:Advice xmlns:saml="{SAML}"><saml:Assertion ID="advice-1" Version="2.0" '
        f'IssueInstant="{iso(0)}"><saml:Issuer>{SCHOOL_IDP}</saml:Issuer>'
        '<saml:AttributeStatement><saml:Attribute Name="urn:oid:1.3.6.1.4.1.5923.1.1.1.1">'
        '<saml:AttributeValue>teacher</saml:AttributeValue></saml:Attribute>'
        '<saml:Attribute Name="urn:oid:0.9.2342.19200300.100.1.3">'
        '<saml:AttributeValue>head@regenboog.example</saml:AttributeValue></saml:Attribute>'
        '</saml:AttributeStatement></saml:Assertion></saml:Advice>')
    tamper.assertion.find("saml:Conditions", NS).addnext(advice)
    identity = login.finish(tamper.signed(), state).identity
    assert identity.attributes["role"] == ("student", "member")
    assert "email" not in identity.attributes


def test_a_new_metadata_is_picked_up(upstream: SamlUpstream, impostor: SchoolIdp) -> None:
    """The client cache is keyed by the metadata: a school's key rollover takes effect."""
    login = Login(upstream, impostor, impostor.school())
    request, state = login.start()
    assert login.finish(encode(impostor.respond(request)), state).identity.subject


# --- what is rejected ----------------------------------------------------------------------


def test_response_to_another_browsers_request(login: Login) -> None:
    request, _ = login.start()
    _, other_state = login.start()
    rejected(login, encode(login.idp.respond(request)), other_state, "another login request")


def test_unsolicited_response(login: Login) -> None:
    request, state = login.start()
    tamper = Tamper(login.idp, request)
    del tamper.root.attrib["InResponseTo"]
    del tamper.find(".//saml:SubjectConfirmationData").attrib["InResponseTo"]
    rejected(login, tamper.signed(), state, "unsolicited")


def test_subject_confirmation_for_another_request(login: Login) -> None:
    request, state = login.start()
    tamper = Tamper(login.idp, request)
    tamper.find(".//saml:SubjectConfirmationData").set("InResponseTo", "id-other")
    rejected(login, tamper.signed(), state, "SubjectConfirmationData does not answer")


def _set(path: str, attribute: str, value: str | Callable[[], str] | None) -> Any:
    """`value` may be a function, called when the test runs (a time relative to then, not to
    when the module was collected)."""
    def change(root: etree._Element) -> None:
        element = root if path == "." else root.find(path, NS)
        if value is None:
            del element.attrib[attribute]
        else:
            element.set(attribute, value() if callable(value) else value)
    return change


def _remove(path: str) -> Any:
    def change(root: etree._Element) -> None:
        for element in root.findall(path, NS):
            element.getparent().remove(element)
    return change


def _second_audience(root: etree._Element) -> None:
    conditions = root.find(".//saml:Conditions", NS)
    other = copy.deepcopy(conditions.find("saml:AudienceRestriction", NS))
    other.find("saml:Audience", NS).text = "https://other-sp.example"
    conditions.append(other)


def _status(root: etree._Element) -> None:
    code = root.find("samlp:Status/samlp:StatusCode", NS)
    code.set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
    etree.SubElement(code, f"{{{SAMLP}}}StatusCode",
                     Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed")
    etree.SubElement(code.getparent(), f"{{{SAMLP}}}StatusMessage").text = "Account locked"


def _two_assertions(root: etree._Element) -> None:
    second = copy.deepcopy(root.find("saml:Assertion", NS))
    second.set("ID", "id-second-assertion")
    root.append(second)


def _issuer(value: str) -> Any:
    def change(root: etree._Element) -> None:
        root.find("saml:Assertion/saml:Issuer", NS).text = value
    return change


def _response_issuer(value: str) -> Any:
    def change(root: etree._Element) -> None:
        root.find("saml:Issuer", NS).text = value
    return change


def _inverted_window(root: etree._Element) -> None:
    """Within the clock skew either way, but NotOnOrAfter before NotBefore."""
    conditions = root.find(".//saml:Conditions", NS)
    conditions.set("NotBefore", iso(30))
    conditions.set("NotOnOrAfter", iso(10))


def _unknown_element(root: etree._Element) -> None:
    etree.SubElement(root.find("saml:Assertion", NS), f"{{{SAML}}}Unknown").text = "x"


SC_DATA = ".//saml:SubjectConfirmationData"
CONDITIONS = ".//saml:Conditions"


@pytest.mark.parametrize(("change", "match"), [
    (_set(".", "Destination", None), "no Destination"),
    (_set(".", "Destination", "https://evil.example/acs"), "addressed to https://evil"),
    (_set(SC_DATA, "Recipient", "https://evil.example/acs"), "Recipient is https://evil"),
    (_set(SC_DATA, "NotOnOrAfter", lambda: iso(-120)), "SubjectConfirmation expired"),
    (_set(SC_DATA, "NotOnOrAfter", None), "has no NotOnOrAfter"),
    (_set(CONDITIONS, "NotOnOrAfter", lambda: iso(-120)), "assertion expired"),
    (_set(CONDITIONS, "NotBefore", lambda: iso(600)), "not valid before"),
    (_set(".//saml:SubjectConfirmation", "Method",
          "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"), "only bearer"),
    (_remove(".//saml:AudienceRestriction"), "no AudienceRestriction"),
    (_second_audience, "names \\['https://other-sp.example'\\], not Loper"),
    (_issuer("https://idp.lyceum.example/saml"), "assertion was issued by https://idp.lyceum"),
    (_response_issuer("https://idp.lyceum.example/saml"), "response was issued by https://idp"),
    (_set(SC_DATA, "InResponseTo", None), "SubjectConfirmationData does not answer"),
    (_remove(".//saml:AuthnStatement"), "0 AuthnStatements"),
    (_remove(".//saml:Subject"), "no Subject"),
    (_two_assertions, "2 assertions"),
    (_status, "status .*Responder / .*AuthnFailed: Account locked \\(and still carried"),
    (_set(".", "Version", "1.1"), "response is not SAML 2.0"),
    (_set("saml:Assertion", "Version", "3.0"), "assertion is not SAML 2.0"),
    (_inverted_window, "assertion is valid from .* until .*: never"),
    (_unknown_element, "assertion does not follow the SAML 2.0 XML Schema"),
])
def test_rejected(login: Login, change: Any, match: str) -> None:
    request, state = login.start()
    rejected(login, Tamper(login.idp, request).edit(change).signed(), state, match)


def _cancelled(second: str) -> Any:
    """The school's answer when the pupil pressed Cancel: an error status, no assertion."""
    def change(root: etree._Element) -> None:
        code = root.find("samlp:Status/samlp:StatusCode", NS)
        code.set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
        etree.SubElement(code, f"{{{SAMLP}}}StatusCode",
                         Value="urn:oasis:names:tc:SAML:2.0:status:" + second)
        for assertion in root.findall("saml:Assertion", NS):
            root.remove(assertion)
    return change


@pytest.mark.parametrize("second", ["AuthnFailed", "RequestDenied"])
def test_cancel_at_the_school_is_a_cancelled_login(login: Login, second: str) -> None:
    request, state = login.start()
    with pytest.raises(LoginCancelled):
        login.finish(Tamper(login.idp, request).edit(_cancelled(second)).signed(response=True),
                     state)


@pytest.mark.parametrize(("change", "match"), [
    (_set(".", "InResponseTo", "id-of-another-login"), "answers another login request"),
    (_set(".", "Destination", "https://evil.example/acs"), "addressed to https://evil"),
    (_response_issuer("https://idp.lyceum.example/saml"), "response was issued by https://idp"),
])
def test_a_cancel_that_does_not_answer_this_login_is_rejected(login: Login, change: Any,
                                                              match: str) -> None:
    request, state = login.start()
    answer = Tamper(login.idp, request).edit(_cancelled("AuthnFailed")).edit(change).signed(
        response=True)
    rejected(login, answer, state, match)


def test_checks_apply_inside_an_encrypted_assertion(login: Login) -> None:
    request, state = login.start(force_authn=True)
    xml = login.idp.respond(request, encrypt=True, authn_instant=time.time() - 3600)
    rejected(login, encode(xml), state, "fresh login")
    request, state = login.start()
    xml = login.idp.respond(request, encrypt=True, name_format=NAMEID_FORMAT_TRANSIENT)
    rejected(login, encode(xml), state, "transient NameID")


def test_malformed_status_and_signature(login: Login) -> None:
    request, state = login.start()
    no_value = Tamper(login.idp, request).edit(_set("samlp:Status/samlp:StatusCode", "Value", None))
    rejected(login, no_value.signed(), state, "status None")
    request, state = login.start()
    root = etree.fromstring(login.idp.respond(request).encode())
    for child in root.find(".//ds:SignedInfo", NS):
        child.getparent().remove(child)
    rejected(login, encode(root), state, "malformed Signature")


def test_unsigned(login: Login) -> None:
    request, state = login.start()
    xml = login.idp.respond(request, sign_assertion=False)
    rejected(login, encode(xml), state, "Neither the response nor the assertion is signed")


@pytest.mark.parametrize("options", [{}, {"encrypt": True},
                                     {"sign_assertion": False, "sign_response": True}])
def test_signed_by_another_schools_key(login: Login, impostor: SchoolIdp,
                                       options: dict[str, Any]) -> None:
    request, state = login.start()
    xml = impostor.respond(request, **options)  # school A's entity id, school B's key
    rejected(login, encode(xml), state, "cannot be verified with the keys")


def test_edited_after_signing(login: Login) -> None:
    request, state = login.start()
    root = etree.fromstring(login.idp.respond(request).encode())
    root.find(".//saml:Attribute/saml:AttributeValue", NS).text = "Admin"
    rejected(login, encode(root), state, "cannot be verified with the keys")


def test_signature_wrapping_with_a_duplicate_id(login: Login) -> None:
    request, state = login.start()
    root = etree.fromstring(login.idp.respond(request).encode())
    genuine = root.find("saml:Assertion", NS)
    evil = copy.deepcopy(genuine)  # same ID, so the genuine signature would still verify
    evil.find(".//saml:NameID", NS).text = "someone-else"
    genuine.addprevious(evil)
    rejected(login, encode(root), state, "two elements with the same ID")


def test_error_status_without_assertion(login: Login) -> None:
    request, state = login.start()
    error = login.idp.server.create_error_response(  # not a Cancel (tested above): refused
        request.message.id, request.message.assertion_consumer_service_url,
        ("urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal", "No such pupil"))
    rejected(login, encode(str(error)), state, "answered with status .*Responder")


def test_force_authn_with_an_old_login(login: Login) -> None:
    request, state = login.start(force_authn=True)
    xml = login.idp.respond(request, authn_instant=time.time() - 3600)
    rejected(login, encode(xml), state, "fresh login")
    request, state = login.start()  # without ForceAuthn an earlier login is fine
    assert login.finish(encode(login.idp.respond(request, authn_instant=time.time() - 3600)),
                        state).identity.subject


def test_max_age_zero_asks_the_school_for_a_fresh_login_at_once(login: Login) -> None:
    request, state = login.start(max_age=0)
    assert request.message.force_authn == "true"
    rejected(login, encode(login.idp.respond(request, authn_instant=time.time() - 600)), state,
             "fresh login")
    request, state = login.start(max_age=0)
    assert login.finish(encode(login.idp.respond(request)), state).identity.subject


def test_max_age_lets_a_fresh_enough_school_session_answer(login: Login) -> None:
    """SAML has no max_age (OIDC Core 3.1.2.1): the school is asked without ForceAuthn, and its
    AuthnInstant is checked against max_age."""
    request, state = login.start(max_age=3600)
    assert request.message.force_authn is None
    xml = login.idp.respond(request, authn_instant=time.time() - 1800)
    assert login.finish(encode(xml), state).identity.subject == "pupil-4711"


def test_max_age_with_an_older_school_session_asks_for_a_retry(login: Login) -> None:
    request, state = login.start(max_age=3600)
    with pytest.raises(LoginTooOld, match="older than the learning app accepts"):
        login.finish(encode(login.idp.respond(request, authn_instant=time.time() - 7200)), state)


def test_max_age_with_an_old_answer_to_forced_login_is_refused(login: Login) -> None:
    request, state = login.start(max_age=3600, force_authn=True)
    assert request.message.force_authn == "true"
    xml = login.idp.respond(request, authn_instant=time.time() - 7200)
    with pytest.raises(UpstreamRejected, match="fresh login") as caught:
        login.finish(encode(xml), state)
    assert not isinstance(caught.value, LoginTooOld)


@pytest.mark.parametrize(("force", "age", "raised"), [
    (False, 100, None), (False, 400, LoginTooOld), (True, 400, UpstreamRejected),
])
def test_check_max_age(force: bool, age: float, raised: type[Exception] | None) -> None:
    """Forced, an answer may pass the ForceAuthn check (issued after the request) and still be
    older than max_age: the pupil took longer than max_age at the school."""
    now = time.time()
    exp = Expected("sp", "acs", "idp", "id", now - 1000, force, 60, False, now, max_age=300)
    at = dt.datetime.fromtimestamp(now - age, dt.UTC)
    if raised is None:
        check_max_age(at, exp)
        return
    with pytest.raises(raised, match="300 seconds") as caught:
        check_max_age(at, exp)
    assert type(caught.value) is raised


@pytest.mark.parametrize(("name_format", "match"), [
    (NAMEID_FORMAT_TRANSIENT, "transient NameID"),
    (NAMEID_FORMAT_EMAILADDRESS, "format .*emailAddress"),
])
def test_nameid_that_is_not_persistent(login: Login, name_format: str, match: str) -> None:
    request, state = login.start()
    rejected(login, encode(login.idp.respond(request, name_format=name_format)), state, match)


@pytest.mark.parametrize("value", [
    "%%% not base64 %%%",
    base64.b64encode(b"hello, world").decode(),
    encode('<!DOCTYPE r [<!ENTITY x "y">]><samlp:Response xmlns:samlp="' + SAMLP + '"/>'),
    encode("<samlp:Response xmlns:samlp='" + SAMLP + "'><unclosed></samlp:Response>"),
    encode("<samlp:AuthnRequest xmlns:samlp='" + SAMLP + "' ID='a' Version='2.0' "
           "IssueInstant='2024-01-01T00:00:00Z'/>"),
    "",
])
def test_undecodable_input(login: Login, value: str) -> None:
    _, state = login.start()
    with pytest.raises(BadRequest):
        login.finish(value, state)


def test_incomplete_state(login: Login) -> None:
    request, state = login.start()
    for broken in (b"", state[:-2], codec.encode({"id": request.message.id})):
        with pytest.raises(BadRequest, match="state"):
            login.finish(encode(login.idp.respond(request)), broken)


def test_misconfigured_schools(upstream: SamlUpstream, idp: SchoolIdp) -> None:
    metadata = idp.metadata_xml()
    wrong_entity = School("x", "X", SamlSchool(metadata, "https://nobody.example"))
    with pytest.raises(ConfigError, match="holds no IdP"):
        upstream.login_redirect(wrong_entity, pending_login(), "")
    with pytest.raises(ConfigError, match="not configured for SAML"):
        upstream.login_redirect(School("y", "Y", OidcSchool("https://y.example", "loper")),
                                pending_login(), "")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mangled_response_ends_in_a_broker_error(login: Login, data: st.DataObject) -> None:
    """Whatever is cut out or rewritten, pysaml2's own exceptions never escape."""
    request, state = login.start()
    tamper = Tamper(login.idp, request, encrypt=data.draw(st.booleans()))
    elements = list(tamper.root.iter())
    element = data.draw(st.sampled_from(elements))
    action = data.draw(st.sampled_from(["remove", "text", "attribute"]))
    junk = data.draw(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12))
    if action == "remove" and element is not tamper.root:
        element.getparent().remove(element)
    elif action == "text":
        element.text = junk
    elif element.attrib:
        name = data.draw(st.sampled_from(sorted(element.attrib)))
        element.set(name, junk)
    try:
        saml_response = tamper.signed()
    except Exception:  # the edit broke what signing needs: send it unsigned
        saml_response = encode(tamper.root)
    try:
        login.finish(saml_response, state)
    except BrokerError:
        pass


@pytest.mark.parametrize("comparison", ["exact", "minimum", "better"])
def test_a_suppliers_required_context_is_passed_on(upstream: SamlUpstream, idp: SchoolIdp,
                                                   comparison: str) -> None:
    login = Login(upstream, idp, idp.school())
    classes = ("https://refeds.org/profile/mfa", acr.AC + "MobileTwoFactorContract")
    request, _ = login.start(acr=AcrRequest(classes, comparison))
    context = request.message.requested_authn_context
    assert context.comparison == comparison
    assert [ref.text for ref in context.authn_context_class_ref] == list(classes)


def test_a_voluntary_context_stays_out(upstream: SamlUpstream, idp: SchoolIdp) -> None:
    """OIDC acr_values are voluntary; a SAML IdP must refuse what it cannot meet."""
    login = Login(upstream, idp, idp.school())
    request, _ = login.start(acr=AcrRequest(("https://refeds.org/profile/mfa",), required=False))
    assert request.message.requested_authn_context is None
