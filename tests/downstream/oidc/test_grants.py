"""An access token serves its snapshot until its grant is revoked or its SSO session is logged
out: Grants.access asks for both markers in one round trip, and either one alone refuses it.
On the in-memory store and on a real Redis (where the markers come back from one pipeline)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker.downstream.oidc_grants import Grants, Lifetimes, Snapshot
from broker.store import MemoryStore, StateStore, open_store


@pytest.fixture(params=["memory", "redis"])
def grants(request: pytest.FixtureRequest) -> Iterator[Grants]:
    store: StateStore = MemoryStore()
    if request.param == "redis":
        store = open_store(request.getfixturevalue("redis_store_url"))
    yield Grants(store, Lifetimes(code=60, access=300, refresh=3600))
    store.close()


def snapshot(grant: str = "grant-1", sid: str | None = "sid-1") -> Snapshot:
    return Snapshot(grant=grant, client_id="client-1", sub="sub-1", claims={"name": "Anna"},
                    scope=("openid", "profile"), auth_time=1_700_000_000, sid=sid)


@pytest.mark.parametrize("sid", ["sid-1", None], ids=["with sid", "without sid"])
def test_an_access_token_serves_until_its_grant_is_revoked(grants: Grants,
                                                           sid: str | None) -> None:
    given = snapshot(sid=sid)
    token = grants.issue_access(given)
    assert grants.access(token) == given
    grants.revoke(given)
    assert grants.access(token) is None


def test_an_access_token_ends_with_its_sso_session(grants: Grants) -> None:
    token = grants.issue_access(snapshot())
    grants.end_session("sid-1")
    assert grants.revoked("grant-1") is False  # the session marker alone refuses it
    assert grants.access(token) is None


def test_other_grants_and_sessions_ending_leave_a_token_alone(grants: Grants) -> None:
    given = snapshot()
    token = grants.issue_access(given)
    grants.revoke(snapshot(grant="grant-2"))
    grants.end_session("sid-2")
    assert grants.access(token) == given
    assert grants.access("an unknown token") is None
