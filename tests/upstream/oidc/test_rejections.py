"""Every way a school's answer must be refused: each ends in UpstreamRejected, never in a
library exception, and no message repeats a claim value."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from broker import codec
from broker.errors import BadRequest, LoginCancelled, UpstreamRejected
from broker.records import School
from broker.upstream.oidc import OidcUpstream
from broker.upstream.oidc_login import LoginState
from tests.upstream.oidc.browser import PUPIL, SchoolBrowser
from tests.upstream.oidc.conftest import CLIENT_ID, ServedOp, school_at

Tweaks = Callable[[], dict[str, Any]]


def _claims(**claims: Any) -> Tweaks:
    return lambda: {"claims": claims}


def _ago(seconds: int) -> int:
    return int(time.time()) - seconds


# The OP misbehaves in one way when it hands out tokens; Loper must refuse.
HOSTILE_TOKENS: dict[str, tuple[Tweaks, str]] = {
    "signed with a key not in the JWKS": (lambda: {"key": "rogue"}, "does not match"),
    "alg none": (lambda: {"alg": "none"}, "algorithm none"),
    "HS256 keyed with the RSA public key": (lambda: {"alg": "HS256"}, "algorithm HS256"),
    "an algorithm not pinned for the school": (lambda: {"alg": "RS512"},
                                               "accepts only RS256"),
    "expired": (lambda: {"claims": {"exp": _ago(120), "iat": _ago(420)}}, "has expired"),
    "issued in the future": (lambda: {"claims": {"iat": _ago(-600)}}, "dated in the future"),
    "not valid yet": (lambda: {"claims": {"nbf": _ago(-600)}}, "not valid yet"),
    "wrong audience": (_claims(aud="another-app"), r"another application than Loper \(aud\)"),
    "several audiences, no azp": (_claims(aud=[CLIENT_ID, "another-app"]), r"\(azp\)"),
    "azp names another client": (_claims(azp="another-app"), r"\(azp\)"),
    "wrong nonce": (_claims(nonce="not-the-nonce"), r"\(nonce\)"),
    "no nonce": (_claims(nonce=None), r"\(nonce\)"),
    "wrong issuer in the ID token": (_claims(iss="https://evil.example"), r"\(iss\)"),
    "no sub": (_claims(sub=None), "lacks required claims: sub"),
    "no exp": (_claims(exp=None), "lacks required claims: exp"),
    "userinfo about another user": (lambda: {"userinfo_sub": "someone-else"}, "sub differs"),
}


@pytest.mark.parametrize("tweaks, message", HOSTILE_TOKENS.values(), ids=HOSTILE_TOKENS.keys())
def test_hostile_tokens_are_refused(op: ServedOp, rp: OidcUpstream, lyceum: School,
                                    browser: SchoolBrowser, tweaks: Tweaks,
                                    message: str) -> None:
    answer = browser.log_in(rp, lyceum)
    op.tweak(**tweaks())
    with pytest.raises(UpstreamRejected, match=message) as refused:
        answer.finish(rp, lyceum)
    for value in (PUPIL.id, "someone-else", "another-app", "evil.example", "not-the-nonce"):
        assert value not in refused.value.message


@pytest.mark.parametrize("pinned", [("RS256", "HS256"), ("none", "RS256")])
def test_none_and_hmac_are_refused_even_when_pinned(op: ServedOp, rp: OidcUpstream,
                                                    browser: SchoolBrowser,
                                                    pinned: tuple[str, ...]) -> None:
    school = school_at(op.base_url, algorithms=pinned)
    answer = browser.log_in(rp, school)
    op.tweak(alg=pinned[0] if pinned[0] != "RS256" else pinned[1])
    with pytest.raises(UpstreamRejected, match="accepts only RS256"):
        answer.finish(rp, school)


def test_only_hmac_pinned_is_a_configuration_error(op: ServedOp, rp: OidcUpstream,
                                                   browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, algorithms=("HS256",))
    with pytest.raises(UpstreamRejected, match="No usable signature algorithm"):
        browser.log_in(rp, school).finish(rp, school)


def test_another_pinned_algorithm_is_accepted(op: ServedOp, rp: OidcUpstream,
                                              browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, algorithms=("PS256",))
    op.tweak(alg="PS256")
    assert browser.log_in(rp, school).finish(rp, school).identity.subject == PUPIL.id


def test_several_audiences_with_azp_are_accepted(op: ServedOp, rp: OidcUpstream,
                                                 lyceum: School,
                                                 browser: SchoolBrowser) -> None:
    op.tweak(claims={"aud": [CLIENT_ID, "another-app"], "azp": CLIENT_ID})
    assert browser.log_in(rp, lyceum).finish(rp, lyceum).identity.subject == PUPIL.id


def test_a_clock_a_little_off_is_tolerated(op: ServedOp, rp: OidcUpstream, lyceum: School,
                                           browser: SchoolBrowser) -> None:
    op.tweak(claims={"iat": _ago(-30), "exp": _ago(20)})
    assert browser.log_in(rp, lyceum).finish(rp, lyceum).identity.subject == PUPIL.id


@pytest.mark.parametrize("auth_time", [_ago(600), None], ids=["stale", "missing"])
def test_forced_login_needs_a_fresh_auth_time(op: ServedOp, rp: OidcUpstream,
                                              lyceum: School, browser: SchoolBrowser,
                                              auth_time: int | None) -> None:
    answer = browser.log_in(rp, lyceum, force_authn=True)
    op.tweak(claims={"auth_time": auth_time})
    with pytest.raises(UpstreamRejected, match="auth_time"):
        answer.finish(rp, lyceum)


def test_a_wrong_iss_parameter_is_a_mix_up(op: ServedOp, rp: OidcUpstream, lyceum: School,
                                           browser: SchoolBrowser) -> None:
    op.tweak(iss_param="https://evil.example")
    with pytest.raises(UpstreamRejected, match="mix-up"):
        browser.log_in(rp, lyceum).finish(rp, lyceum)


def test_a_missing_iss_parameter_is_refused_when_advertised(
        op: ServedOp, rp: OidcUpstream, lyceum: School, browser: SchoolBrowser) -> None:
    op.tweak(iss_param="")
    with pytest.raises(UpstreamRejected, match="RFC 9207"):
        browser.log_in(rp, lyceum).finish(rp, lyceum)


def test_a_missing_iss_parameter_is_accepted_when_not_advertised(
        op: ServedOp, rp: OidcUpstream, lyceum: School, browser: SchoolBrowser) -> None:
    op.tweak(iss_param="", discovery={"authorization_response_iss_parameter_supported": None})
    assert browser.log_in(rp, lyceum).finish(rp, lyceum).identity.subject == PUPIL.id


def test_cancel_at_the_school_is_a_cancelled_login(rp: OidcUpstream, lyceum: School,
                                                   browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum, cancel=True)
    assert answer.params["error"] == "access_denied" and "code" not in answer.params
    with pytest.raises(LoginCancelled):
        answer.finish(rp, lyceum)


def test_another_error_from_the_school_is_a_rejection(rp: OidcUpstream, lyceum: School,
                                                      browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum, cancel=True)
    params = {**answer.params, "error": "server_error"}
    with pytest.raises(UpstreamRejected, match="error code 'server_error'"):
        rp.handle_callback(lyceum, params, answer.state)


def test_an_error_code_is_escaped(rp: OidcUpstream, lyceum: School,
                                  browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum, cancel=True)
    params = {**answer.params, "error": '<script>alert("x")</script>'}
    with pytest.raises(UpstreamRejected) as refused:
        rp.handle_callback(lyceum, params, answer.state)
    assert "<" not in refused.value.message and "'scriptalertxscript'" in refused.value.message


def test_a_code_is_redeemed_once(rp: OidcUpstream, lyceum: School,
                                 browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum)
    answer.finish(rp, lyceum)
    with pytest.raises(UpstreamRejected, match="invalid_grant"):
        answer.finish(rp, lyceum)


def test_a_code_needs_its_own_verifier(rp: OidcUpstream, lyceum: School,
                                       browser: SchoolBrowser) -> None:
    first, second = browser.log_in(rp, lyceum), browser.log_in(rp, lyceum)
    with pytest.raises(UpstreamRejected, match="invalid_grant"):
        rp.handle_callback(lyceum, first.params, second.state)


def test_a_wrong_client_secret(op: ServedOp, rp: OidcUpstream, browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, client_secret="wrong")
    with pytest.raises(UpstreamRejected, match="client id or secret"):
        browser.log_in(rp, school).finish(rp, school)


def test_an_answer_without_code(rp: OidcUpstream, lyceum: School,
                                browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum)
    params = {k: v for k, v in answer.params.items() if k != "code"}
    with pytest.raises(UpstreamRejected, match="no usable login code"):
        rp.handle_callback(lyceum, params, answer.state)


@pytest.mark.parametrize("state", [b"", codec.encode({}), codec.encode({"nonce": 1}),
                                   "other school", "truncated"])
def test_a_broken_kept_state(rp: OidcUpstream, lyceum: School, browser: SchoolBrowser,
                             state: Any) -> None:
    answer = browser.log_in(rp, lyceum)
    kept = {"other school": codec.encode(replace(codec.decode(answer.state, LoginState),
                                                 school="regenboog")),
            "truncated": answer.state[:-4]}.get(state, state)
    with pytest.raises(BadRequest):
        rp.handle_callback(lyceum, answer.params, kept)


def test_a_token_endpoint_answering_an_error_page(op: ServedOp, make_rp: Callable[..., Any],
                                                  lyceum: School,
                                                  browser: SchoolBrowser) -> None:
    rp = make_rp(cache_ttl=0)
    answer = browser.log_in(rp, lyceum)
    op.tweak(discovery={"token_endpoint": op.base_url + "/nowhere"})
    with pytest.raises(UpstreamRejected, match=r"HTTP status 404, error 'unknown'"):
        answer.finish(rp, lyceum)


def test_max_age_is_passed_on_and_enforced(op: ServedOp, rp: OidcUpstream, lyceum: School,
                                           browser: SchoolBrowser) -> None:
    """A supplier's max_age reaches the school, and an older login at school is refused."""
    answer = browser.log_in(rp, lyceum, max_age=120)
    assert "max_age=120" in answer.authorize_url and "prompt=login" not in answer.authorize_url
    op.tweak(claims={"auth_time": _ago(600)})
    with pytest.raises(UpstreamRejected, match="auth_time"):
        answer.finish(rp, lyceum)


def test_a_login_within_max_age_is_accepted(op: ServedOp, rp: OidcUpstream, lyceum: School,
                                            browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum, max_age=3600)
    op.tweak(claims={"auth_time": _ago(600)})
    assert answer.finish(rp, lyceum).identity.subject == PUPIL.id
