"""Fuzzing Loper's protocol entry points with hypothesis, through the Flask test client of the
real app of the running federation (so suppliers, schools and Redis are real).

Each entry point gets random bytes, random text, random XML shapes of SAML element names, and
mutations of a genuine message; the properties are: never a 5xx, never a stack trace, and an
HTML answer is Loper's page. The runs are bounded (200 examples per entry point, no deadline,
derandomized, no example database) so CI is stable and quick. A last test sends the largest
inputs each entry point can get and bounds the memory Python allocates for them.

Entry points and cases: /saml/idp/sso GET and POST, /saml/sp/acs (with a pending login),
/oidc/authorize, /oidc/token, /oidc/userinfo, /oidc/callback (with a pending login at the
Lyceum): 7 x 200 examples; memory for the largest inputs 8.

Covered elsewhere and not repeated here: tests/upstream/test_saml.py (40 mangled responses
against SamlUpstream directly).
"""

from __future__ import annotations

import base64
import resource
import tracemalloc
import zlib
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from tests.flows.conftest import Federation
from tests.flows.oidc_clients import RpClient
from tests.hostile.attacker import (
    SAML_NS,
    SchoolSide,
    Started,
    authn_request,
    deflated,
    query_of,
)
from tests.peers.browser import decode_saml

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
MEMORY_LIMIT = 12 * 1024 * 1024
"""Python's allocations for one request, at their peak (the largest inputs take up to 6 MB)."""
FORM_PARSING_LIMIT = 160 * 1024 * 1024
"""For a 1 MB form body made of percent-escapes: werkzeug's urlencoded parsing (CPython's
parse_qsl / unquote) allocates about 80 bytes per escape, some 80 MB at the peak, before any
of Loper's code runs. Linear in MAX_CONTENT_LENGTH, so bounded; a proxy's body limit below
1 MB lowers it."""

TAGS = ["samlp:AuthnRequest", "samlp:Response", "saml:Assertion", "saml:Issuer",
        "saml:Subject", "saml:NameID", "saml:Conditions", "saml:AudienceRestriction",
        "saml:Audience", "saml:AttributeStatement", "saml:Attribute", "saml:AttributeValue",
        "samlp:Status", "samlp:StatusCode", "samlp:Extensions", "samlp:NameIDPolicy",
        "ds:Signature", "ds:SignedInfo", "ds:Reference", "ds:SignatureValue", "ds:KeyInfo",
        "xenc:EncryptedData", "x"]
ATTRIBUTES = ["ID", "Version", "IssueInstant", "Destination", "InResponseTo", "URI",
              "AssertionConsumerServiceURL", "AssertionConsumerServiceIndex", "Algorithm",
              "Format", "IsPassive", "ForceAuthn", "Value", "NotOnOrAfter", "Method"]
NAMESPACES = (f'xmlns:samlp="{SAML_NS["samlp"]}" xmlns:saml="{SAML_NS["saml"]}" '
              f'xmlns:ds="{SAML_NS["ds"]}" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"')

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)
XML_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=40)
TOKENISH = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=%",
                   max_size=120)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=200)


def _element(tag: str, attributes: dict[str, str], children: list[str]) -> str:
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in attributes.items())
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>"


LEAVES = XML_TEXT.map(escape) | st.builds(_element, st.sampled_from(TAGS),
                                          st.dictionaries(st.sampled_from(ATTRIBUTES),
                                                          XML_TEXT, max_size=3),
                                          st.just([]))
TREES = st.recursive(LEAVES, lambda children: st.builds(
    _element, st.sampled_from(TAGS), st.dictionaries(st.sampled_from(ATTRIBUTES), XML_TEXT,
                                                     max_size=4),
    st.lists(children, max_size=4)), max_leaves=25)


@st.composite
def xml_shapes(draw: st.DrawFn, root: str) -> bytes:
    body = draw(st.lists(TREES, max_size=4))
    attrs = draw(st.dictionaries(st.sampled_from(ATTRIBUTES), XML_TEXT, max_size=5))
    rendered = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{root} {NAMESPACES}{rendered}>{''.join(body)}</{root}>".encode()


def mutated(draw: st.DrawFn, xml: bytes) -> bytes:
    """A genuine message, cut or changed at a random place (bytes: may break well-formedness)."""
    at = draw(st.integers(0, len(xml)))
    how = draw(st.sampled_from(["cut", "insert", "replace", "drop"]))
    junk = draw(st.binary(max_size=20) | XML_TEXT.map(str.encode) | st.sampled_from(
        [b"<!---->", b"<x>", b"</saml:Assertion>", b'"', b"&amp;", b"\x00"]))
    if how == "cut":
        return xml[:at]
    if how == "insert":
        return xml[:at] + junk + xml[at:]
    if how == "replace":
        return xml[:at] + junk + xml[at + len(junk):]
    return xml[:at] + xml[at + draw(st.integers(1, 40)):]


def encodings(draw: st.DrawFn, xml: bytes, deflate: bool) -> str:
    choice = draw(st.sampled_from(["proper", "raw base64", "text"]))
    if choice == "proper":
        return deflated(xml) if deflate else base64.b64encode(xml).decode()
    if choice == "raw base64":
        return base64.b64encode(draw(st.binary(max_size=600))).decode()
    return draw(TEXT)


def assert_clean(response: TestResponse, what: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (what, response.status_code, body[:400])
    assert "Traceback" not in body and 'File "' not in body, what
    if response.mimetype == "text/html" and response.status_code >= 400:
        assert 'class="error-id"' in body, (what, body[:400])


@pytest.fixture
def client(federation: Federation) -> FlaskClient:
    """A browser of its own for each entry point (a fuzzed answer that happens to be valid
    logs it in; no other entry point's run inherits that session)."""
    return federation.running.apps["broker"].test_client()


def _entity(federation: Federation, supplier: str) -> str:
    record = federation.registry.supplier(supplier)
    assert record is not None and record.protocol == "saml"
    return record.config.entity_id


def _start(client: FlaskClient, federation: Federation, school: str) -> Started:
    """A pending login at `school` in the test client's browser: its login id, and the id of
    Loper's AuthnRequest to the school (SAML)."""
    xml = authn_request(_entity(federation, "rekenwonders"))
    response = client.get("/saml/idp/sso",
                          query_string={"SAMLRequest": deflated(xml), "school": school})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    query = query_of(response.headers["Location"])
    if "state" in query:
        return Started("", query["state"])
    request = etree.fromstring(decode_saml(query["SAMLRequest"]).encode())
    return Started(str(request.get("ID")), query["RelayState"])


# -- the SAML entry points --------------------------------------------------------------------

@st.composite
def authn_requests(draw: st.DrawFn, entity: str, deflate: bool) -> dict[str, str]:
    kind = draw(st.sampled_from(["shape", "mutated", "bytes"]))
    if kind == "shape":
        xml = draw(xml_shapes("samlp:AuthnRequest"))
    elif kind == "mutated":
        xml = mutated(draw, authn_request(entity, passive=draw(st.sampled_from([None, "true"]))))
    else:
        xml = draw(st.binary(max_size=800))
    fields = {"SAMLRequest": encodings(draw, xml, deflate)}
    for name in draw(st.sets(st.sampled_from(["RelayState", "SigAlg", "Signature", "school"]))):
        fields[name] = draw(TEXT)
    return fields


@FUZZ
@given(data=st.data())
def test_fuzz_sso_redirect(client: FlaskClient, federation: Federation,
                           data: st.DataObject) -> None:
    fields = data.draw(authn_requests(_entity(federation, "rekenwonders"), True))
    assert_clean(client.get("/saml/idp/sso", query_string=fields), "GET /saml/idp/sso")


@FUZZ
@given(data=st.data())
def test_fuzz_sso_post(client: FlaskClient, federation: Federation,
                       data: st.DataObject) -> None:
    fields = data.draw(authn_requests(_entity(federation, "rekenwonders"), False))
    assert_clean(client.post("/saml/idp/sso", data=fields), "POST /saml/idp/sso")


ANSWERS = [{}, {"sign_response": True}, {"sign_response": True, "sign_assertion": False},
           {"encrypt_assertion": True}]


@FUZZ
@given(data=st.data())
def test_fuzz_acs(client: FlaskClient, federation: Federation, school: SchoolSide,
                  data: st.DataObject) -> None:
    started = _start(client, federation, "regenboog")
    kind = data.draw(st.sampled_from(["shape", "mutated", "bytes"]))
    if kind == "shape":
        xml = data.draw(xml_shapes("samlp:Response"))
    elif kind == "mutated":  # a genuine answer to this very login, then damaged
        options = data.draw(st.sampled_from(ANSWERS))
        xml = mutated(data.draw, base64.b64decode(school.answer(started, **options)))
    else:
        xml = data.draw(st.binary(max_size=800))
    login_id = started.relay_state
    relay = data.draw(st.sampled_from([login_id, login_id, login_id[:-1], ""]) | TEXT)
    response = client.post("/saml/sp/acs", data={"SAMLResponse": encodings(data.draw, xml, False),
                                                  "RelayState": relay})
    assert_clean(response, "POST /saml/sp/acs")


# -- the OIDC entry points --------------------------------------------------------------------

def _values(client_id: str, redirect_uri: str) -> st.SearchStrategy[str]:
    return st.sampled_from([client_id, redirect_uri, "code", "openid", "openid profile email",
                            "S256", "plain", "none", "login", "a" * 43, "0", "-1", "",
                            "https://evil.example/", "regenboog", "lyceum"]) | TEXT


AUTHORIZE_NAMES = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                   "code_challenge", "code_challenge_method", "prompt", "max_age",
                   "response_mode", "request", "request_uri", "school", "idp_hint",
                   "id_token_hint", "claims"]


@FUZZ
@given(data=st.data())
def test_fuzz_authorize(client: FlaskClient, strict_client: RpClient,
                        data: st.DataObject) -> None:
    values = _values(strict_client.client_id, strict_client.redirect_uri)
    params = data.draw(st.lists(st.tuples(st.sampled_from(AUTHORIZE_NAMES) | TOKENISH, values),
                                max_size=12))
    if data.draw(st.booleans()):
        response = client.get("/oidc/authorize", query_string=params)
    else:
        response = client.post("/oidc/authorize", data=MultiDict(params))
    assert_clean(response, "/oidc/authorize")
    if response.status_code == 303:
        assert "code=" not in response.headers["Location"], "no login, so no code"


@FUZZ
@given(data=st.data())
def test_fuzz_token(client: FlaskClient, strict_client: RpClient, data: st.DataObject) -> None:
    values = _values(strict_client.client_id, strict_client.redirect_uri) | st.sampled_from(
        ["authorization_code", "refresh_token", strict_client.secret,
         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
         "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdHJpY3QtcnAifQ."])
    names = ["grant_type", "code", "redirect_uri", "code_verifier", "client_id",
             "client_secret", "client_assertion", "client_assertion_type", "refresh_token",
             "scope"]
    form = data.draw(st.lists(st.tuples(st.sampled_from(names) | TOKENISH, values),
                              max_size=10))
    headers = {}
    if data.draw(st.booleans()):
        pair = data.draw(st.sampled_from([f"{strict_client.client_id}:{strict_client.secret}",
                                          f"{strict_client.client_id}:"]) | HEADER_TEXT)
        scheme = data.draw(st.sampled_from(["Basic ", "basic ", "Bearer ", ""]))
        headers["Authorization"] = scheme + base64.b64encode(pair.encode()).decode()
    response = client.post("/oidc/token", data=MultiDict(form), headers=headers)
    assert_clean(response, "/oidc/token")
    assert response.status_code != 200, "no code was ever issued to these requests"


@FUZZ
@given(data=st.data())
def test_fuzz_userinfo(client: FlaskClient, data: st.DataObject) -> None:
    headers = {}
    if data.draw(st.booleans()):
        headers["Authorization"] = data.draw(
            st.sampled_from(["Bearer ", "bearer ", "Basic ", ""])) + data.draw(HEADER_TEXT)
    form = data.draw(st.dictionaries(st.sampled_from(["access_token", "x"]) | TOKENISH,
                                     TOKENISH, max_size=3))
    method = data.draw(st.sampled_from(["GET", "POST"]))
    response = client.open("/oidc/userinfo", method=method, headers=headers,
                           data=form if method == "POST" else None)
    assert_clean(response, "/oidc/userinfo")
    assert response.status_code in (400, 401)


@FUZZ
@given(data=st.data())
def test_fuzz_callback(client: FlaskClient, federation: Federation,
                       data: st.DataObject) -> None:
    login_id = _start(client, federation, "lyceum").relay_state
    values = st.sampled_from([login_id, federation.running.schools["lyceum"], "access_denied",
                              "c" * 5000, ""]) | TEXT
    names = ["code", "state", "iss", "error", "error_description", "session_state"]
    params = data.draw(st.lists(st.tuples(st.sampled_from(names) | TOKENISH, values),
                                max_size=8))
    response = client.get("/oidc/callback", query_string=params)
    assert_clean(response, "/oidc/callback")
    assert response.status_code != 200 and "Location" not in response.headers


# -- bounded memory for the largest inputs ---------------------------------------------------

def _bomb() -> str:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = b"".join(packer.compress(b"\0" * (1 << 20)) for _ in range(64)) + packer.flush()
    return base64.b64encode(data).decode()


def _nested(federation: Federation, depth: int) -> bytes:
    deep = "<x>" * depth + "</x>" * depth
    return authn_request(_entity(federation, "rekenwonders"),
                         inner=f"<samlp:Extensions>{deep}</samlp:Extensions>")


def _wide(federation: Federation) -> bytes:
    wide = "".join(f'<x ID="_{i}" a="{i}"/>' for i in range(9000))
    return authn_request(_entity(federation, "rekenwonders"),
                         inner=f"<samlp:Extensions>{wide}</samlp:Extensions>")


LARGEST: dict[str, Callable[[FlaskClient, Federation], TestResponse]] = {
    "a 1 MB post": lambda c, f: c.post("/saml/sp/acs",
                                       data={"SAMLResponse": "A" * (1024 * 1024 + 64)}),
    "a 64 MB deflate bomb": lambda c, f: c.get("/saml/idp/sso",
                                               query_string={"SAMLRequest": _bomb()}),
    "30k nested elements": lambda c, f: c.get("/saml/idp/sso", query_string={
        "SAMLRequest": deflated(_nested(f, 30_000))}),
    "9000 elements with IDs, at the ACS": lambda c, f: c.post("/saml/sp/acs", data={
        "SAMLResponse": base64.b64encode(_wide(f)).decode(),
        "RelayState": _start(c, f, "regenboog").relay_state}),
    "512 kB of base64 in one-character pieces": lambda c, f: c.post("/saml/idp/sso", data={
        "SAMLRequest": "A " * (256 * 1024)}),
    "an authorization request of 900 kB": lambda c, f: c.post("/oidc/authorize", data={
        "client_id": "x" * 300_000, "redirect_uri": "y" * 300_000, "state": "z" * 300_000}),
    "a 4096-character callback": lambda c, f: c.get("/oidc/callback", query_string={
        "state": _start(c, f, "lyceum").relay_state, "code": "c" * 4096}),
    "1 MB of percent-escapes": lambda c, f: c.post(
        "/oidc/token", data="code=" + "%2B" * 349_000,
        content_type="application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("name", LARGEST)
def test_the_largest_inputs_use_bounded_memory(client: FlaskClient, federation: Federation,
                                               name: str) -> None:
    send = LARGEST[name]
    send(client, federation)  # warm caches, so the measurement is the request's own
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        response = send(client, federation)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert_clean(response, name)
    assert 400 <= response.status_code < 500, response.status_code
    limit = FORM_PARSING_LIMIT if "percent" in name else MEMORY_LIMIT
    assert peak < limit, f"{name}: {peak / 1e6:.1f} MB at the peak"
    assert grown_kb < 2 * limit // 1024, f"{name}: the process grew {grown_kb} kB"
