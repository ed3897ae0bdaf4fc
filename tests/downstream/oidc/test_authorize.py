"""The authorization request: validation, error redirects and the answers to the flow.

OpenID conformance (Basic OP): oidcc-response-type-missing, oidcc-ensure-registered-redirect-uri,
oidcc-redirect-uri-query-OK / -mismatch / -added, oidcc-prompt-login,
oidcc-prompt-none-not-logged-in, oidcc-max-age-1 / -10000,
oidcc-ensure-request-with-unknown-parameter-succeeds, oidcc-ensure-other-scope-order-succeeds,
oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported.
"""

from __future__ import annotations

import pytest

from broker import codec
from broker.acr import AcrRequest
from broker.downstream import NO_AUTHN_CONTEXT, NO_PASSIVE, STOPPED, DownstreamRequest
from broker.downstream.oidc_authorize import Ask
from broker.downstream.oidc_op import OidcOp
from broker.downstream.saml_kind import SamlSupplier
from broker.errors import BadRequest, BrokerError, RequestRejected, UnknownSupplier
from broker.outgoing import Outgoing
from broker.records import Supplier
from tests.downstream.oidc.conftest import (
    ISSUER,
    REDIRECT,
    REDIRECT_VARIANTS,
    Rp,
    make_supplier,
    query_of,
    released_for,
)


def _error(outcome: DownstreamRequest | Outgoing) -> dict[str, str]:
    assert isinstance(outcome, Outgoing) and outcome.form is None
    assert outcome.url.startswith(REDIRECT + "?")
    query = query_of(outcome.url)
    assert query["iss"] == ISSUER and "code" not in query  # RFC 9207
    return query


def test_a_valid_request_becomes_a_downstream_request(rp: Rp) -> None:
    req = rp.authorize(nonce="n-0S6_WzA2Mj", school="regenboog", idp_hint="regenboog",
                       scope="openid profile email offline_access phone")
    assert req.supplier == rp.supplier and not req.passive and not req.force_authn
    assert req.school_hints == ("regenboog",)
    ask = Ask.read(req.request)  # the flow keeps these bytes and hands them back
    assert ask.client_id == "taalapp" and ask.redirect_uri == REDIRECT
    # offline_access is not allowed for this client; phone is not a scope Loper knows
    assert ask.scope == ("openid", "profile", "email")
    assert ask.nonce == "n-0S6_WzA2Mj"
    assert ask.code_challenge == rp.challenge


def test_the_kept_request_stays_small_at_the_caps(rp: Rp) -> None:
    req = rp.authorize(state="s" * 2048, nonce="n" * 255, code_challenge="c" * 128)
    assert len(req.request) < 2700
    assert len(rp.authorize(nonce="n" * 32).request) < 400


@pytest.mark.parametrize(("prompt", "passive", "force", "select"), [
    ("", False, False, False), ("none", True, False, False), ("login", False, True, False),
    ("consent", False, False, False), ("login consent", False, True, False),
    ("select_account", False, False, True), ("login  select_account", False, True, True),
    ("consent select_account", False, False, True)])
def test_prompt(rp: Rp, prompt: str, passive: bool, force: bool, select: bool) -> None:
    req = rp.authorize(prompt=prompt, school="regenboog")
    assert (req.passive, req.force_authn, req.select_school) == (passive, force, select)
    assert req.school_hints == ("regenboog",)  # the flow ignores them for select_school


def test_consent_with_offline_access_is_accepted(offline_rp: Rp) -> None:
    """OIDC Core 11: the registration's offline_access is the other condition (see
    broker/downstream/oidc_authorize.py); without it, the scope is dropped, not refused."""
    req = offline_rp.authorize(prompt="consent", scope="openid offline_access")
    assert Ask.read(req.request).scope == ("openid", "offline_access")


@pytest.mark.parametrize(("prompt", "described"), [
    ("create", "prompt=create is not supported"),
    ("select_acount", "prompt=select_acount is not supported"),
    ("login Consent", "prompt=Consent is not supported"),
    ("none select_account", "prompt=none cannot be combined"),
    ("none foo", "prompt=foo is not supported"),
    ('x"\\é\x01' + "y" * 100, "prompt=x????" + "y" * 35 + "... is not"),  # RFC 6749 4.1.2.1
    ("z" * 10_000, "prompt=" + "z" * 40 + "... is not"),
])
def test_a_prompt_not_honoured_goes_back_named(rp: Rp, prompt: str, described: str) -> None:
    params = rp.params(prompt=prompt)
    query = _error(rp.op.parse_authorization(params))
    assert query["error"] == "invalid_request" and query["state"] == params["state"]
    assert query["error_description"].startswith(described)
    assert len(query["error_description"]) < 200  # a 10 kB value is never echoed


@pytest.mark.parametrize("extra", [
    {"scope": "email openid profile"}, {"display": "page"}, {"ui_locales": "nl en"},
    {"claims_locales": "nl"}, {"login_hint": "anna"}, {"acr_values": "urn:x"},
    {"id_token_hint": "eyJ.x.y"}, {"claims": '{"id_token":{"email":{"essential":true}}}'},
    {"foo": "bar"}])
def test_unknown_and_ignored_parameters_succeed(rp: Rp, extra: dict[str, str]) -> None:
    assert rp.login(**extra)["code"]


def test_a_registered_redirect_uri_with_a_query_keeps_it(
        op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    registered = "https://querier.example/cb?tenant=1"
    suppliers["querier"] = make_supplier("querier", redirect_uris=(registered,))
    rp = Rp(op, suppliers["querier"])
    req = rp.authorize(redirect_uri=registered)
    answer = op.respond(rp.supplier, req.request, released_for(rp.supplier))
    assert answer.url.startswith(registered + "&code=")
    assert query_of(answer.url)["tenant"] == "1"
    with pytest.raises(RequestRejected):
        op.parse_authorization(rp.params(redirect_uri="https://querier.example/cb?tenant=2"))


def test_acr_values_are_passed_to_the_flow_as_voluntary(rp: Rp) -> None:
    mfa = "https://refeds.org/profile/mfa"
    assert rp.authorize(acr_values=f"{mfa} urn:school:pw").acr == AcrRequest(
        (mfa, "urn:school:pw"), "exact", required=False)
    assert rp.authorize().acr is None and rp.authorize(acr_values="").acr is None


def test_max_age_is_passed_to_the_flow(rp: Rp) -> None:
    assert rp.authorize(max_age="0").max_age == 0
    assert rp.authorize(max_age="3600").max_age == 3600
    assert rp.authorize().max_age is None


@pytest.mark.parametrize(("extra", "error"), [
    ({"response_type": None}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": "code id_token"}, "unsupported_response_type"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"scope": None}, "invalid_scope"),
    ({"scope": "profile email"}, "invalid_scope"),
    ({"scope": "OPENID"}, "invalid_scope"),
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),  # the default method is plain
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge": "a" * 42}, "invalid_request"),
    ({"code_challenge": "a" * 129}, "invalid_request"),
    ({"code_challenge": "a" * 42 + "="}, "invalid_request"),
    ({"code_challenge": "a" * 42 + "+"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"max_age": "soon"}, "invalid_request"),
    ({"max_age": "１"}, "invalid_request"),  # a full-width digit
    ({"nonce": "n" * 256}, "invalid_request"),
    ({"acr_values": " ".join(f"urn:acr:{i}" for i in range(17))}, "invalid_request"),
    ({"acr_values": "urn:" + "a" * 1100}, "invalid_request"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ({"request_uri": "https://evil.example/r"}, "request_uri_not_supported"),
])
def test_errors_go_back_to_the_checked_redirect_uri(rp: Rp, extra: dict[str, str | None],
                                                    error: str) -> None:
    params = rp.params(**extra)
    query = _error(rp.op.parse_authorization(params))
    assert query["error"] == error and query["error_description"]
    assert query["state"] == params["state"]


def test_pkce_may_be_waived_per_client(op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    legacy = Rp(op, suppliers["legacy"])
    req = legacy.authorize(code_challenge=None, code_challenge_method=None)
    assert Ask.read(req.request).code_challenge is None
    assert _error(op.parse_authorization(legacy.params(code_challenge_method="plain")))


def test_an_id_token_alg_loper_does_not_offer_is_refused(
        op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    suppliers["odd"] = make_supplier("odd", id_token_alg="PS256")
    query = _error(op.parse_authorization(Rp(op, suppliers["odd"]).params()))
    assert query["error"] == "server_error"


@pytest.mark.parametrize(("change", "page"), [
    ({"client_id": None}, BadRequest),
    ({"client_id": ""}, BadRequest),
    ({"client_id": "x" * 300}, BadRequest),
    ({"client_id": "nobody"}, UnknownSupplier),
    ({"client_id": "Taalapp"}, UnknownSupplier),
    *(({"redirect_uri": uri}, RequestRejected) for uri in REDIRECT_VARIANTS.values()),
])
def test_client_and_redirect_uri_problems_end_on_an_error_page(
        rp: Rp, change: dict[str, str | None], page: type[BrokerError]) -> None:
    with pytest.raises(page) as caught:
        rp.op.parse_authorization(rp.params(**change))
    assert 400 <= caught.value.status < 500
    assert caught.value.back_url in (None, "https://taalapp.example/")  # never the request's


@pytest.mark.parametrize("client_id", ["taalapp", "twouris"])
@pytest.mark.parametrize("missing", [None, ""])
def test_redirect_uri_is_required_even_with_one_registered(
        op: OidcOp, suppliers: dict[str, Supplier], client_id: str, missing: str | None) -> None:
    """OIDC Core 3.1.2.1: no RFC 6749 3.1.2.3 fallback to the one registered redirect_uri."""
    rp = Rp(op, suppliers[client_id])
    with pytest.raises(RequestRejected) as caught:
        op.parse_authorization(rp.params(redirect_uri=missing))
    assert 400 <= caught.value.status < 500
    assert caught.value.back_url == suppliers[client_id].url  # never the request's
    assert "redirect_uri" in str(caught.value)


def test_each_registered_redirect_uri_is_kept_as_named(
        op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    two = Rp(op, suppliers["twouris"])
    for uri in (REDIRECT, REDIRECT + "2"):
        assert Ask.read(two.authorize(redirect_uri=uri).request).redirect_uri == uri


def test_a_supplier_without_oidc_is_unknown(op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    suppliers["saml"] = Supplier(id="saml", name="Saml", sector="saml",
                                 config=SamlSupplier("", "https://saml.example/sp"),
                                 key_version=1)
    with pytest.raises(UnknownSupplier):
        op.parse_authorization({"client_id": "saml", "redirect_uri": REDIRECT})


def test_repeated_parameters(rp: Rp) -> None:
    with pytest.raises(BadRequest):
        rp.op.parse_authorization(rp.params(), repeated=["redirect_uri"])
    with pytest.raises(BadRequest):
        rp.op.parse_authorization(rp.params(), repeated=["client_id"])
    assert _error(rp.op.parse_authorization(rp.params(), repeated=["scope"]))[
        "error"] == "invalid_request"


@pytest.mark.parametrize("state", [
    "a&code=evil&iss=https://evil.example", "x#frag", "<script>alert(1)</script>",
    "line\r\nSet-Cookie: a=b", "üñí©ødé ☃", "%41%00", "'\"`;--", "s" * 512])
def test_state_goes_back_verbatim_and_cannot_inject(rp: Rp, state: str) -> None:
    answer = rp.login(state=state)
    assert answer["state"] == state and answer["iss"] == ISSUER
    assert set(answer) == {"code", "state", "iss"}
    error = _error(rp.op.parse_authorization(rp.params(state=state, response_type="token")))
    assert error["state"] == state and error["iss"] == ISSUER


def test_an_over_long_state_is_refused_and_not_echoed(rp: Rp) -> None:
    query = _error(rp.op.parse_authorization(rp.params(state="s" * 2049)))
    assert query["error"] == "invalid_request" and "state" not in query


def test_respond_gives_a_fresh_strong_code(rp: Rp) -> None:
    codes = {rp.code() for _ in range(3)}
    assert len(codes) == 3 and all(len(c) >= 43 for c in codes)  # >= 256 bits, urlsafe


def test_prompt_none_without_a_session_answers_login_required(rp: Rp) -> None:
    req = rp.authorize(prompt="none", state="keep me")
    query = _error(rp.op.respond_error(rp.supplier, req.request, NO_PASSIVE))
    assert query["error"] == "login_required" and query["state"] == "keep me"
    other = _error(rp.op.respond_error(rp.supplier, req.request, "Failed"))
    assert other["error"] == "access_denied"


@pytest.mark.parametrize(("status", "says"), [
    (STOPPED, "The pupil stopped the login."),
    (NO_AUTHN_CONTEXT, "The school's login does not meet the acr asked for."),
    ("Failed", "The login did not succeed."),
])
def test_a_failed_login_says_why_to_the_developer(rp: Rp, status: str, says: str) -> None:
    query = _error(rp.op.respond_error(rp.supplier, rp.authorize().request, status))
    assert (query["error"], query["error_description"]) == ("access_denied", says)


def test_respond_rechecks_the_registration(rp: Rp) -> None:
    req = rp.authorize()
    moved = make_supplier(redirect_uris=("https://taalapp.example/new",))
    with pytest.raises(RequestRejected):
        rp.op.respond(moved, req.request, released_for(moved))
    with pytest.raises(RequestRejected):
        rp.op.respond_error(moved, req.request, NO_PASSIVE)
    other = make_supplier("rekenapp")
    with pytest.raises(RequestRejected):
        rp.op.respond(rp.supplier, req.request, released_for(other))
    with pytest.raises(RequestRejected):
        rp.op.respond(rp.supplier, codec.encode({"client_id": "taalapp"}),
                      released_for(rp.supplier))
