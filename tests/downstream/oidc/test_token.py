"""The code exchange, the ID token and userinfo.

OpenID conformance (Basic OP): oidcc-server (the happy flow), oidcc-idtoken-rs256 (and ES256 per
client), oidcc-ensure-request-without-nonce-succeeds-for-code-flow, oidcc-scope-profile,
oidcc-scope-email, oidcc-userinfo-get / -post-header / -post-body, oidcc-codereuse,
oidcc-codereuse-30seconds (an expired code), oidcc-ensure-request-with-valid-pkce-succeeds;
RFC 7636 4.6 (PKCE errors) and RFC 6749 4.1.3 (redirect_uri at the token endpoint).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from broker.downstream.oidc_common import half_hash
from broker.downstream.oidc_op import OidcOp
from broker.records import Supplier
from tests.downstream.oidc.conftest import (
    ACR,
    REDIRECT,
    Rp,
    basic,
    pkce_pair,
    released_for,
    verify_id_token,
)


def test_the_code_flow_gives_a_verifiable_id_token(rp: Rp) -> None:
    released = released_for(rp.supplier)
    answer = rp.login(released, nonce="n-0S6_WzA2Mj")
    status, body, headers = rp.exchange(answer["code"])
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "openid profile email" and "refresh_token" not in body
    token = verify_id_token(rp.op, body["id_token"])
    kids = [k["kid"] for k in rp.op.jwks()["keys"]]  # type: ignore[attr-defined]
    assert token.header["alg"] == "RS256" and token.header["kid"] in kids
    claims = token.claims
    assert claims["sub"] == released.subject and claims["aud"] == "taalapp"
    assert claims["nonce"] == "n-0S6_WzA2Mj" and claims["acr"] == ACR
    assert claims["auth_time"] == int(released.authn.instant.timestamp())
    assert claims["exp"] - claims["iat"] == 300 and abs(claims["iat"] - time.time()) < 5
    assert claims["at_hash"] == half_hash(body["access_token"])
    assert claims["given_name"] == "Anna" and claims["groups"] == ["3A", "3B"]


def test_without_nonce_there_is_no_nonce_claim(rp: Rp) -> None:
    claims = verify_id_token(rp.op, rp.tokens()["id_token"]).claims
    assert "nonce" not in claims


def test_the_id_token_carries_the_session_id_this_client_was_given(rp: Rp) -> None:
    released = replace(released_for(rp.supplier), session="sid-of-this-client")
    answer = rp.login(released)
    _, body, _ = rp.exchange(answer["code"])
    assert verify_id_token(rp.op, body["id_token"]).claims["sid"] == "sid-of-this-client"
    without = verify_id_token(rp.op, rp.tokens()["id_token"]).claims
    assert "sid" not in without  # outside an SSO session there is none to name


@pytest.mark.parametrize("nonce", ["a&b=c", "<script>", "üñí ☃", '"quoted"', "n" * 255])
def test_nonce_is_carried_verbatim(rp: Rp, nonce: str) -> None:
    assert verify_id_token(rp.op, rp.tokens(nonce=nonce)["id_token"]).claims["nonce"] == nonce


def test_es256_for_a_client_that_registered_it(offline_rp: Rp) -> None:
    token = verify_id_token(offline_rp.op, offline_rp.tokens()["id_token"])
    assert token.header["alg"] == "ES256"


@pytest.mark.parametrize(("scope", "expected"), [
    ("openid", {"eduperson_affiliation": ["student"], "groups": ["3A", "3B"]}),
    ("openid profile", {"eduperson_affiliation": ["student"], "groups": ["3A", "3B"],
                        "given_name": "Anna", "family_name": "de Vries",
                        "name": "Anna de Vries"}),
    ("openid email", {"eduperson_affiliation": ["student"], "groups": ["3A", "3B"],
                      "email": "anna@regenboog.example"}),
])
def test_userinfo_serves_exactly_the_claims_of_the_scopes(rp: Rp, scope: str,
                                                          expected: dict[str, object]) -> None:
    released = released_for(rp.supplier)
    body = rp.tokens(scope=scope)
    status, info, headers = rp.userinfo(body["access_token"])
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert info == {"sub": released.subject, **expected}
    id_claims = verify_id_token(rp.op, body["id_token"]).claims
    assert {k: id_claims[k] for k in expected} == expected
    assert not {"email", "given_name"} - set(expected) & set(id_claims)


def test_each_login_keeps_its_own_snapshot(op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    """Tokens serve what was released at their login: nothing is re-read per person."""
    taal, reken = Rp(op, suppliers["taalapp"]), Rp(op, suppliers["rekenapp"])
    first = taal.exchange(taal.login(released_for(taal.supplier, subject="1:aaa"))["code"])[1]
    second = taal.exchange(taal.login(released_for(
        taal.supplier, subject="1:aaa", attributes={"given_name": ("Bram",)}))["code"])[1]
    other = reken.exchange(reken.login(released_for(
        reken.supplier, subject="1:bbb", attributes={}))["code"])[1]
    assert taal.userinfo(first["access_token"])[1]["given_name"] == "Anna"
    assert taal.userinfo(second["access_token"])[1] == {"sub": "1:aaa", "given_name": "Bram"}
    assert reken.userinfo(other["access_token"])[1] == {"sub": "1:bbb"}


def test_a_used_code_is_refused_and_revokes_the_first_tokens(op: OidcOp,
                                                            suppliers: dict[str, Supplier]) -> None:
    rp = Rp(op, suppliers["rekenapp"])
    code = rp.code(scope="openid offline_access")
    status, first, _ = rp.exchange(code)
    assert status == 200 and rp.userinfo(first["access_token"])[0] == 200
    status, again, _ = rp.exchange(code)
    assert (status, again["error"]) == (400, "invalid_grant")
    assert rp.userinfo(first["access_token"])[0] == 401
    assert rp.refresh(first["refresh_token"])[1]["error"] == "invalid_grant"


def test_two_threads_redeeming_one_code_exactly_one_wins(rp: Rp) -> None:
    def redeem(code: str, barrier: threading.Barrier, results: list[int]) -> None:
        barrier.wait()
        results.append(rp.exchange(code)[0])

    for _ in range(3):
        code, barrier, results = rp.code(), threading.Barrier(4), []
        threads = [threading.Thread(target=redeem, args=(code, barrier, results))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [200, 400, 400, 400]


def test_a_code_is_bound_to_its_client(op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    taal, reken = Rp(op, suppliers["taalapp"]), Rp(op, suppliers["rekenapp"])
    code = taal.code()
    reken.verifier = taal.verifier
    assert reken.exchange(code)[1]["error"] == "invalid_grant"
    assert taal.exchange(code)[1]["error"] == "invalid_grant"  # and it is spent


def test_an_expired_code_is_refused(make_op: Callable[..., OidcOp],
                                    suppliers: dict[str, Supplier]) -> None:
    rp = Rp(make_op(code_ttl=1), suppliers["taalapp"])
    code = rp.code()
    time.sleep(1.1)
    assert rp.exchange(code)[1]["error"] == "invalid_grant"


@pytest.mark.parametrize(("form", "error"), [
    ({"code": "not-a-code"}, "invalid_grant"),
    ({"code": None}, "invalid_request"),
    ({"grant_type": None}, "invalid_request"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ({"redirect_uri": REDIRECT + "/"}, "invalid_grant"),
    ({"redirect_uri": None}, "invalid_grant"),  # OIDC Core 3.1.3.1: always required
    ({"redirect_uri": ""}, "invalid_grant"),
    ({"code_verifier": None}, "invalid_request"),
    ({"code_verifier": "a" * 42}, "invalid_request"),
    ({"code_verifier": "a" * 129}, "invalid_request"),
    ({"code_verifier": "a" * 60 + "+"}, "invalid_request"),
    ({"code_verifier": pkce_pair()[0]}, "invalid_grant"),
])
def test_token_request_errors(rp: Rp, form: dict[str, str | None], error: str) -> None:
    code = rp.code()
    status, body, headers = rp.exchange(**{"code": code, **form})  # type: ignore[arg-type]
    assert (status, body["error"]) == (400, error)
    assert headers["Cache-Control"] == "no-store" and '"' not in body["error_description"]
    if "grant_type" not in form and form.get("code", code) == code:  # the code is spent now
        assert rp.exchange(code)[1]["error"] == "invalid_grant"


def test_the_verifier_must_match_the_plain_verifier_not_the_challenge(rp: Rp) -> None:
    code = rp.code()
    assert rp.exchange(code, code_verifier=rp.challenge)[1]["error"] == "invalid_grant"


def test_redirect_uri_must_repeat_the_authorization_requests(
        rp: Rp, op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    """RFC 6749 4.1.3: identical, not merely registered; never left out, even by a client
    with a single registered redirect_uri (OIDC Core 3.1.3.1)."""
    assert rp.exchange(rp.code(), redirect_uri=None)[1]["error"] == "invalid_grant"
    two = Rp(op, suppliers["twouris"])
    assert two.exchange(two.code(), redirect_uri=REDIRECT + "2")[1]["error"] == "invalid_grant"
    assert two.exchange(two.code(), redirect_uri=None)[1]["error"] == "invalid_grant"
    assert two.exchange(two.code())[0] == 200


def test_a_verifier_without_a_challenge_is_refused(op: OidcOp,
                                                   suppliers: dict[str, Supplier]) -> None:
    legacy = Rp(op, suppliers["legacy"])
    code = legacy.code(code_challenge=None, code_challenge_method=None)
    assert legacy.exchange(code)[1]["error"] == "invalid_grant"  # RFC 9700 4.8.2
    code = legacy.code(code_challenge=None, code_challenge_method=None)
    assert legacy.exchange(code, code_verifier=None)[0] == 200


def test_repeated_token_parameters_are_refused(rp: Rp) -> None:
    status, body, _ = rp.op.token({"grant_type": "authorization_code", "code": rp.code()},
                                  basic(), repeated=["code"])
    assert (status, body["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("authorization", [
    None, "Bearer abc", "Bearer", "Basic abc", "bearer ", "Bearer not-a-token"])
def test_userinfo_without_a_valid_token(rp: Rp, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    status, _, out = rp.op.userinfo(headers)
    assert status == 401 and out["WWW-Authenticate"].startswith('Bearer realm="loper"')
    if authorization and authorization.startswith("Bearer ") and authorization.strip() != "Bearer":
        assert 'error="invalid_token"' in out["WWW-Authenticate"]


def test_userinfo_accepts_a_form_token_but_not_two(rp: Rp) -> None:
    access = rp.tokens()["access_token"]
    assert rp.op.userinfo({}, {"access_token": access})[0] == 200
    both = rp.op.userinfo({"authorization": f"bearer {access}"}, {"access_token": access})
    assert both[0] == 400
    assert rp.op.userinfo({"authorization": f"bearer {access}"})[0] == 200  # case-insensitive


def test_userinfo_does_not_take_an_id_token_or_a_code(rp: Rp) -> None:
    body = rp.tokens()
    assert rp.userinfo(body["id_token"])[0] == 401
    assert rp.userinfo(rp.code())[0] == 401
