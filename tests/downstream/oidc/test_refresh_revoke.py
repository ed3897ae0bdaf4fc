"""Refresh tokens (rotation, reuse detection; RFC 6749 6, RFC 9700 4.14.2, OIDC Core 12) and
revocation (RFC 7009).

OpenID conformance: oidcc-refresh-token (Basic OP, offline_access); revocation: RFC 7009 2.1-2.2.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from broker.downstream.oidc_common import half_hash
from broker.downstream.oidc_op import OidcOp
from broker.records import Supplier
from broker.store import StateStore
from tests.downstream.oidc.conftest import (
    Rp,
    basic,
    make_supplier,
    released_for,
    verify_id_token,
)

OFFLINE = "openid profile email offline_access"


@pytest.fixture
def offline(offline_rp: Rp) -> dict[str, Any]:
    """Tokens for the rekenapp client, which may use refresh tokens."""
    return offline_rp.tokens(scope=OFFLINE, nonce="first-nonce")


def test_refresh_tokens_only_with_offline_access_asked_and_allowed(
        rp: Rp, offline_rp: Rp) -> None:
    assert "refresh_token" not in rp.tokens(scope=OFFLINE)  # not allowed for taalapp
    assert "refresh_token" not in offline_rp.tokens(scope="openid profile")  # not asked
    body = offline_rp.tokens(scope=OFFLINE)
    assert body["refresh_token"] and body["scope"] == OFFLINE


def test_refresh_rotates_and_keeps_the_login(offline_rp: Rp, offline: dict[str, Any]) -> None:
    status, fresh, headers = offline_rp.refresh(offline["refresh_token"])
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert fresh["refresh_token"] != offline["refresh_token"]
    assert fresh["access_token"] != offline["access_token"]
    before = verify_id_token(offline_rp.op, offline["id_token"]).claims
    after = verify_id_token(offline_rp.op, fresh["id_token"]).claims
    for claim in ("iss", "sub", "aud", "auth_time", "acr", "given_name"):
        assert after[claim] == before[claim]
    assert "nonce" not in after and after["at_hash"] == half_hash(fresh["access_token"])
    assert offline_rp.userinfo(fresh["access_token"])[1]["sub"] == before["sub"]
    assert offline_rp.refresh(fresh["refresh_token"])[0] == 200  # the new one rotates again


def test_reusing_a_rotated_refresh_token_revokes_the_family(offline_rp: Rp,
                                                            offline: dict[str, Any]) -> None:
    fresh = offline_rp.refresh(offline["refresh_token"])[1]
    status, body, _ = offline_rp.refresh(offline["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert offline_rp.refresh(fresh["refresh_token"])[1]["error"] == "invalid_grant"
    assert offline_rp.userinfo(fresh["access_token"])[0] == 401
    assert offline_rp.userinfo(offline["access_token"])[0] == 401


def test_concurrent_refreshes_exactly_one_wins(offline_rp: Rp, offline: dict[str, Any]) -> None:
    barrier, results = threading.Barrier(3), []

    def refresh() -> None:
        barrier.wait()
        results.append(offline_rp.refresh(offline["refresh_token"])[0])

    threads = [threading.Thread(target=refresh) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400, 400]


def test_the_refresh_that_took_the_token_wins_a_race_with_its_reuse(
        offline_rp: Rp, offline: dict[str, Any], store: StateStore,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The loser revokes the family after the winner took the token but before it answered:
    the winner still gets its 200 (deterministically), with tokens the revocation has ended."""
    take, losers = store.take_token, []

    def take_then_lose(kind: str, key: str) -> bytes | None:
        taken = take(kind, key)
        if taken is not None:  # the winner: a reuse revokes the family before it answers
            losers.append(offline_rp.refresh(offline["refresh_token"]))
        return taken

    monkeypatch.setattr(store, "take_token", take_then_lose)
    status, won, _ = offline_rp.refresh(offline["refresh_token"])
    monkeypatch.undo()
    assert status == 200 and [r[1]["error"] for r in losers] == ["invalid_grant"]
    assert offline_rp.userinfo(won["access_token"])[0] == 401
    assert offline_rp.refresh(won["refresh_token"])[1]["error"] == "invalid_grant"


def test_a_refresh_token_is_bound_to_its_client(op: OidcOp, suppliers: dict[str, Supplier],
                                                offline_rp: Rp, offline: dict[str, Any]) -> None:
    """Another client holding the token means it leaked: refused, and its grant ends."""
    suppliers["thief"] = make_supplier("thief", offline_access=True)
    status, body, _ = Rp(op, suppliers["thief"]).refresh(offline["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert offline_rp.userinfo(offline["access_token"])[0] == 401  # a leaked token: revoked


@pytest.mark.parametrize("scope", [
    "openid profile email offline_access phone",  # wider than granted
    "profile offline_access",  # no openid: no ID token to refresh
    "openid openid-not-a-scope",
])
def test_a_refused_refresh_leaves_the_token_and_its_grant_as_they_were(
        offline_rp: Rp, offline: dict[str, Any], scope: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """RFC 6749 6: a refused request changes nothing; only a rotated token coming back is
    reuse (RFC 9700 4.14.2), and that still ends the family."""
    status, body, _ = offline_rp.refresh(offline["refresh_token"], scope=scope)
    assert (status, body["error"]) == (400, "invalid_scope")
    assert offline_rp.userinfo(offline["access_token"])[0] == 200
    assert "oidc grant revoked" not in caplog.messages
    status, fresh, _ = offline_rp.refresh(offline["refresh_token"])  # the same token, again
    assert status == 200 and fresh["scope"] == OFFLINE
    assert offline_rp.userinfo(fresh["access_token"])[0] == 200
    status, body, _ = offline_rp.refresh(offline["refresh_token"])  # now that is reuse
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "oidc grant revoked" in caplog.messages
    assert offline_rp.userinfo(fresh["access_token"])[0] == 401
    assert offline_rp.refresh(fresh["refresh_token"])[1]["error"] == "invalid_grant"


def test_a_wider_scope_than_openid_offline_access_is_refused_and_the_token_still_works(
        offline_rp: Rp) -> None:
    """The supplier developer's report: granted `openid offline_access`, asked for `openid
    profile offline_access` at a refresh, then the same token without scope."""
    granted = offline_rp.tokens(scope="openid offline_access")
    wide = offline_rp.refresh(granted["refresh_token"], scope="openid profile offline_access")
    assert (wide[0], wide[1]["error"]) == (400, "invalid_scope")
    status, fresh, _ = offline_rp.refresh(granted["refresh_token"])
    assert status == 200 and fresh["scope"] == "openid offline_access"
    assert offline_rp.userinfo(granted["access_token"])[0] == 200


def test_a_client_whose_algorithm_is_not_offered_uses_no_refresh_token_up(
        op: OidcOp, suppliers: dict[str, Supplier], offline_rp: Rp,
        offline: dict[str, Any]) -> None:
    registered = suppliers["rekenapp"]
    suppliers["rekenapp"] = make_supplier("rekenapp", offline_access=True,
                                          id_token_alg="PS256")  # Loper signs no PS256
    assert Rp(op, suppliers["rekenapp"]).refresh(offline["refresh_token"])[0] == 500
    suppliers["rekenapp"] = registered
    assert offline_rp.refresh(offline["refresh_token"])[0] == 200


def test_a_refreshed_id_token_keeps_the_sid(op: OidcOp, offline_rp: Rp) -> None:
    """Back-Channel Logout 2.1 (discovery promises it): every ID token carries the sid, so an
    RP that keeps the latest one still names its session at logout."""
    released = replace(released_for(offline_rp.supplier), session="sid-of-this-login")
    code = offline_rp.login(released, scope=OFFLINE)["code"]
    status, first, _ = offline_rp.exchange(code)
    assert status == 200
    fresh = offline_rp.refresh(first["refresh_token"])[1]
    narrowed = offline_rp.refresh(fresh["refresh_token"], scope="openid offline_access")[1]
    for token in (first, fresh, narrowed):
        assert verify_id_token(op, token["id_token"]).claims["sid"] == "sid-of-this-login"


def test_refresh_may_narrow_the_scope_but_not_widen_it(offline_rp: Rp,
                                                       offline: dict[str, Any]) -> None:
    status, narrow, _ = offline_rp.refresh(offline["refresh_token"], scope="openid")
    assert status == 200 and narrow["scope"] == "openid"
    info = offline_rp.userinfo(narrow["access_token"])[1]
    assert "given_name" not in info and "email" not in info and "eduperson_affiliation" in info
    status, full, _ = offline_rp.refresh(narrow["refresh_token"])  # the grant is unchanged
    assert status == 200 and full["scope"] == OFFLINE
    wide = offline_rp.refresh(full["refresh_token"], scope="openid phone")
    assert wide[1]["error"] == "invalid_scope"


def test_refresh_needs_the_client_to_be_allowed_offline_access(
        op: OidcOp, suppliers: dict[str, Supplier], offline: dict[str, Any]) -> None:
    suppliers["rekenapp"] = make_supplier("rekenapp", offline_access=False,
                                          id_token_alg="ES256")
    status, body, _ = Rp(op, suppliers["rekenapp"]).refresh(offline["refresh_token"])
    assert (status, body["error"]) == (400, "unauthorized_client")


@pytest.mark.parametrize("form", [{}, {"refresh_token": ""}, {"refresh_token": "unknown"}])
def test_refresh_request_errors(offline_rp: Rp, form: dict[str, str]) -> None:
    status, body, _ = offline_rp.op.token({"grant_type": "refresh_token", **form},
                                          basic("rekenapp"))
    assert status == 400 and body["error"] in ("invalid_request", "invalid_grant")


def test_revoking_an_access_token(offline_rp: Rp, offline: dict[str, Any]) -> None:
    form = {"token": offline["access_token"], "token_type_hint": "refresh_token"}  # a wrong hint
    assert offline_rp.op.revoke(form, basic("rekenapp")) == (
        200, {}, {"Cache-Control": "no-store", "Pragma": "no-cache"})
    assert offline_rp.userinfo(offline["access_token"])[0] == 401
    assert offline_rp.refresh(offline["refresh_token"])[0] == 200


def test_revoking_a_refresh_token_revokes_its_grant(offline_rp: Rp,
                                                    offline: dict[str, Any]) -> None:
    assert offline_rp.op.revoke({"token": offline["refresh_token"]}, basic("rekenapp"))[0] == 200
    assert offline_rp.refresh(offline["refresh_token"])[1]["error"] == "invalid_grant"
    assert offline_rp.userinfo(offline["access_token"])[0] == 401


def test_revocation_of_unknown_or_foreign_tokens_is_a_quiet_200(
        rp: Rp, offline_rp: Rp, offline: dict[str, Any]) -> None:
    assert rp.op.revoke({"token": "never-issued"}, basic())[0] == 200
    assert rp.op.revoke({"token": offline["access_token"]}, basic())[0] == 200
    assert offline_rp.userinfo(offline["access_token"])[0] == 200  # not taalapp's to revoke


def test_revocation_needs_a_token_and_an_authenticated_client(rp: Rp) -> None:
    assert rp.op.revoke({}, basic())[1]["error"] == "invalid_request"
    status, body, headers = rp.op.revoke({"token": "x"}, {})
    assert (status, body["error"]) == (401, "invalid_client")
    assert headers["WWW-Authenticate"] == 'Basic realm="loper"'
    assert rp.op.revoke({"token": "x"}, basic(), repeated=["token"])[0] == 400


@pytest.mark.parametrize("hint", ["id_token", "urn:x:made-up", "access_token", "refresh_token"])
def test_a_hint_is_only_a_hint(offline_rp: Rp, offline: dict[str, Any], hint: str) -> None:
    """RFC 7009 2.1: a hint the server cannot use (or a wrong one) makes it search all its token
    types, never an error; 2.2: an unknown token is answered 200 all the same."""
    quiet = (200, {}, {"Cache-Control": "no-store", "Pragma": "no-cache"})
    form = {"token": "nonsense", "token_type_hint": hint}
    assert offline_rp.op.revoke(form, basic("rekenapp")) == quiet
    form = {"token": offline["access_token"], "token_type_hint": hint}
    assert offline_rp.op.revoke(form, basic("rekenapp")) == quiet
    assert offline_rp.userinfo(offline["access_token"])[0] == 401
    form = {"token": offline["refresh_token"], "token_type_hint": hint}
    assert offline_rp.op.revoke(form, basic("rekenapp")) == quiet
    assert offline_rp.refresh(offline["refresh_token"])[1]["error"] == "invalid_grant"


def test_another_clients_token_is_not_revoked_whatever_the_hint(
        rp: Rp, offline_rp: Rp, offline: dict[str, Any]) -> None:
    """Refused without telling (200, as for an unknown token): an error would tell taalapp that
    the string is a live token of another client."""
    for hint in ("id_token", "access_token", "refresh_token"):
        for token in (offline["access_token"], offline["refresh_token"]):
            assert rp.op.revoke({"token": token, "token_type_hint": hint}, basic())[0] == 200
    assert offline_rp.userinfo(offline["access_token"])[0] == 200
    assert offline_rp.refresh(offline["refresh_token"])[0] == 200
