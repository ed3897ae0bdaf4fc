"""Logging in at the demo OIDC school through Loper's OidcUpstream: what comes out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from broker import codec
from broker.acr import AcrRequest
from broker.errors import UpstreamRejected
from broker.records import School
from broker.upstream.oidc import OidcUpstream
from broker.upstream.oidc_login import LoginState
from demo.school_op import ACR
from tests.upstream.oidc.browser import PUPIL, TEACHER, SchoolBrowser
from tests.upstream.oidc.conftest import CALLBACK, CLIENT_ID, ServedOp, school_at


def test_a_pupil_logs_in(rp: OidcUpstream, lyceum: School, browser: SchoolBrowser) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    answer = browser.log_in(rp, lyceum)
    callback = answer.finish(rp, lyceum)

    identity = callback.identity
    assert identity.school_id == "lyceum"
    assert identity.subject == PUPIL.id
    assert dict(identity.attributes) == {
        "given_name": ("Lotte",), "family_name": ("Bakker",), "display_name": ("Lotte Bakker",),
        "email": ("lotte.bakker@lyceum.example",), "role": ("student",),
        "school_domain": ("lyceum.example",)}  # phone_number is dropped
    assert identity.authn.class_ref == ACR
    assert before <= identity.authn.instant <= datetime.now(UTC)
    assert callback.replay_key.startswith("oidc-id-token:")
    assert len(callback.replay_key) == len("oidc-id-token:") + 64
    assert 300 < callback.replay_ttl <= 360  # ID token lifetime + clock skew


def test_the_authorization_request(rp: OidcUpstream, lyceum: School,
                                   browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum)
    sent = answer.request
    assert sent["response_type"] == "code"
    assert sent["client_id"] == CLIENT_ID
    assert sent["redirect_uri"] == CALLBACK
    assert sent["scope"] == "openid profile email"
    assert sent["state"] == answer.pending.id == answer.params["state"]
    assert sent["code_challenge_method"] == "S256"
    assert sent["nonce"] and sent["code_challenge"]
    assert "prompt" not in sent and "max_age" not in sent
    kept = codec.decode(answer.state, LoginState)
    assert kept is not None and len(answer.state) < 200
    assert kept.challenge() == sent["code_challenge"]  # the verifier is kept, not sent
    assert sent["code_challenge"].encode() not in answer.state


def test_a_teacher_logs_in(rp: OidcUpstream, lyceum: School, browser: SchoolBrowser) -> None:
    identity = browser.log_in(rp, lyceum, person=TEACHER.id).finish(rp, lyceum).identity
    assert identity.subject == TEACHER.id
    assert identity.attributes["role"] == ("employee",)


def test_single_sign_on_at_school_then_forced_login(rp: OidcUpstream, lyceum: School,
                                                   browser: SchoolBrowser) -> None:
    first = browser.log_in(rp, lyceum)
    first.finish(rp, lyceum)
    again = browser.log_in(rp, lyceum)
    assert not again.showed_form
    assert again.finish(rp, lyceum).identity.subject == PUPIL.id

    forced = browser.log_in(rp, lyceum, force_authn=True)
    assert forced.showed_form
    assert forced.request["prompt"] == "login" and forced.request["max_age"] == "0"
    started = codec.decode(first.state, LoginState)
    assert started is not None
    assert forced.finish(rp, lyceum).identity.authn.instant.timestamp() >= started.started


def test_passive_login_without_school_session_is_refused(
        rp: OidcUpstream, lyceum: School, browser: SchoolBrowser) -> None:
    answer = browser.log_in(rp, lyceum, passive=True)
    assert answer.request["prompt"] == "none" and not answer.showed_form
    with pytest.raises(UpstreamRejected, match="login_required"):
        answer.finish(rp, lyceum)


def test_the_subject_can_come_from_another_claim(op: ServedOp, rp: OidcUpstream,
                                                 browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, subject="email")
    identity = browser.log_in(rp, school).finish(rp, school).identity
    assert identity.subject == "lotte.bakker@lyceum.example"


def test_the_subject_claim_must_be_one_string(op: ServedOp, rp: OidcUpstream,
                                              browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, subject="eduperson_affiliation")
    with pytest.raises(UpstreamRejected, match="no usable 'eduperson_affiliation' claim"):
        browser.log_in(rp, school).finish(rp, school)


def test_without_userinfo_the_id_token_alone_counts(op: ServedOp, rp: OidcUpstream,
                                                    lyceum: School,
                                                    browser: SchoolBrowser) -> None:
    op.tweak(discovery={"userinfo_endpoint": None})
    identity = browser.log_in(rp, lyceum).finish(rp, lyceum).identity
    assert identity.subject == PUPIL.id
    assert "role" not in identity.attributes and identity.attributes["given_name"] == ("Lotte",)


def test_the_client_secret_may_come_from_the_environment(
        op: ServedOp, rp: OidcUpstream, browser: SchoolBrowser,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.upstream.oidc.conftest import SECRET
    school = school_at(op.base_url, client_secret=None, client_secret_env="LYCEUM_SECRET")
    monkeypatch.setenv("LYCEUM_SECRET", SECRET)
    assert browser.log_in(rp, school).finish(rp, school).identity.subject == PUPIL.id
    monkeypatch.delenv("LYCEUM_SECRET")
    with pytest.raises(UpstreamRejected, match="environment variable LYCEUM_SECRET"):
        browser.log_in(rp, school).finish(rp, school)


def test_a_key_rollover_is_picked_up(op: ServedOp, make_rp: Callable[..., OidcUpstream],
                                     lyceum: School, browser: SchoolBrowser) -> None:
    rp = make_rp(jwks_min_refresh=0)
    browser.log_in(rp, lyceum).finish(rp, lyceum)  # the JWKS is cached now
    op.tweak(key="rotated")
    assert browser.log_in(rp, lyceum).finish(rp, lyceum).identity.subject == PUPIL.id


def test_an_unknown_key_rereads_the_jwks_at_most_once_a_minute(
        op: ServedOp, rp: OidcUpstream, lyceum: School, browser: SchoolBrowser) -> None:
    browser.log_in(rp, lyceum).finish(rp, lyceum)
    op.tweak(key="rotated")
    with pytest.raises(UpstreamRejected, match="does not publish"):
        browser.log_in(rp, lyceum).finish(rp, lyceum)


def test_discovery_is_cached(op: ServedOp, rp: OidcUpstream, lyceum: School,
                             browser: SchoolBrowser) -> None:
    browser.log_in(rp, lyceum).finish(rp, lyceum)
    op.tweak(discovery={"issuer": "https://elsewhere.example"})  # not read again within the TTL
    browser.log_in(rp, lyceum).finish(rp, lyceum)


def test_a_suppliers_context_is_passed_on_as_acr_values(
        rp: OidcUpstream, lyceum: School, browser: SchoolBrowser) -> None:
    """OIDC Core 3.1.2.1: acr_values, voluntary; the school's `acr` is read as it says it."""
    asked = AcrRequest(("https://refeds.org/profile/mfa", "urn:school:pw"), "minimum")
    answer = browser.log_in(rp, lyceum, acr=asked)
    assert answer.request["acr_values"] == "https://refeds.org/profile/mfa urn:school:pw"
    assert answer.finish(rp, lyceum).identity.authn.class_ref == ACR


@pytest.mark.parametrize("parameter", [None, "idp_hint"])
def test_a_hub_is_told_the_school_in_its_hint_parameter(rp: OidcUpstream, op: ServedOp,
                                                       browser: SchoolBrowser,
                                                       parameter: str | None) -> None:
    settings = {"hint_parameter": parameter} if parameter else {}
    hub = replace(school_at(op.base_url, **settings), hub=True, hint=True)
    sent = browser.log_in(rp, hub, school_id="de-linde", school_hint="11ZZ03").request
    assert sent[parameter or "login_hint"] == "11ZZ03"
    assert "login_hint" not in browser.log_in(rp, hub).request
