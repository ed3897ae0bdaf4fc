"""A school that suspends a supplier (or whose agreement with it lapses) ends what the supplier
was given before: refresh tokens and userinfo ask OidcOpConfig.still_open on every use.

The hook stands in for the release policy (app.py wires it to release.check_open): here it is a
switch the test flips.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from broker import codec
from broker.downstream.oidc_common import digest
from broker.downstream.oidc_grants import ACCESS, REFRESH, REVOKED, Snapshot
from broker.downstream.oidc_op import OidcOp
from broker.records import Supplier
from broker.store import StateStore
from tests.downstream.oidc.conftest import Rp

OFFLINE = "openid profile email offline_access"
BEARER_INVALID = 'Bearer realm="loper", error="invalid_token"'


@dataclass
class Switch:
    """The still_open hook: open until closed; remembers what it was asked."""

    open: bool = True
    asked: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, school_id: str, supplier_id: str) -> bool:
        self.asked.append((school_id, supplier_id))
        return self.open


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def offline_rp(make_op: Callable[..., OidcOp], suppliers: dict[str, Supplier],
               switch: Switch) -> Rp:
    return Rp(make_op(still_open=switch), suppliers["rekenapp"])


@pytest.fixture
def offline(offline_rp: Rp) -> dict[str, Any]:
    return offline_rp.tokens(scope=OFFLINE)


def assert_suspended_grant(reply: tuple[int, dict[str, object], dict[str, str]]) -> None:
    status, body, headers = reply
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "suspended" in str(body["error_description"])
    assert headers["Cache-Control"] == "no-store"


def assert_invalid_token(reply: tuple[int, dict[str, object], dict[str, str]], *,
                         suspended: bool = False) -> None:
    status, body, headers = reply
    assert (status, body["error"]) == (401, "invalid_token")
    assert headers["WWW-Authenticate"] == BEARER_INVALID
    assert "given_name" not in body and "sub" not in body
    if suspended:
        assert "suspended" in str(body["error_description"])


def test_while_open_nothing_changes_and_the_hook_is_asked_for_school_and_supplier(
        offline_rp: Rp, offline: dict[str, Any], switch: Switch) -> None:
    status, fresh, _ = offline_rp.refresh(offline["refresh_token"])
    assert status == 200 and fresh["refresh_token"]
    status, info, _ = offline_rp.userinfo(fresh["access_token"])
    assert status == 200 and info["given_name"] == "Anna"
    assert offline_rp.userinfo(offline["access_token"])[0] == 200
    assert switch.asked and set(switch.asked) == {("regenboog", "rekenapp")}


def test_a_suspension_refuses_the_refresh_and_revokes_the_family(
        offline_rp: Rp, offline: dict[str, Any], switch: Switch) -> None:
    earlier = offline_rp.refresh(offline["refresh_token"])[1]  # a second access token
    switch.open = False
    assert_suspended_grant(offline_rp.refresh(earlier["refresh_token"]))
    switch.open = True  # resumed: the grant stays ended, only a new login serves again
    assert offline_rp.refresh(earlier["refresh_token"])[1]["error"] == "invalid_grant"
    assert_invalid_token(offline_rp.userinfo(earlier["access_token"]))
    assert_invalid_token(offline_rp.userinfo(offline["access_token"]))
    assert offline_rp.tokens(scope=OFFLINE)["refresh_token"]


def test_a_suspension_refuses_userinfo_and_ends_the_grant(
        offline_rp: Rp, offline: dict[str, Any], switch: Switch) -> None:
    switch.open = False
    assert_invalid_token(offline_rp.userinfo(offline["access_token"]), suspended=True)
    switch.open = True
    assert_invalid_token(offline_rp.userinfo(offline["access_token"]))
    assert offline_rp.refresh(offline["refresh_token"])[1]["error"] == "invalid_grant"


def test_userinfo_after_a_narrowed_refresh_revokes_for_as_long_as_the_refresh_token_lives(
        offline_rp: Rp, offline: dict[str, Any], switch: Switch, store: StateStore,
        monkeypatch: pytest.MonkeyPatch) -> None:
    narrow = offline_rp.refresh(offline["refresh_token"], scope="openid")[1]
    assert "offline_access" not in narrow["scope"]
    marked: list[int] = []
    put_token = store.put_token

    def recording(kind: str, key: str, data: bytes, ttl: int) -> None:
        if kind == REVOKED:
            marked.append(ttl)
        put_token(kind, key, data, ttl)

    monkeypatch.setattr(store, "put_token", recording)
    switch.open = False
    assert_invalid_token(offline_rp.userinfo(narrow["access_token"]))
    config = offline_rp.op.config
    assert marked and marked[0] >= config.refresh_token_ttl
    switch.open = True
    assert offline_rp.refresh(narrow["refresh_token"])[1]["error"] == "invalid_grant"


def test_a_code_is_not_redeemed_once_the_school_suspended_the_supplier(
        offline_rp: Rp, switch: Switch) -> None:
    code = offline_rp.code(scope=OFFLINE)
    switch.open = False
    assert_suspended_grant(offline_rp.exchange(code))


def test_without_offline_access_userinfo_is_refused_too(
        make_op: Callable[..., OidcOp], suppliers: dict[str, Supplier], switch: Switch) -> None:
    rp = Rp(make_op(still_open=switch), suppliers["taalapp"])
    body = rp.tokens()
    switch.open = False
    assert_invalid_token(rp.userinfo(body["access_token"]))


def _old_snapshot(client_id: str) -> bytes:
    """A snapshot that does not say which school released it, nor to which supplier."""
    return codec.encode(Snapshot(grant=secrets.token_urlsafe(18), client_id=client_id,
                                 sub="1:abc", claims={"given_name": "Anna"},
                                 scope=tuple(OFFLINE.split()), auth_time=1_700_000_000))


def test_a_snapshot_that_does_not_name_its_school_is_refused(
        offline_rp: Rp, store: StateStore, switch: Switch) -> None:
    refresh, access = secrets.token_urlsafe(32), secrets.token_urlsafe(32)  # two grants
    store.put_token(REFRESH, digest(refresh), _old_snapshot("rekenapp"), 60)
    store.put_token(ACCESS, digest(access), _old_snapshot("rekenapp"), 60)
    assert_suspended_grant(offline_rp.refresh(refresh))
    assert_invalid_token(offline_rp.userinfo(access), suspended=True)
    assert switch.asked == []  # refused without asking: there is nothing to ask about


def test_the_snapshot_records_the_releasing_school_and_supplier(
        offline_rp: Rp, offline: dict[str, Any], store: StateStore) -> None:
    kept = codec.decode(store.get_token(ACCESS, digest(offline["access_token"])), Snapshot)
    assert kept is not None
    assert (kept.school_id, kept.supplier_id) == ("regenboog", "rekenapp")


def test_a_malformed_school_id_makes_the_snapshot_unreadable() -> None:
    with pytest.raises(TypeError):
        Snapshot(grant="g", client_id="c", sub="s", claims={}, scope=("openid",), auth_time=1,
                 school_id=7)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [ACCESS, REFRESH])
def test_a_damaged_token_record_is_no_token(offline_rp: Rp, offline: dict[str, Any],
                                            store: StateStore, kind: str) -> None:
    token = offline["access_token" if kind == ACCESS else "refresh_token"]
    kept = store.get_token(kind, digest(token))
    assert kept is not None
    store.put_token(kind, digest(token), kept[:-2], 60)
    if kind == ACCESS:
        assert_invalid_token(offline_rp.userinfo(token))
    else:
        status, body, _ = offline_rp.refresh(token)
        assert (status, body["error"]) == (400, "invalid_grant")
