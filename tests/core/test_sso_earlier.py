"""The sessions a browser's later logins replaced (broker/sso.py): linked only from that
browser's own cookie, found while they live, newest first and bounded, forgotten together."""

from __future__ import annotations

import pytest

from broker import sso
from broker.store.memory import MemoryStore
from tests.core.test_codec import PERSON


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def started(store: MemoryStore, after: sso.SsoSession | None = None) -> sso.SsoSession:
    session = sso.start(store, PERSON, b"", 600)
    if after is not None:
        sso.replaced(store, session, after.id)
    return session


def test_a_session_finds_what_it_replaced_newest_first(store: MemoryStore) -> None:
    first = started(store)
    second = started(store, first)
    third = started(store, second)
    assert [s.id for s in sso.chain(store, third).sessions] == [second.id, first.id]
    assert sso.chain(store, first).sessions == ()  # a session from before: nothing replaced


def test_a_session_that_ended_in_between_hides_none_of_the_older_ones(
        store: MemoryStore) -> None:
    first = started(store)
    second = started(store, first)
    third = started(store, second)
    store.delete_session(second.id)  # expired (a school can keep its sessions longer)
    store.delete_token(sso.EARLIER, second.id)  # its link goes with it
    assert [s.id for s in sso.chain(store, third).sessions] == [first.id]
    sso.end(store, (third,))
    assert store.get_session(third.id) is None and store.get_token(sso.EARLIER, third.id) is None


def test_a_link_from_before_chains_holds_one_id_and_is_still_followed(
        store: MemoryStore) -> None:
    first = started(store)
    second, third = sso.start(store, PERSON, b"", 600), sso.start(store, PERSON, b"", 600)
    store.put_token(sso.EARLIER, second.id, first.id.encode(), 600)  # one id, as written before
    store.put_token(sso.EARLIER, third.id, second.id.encode(), 600)
    assert [s.id for s in sso.chain(store, third).sessions] == [second.id, first.id]
    fourth = started(store, third)  # a new link copies the chain as it is read
    assert store.get_token(sso.EARLIER, fourth.id) == f"{third.id} {second.id}".encode()
    assert [s.id for s in sso.chain(store, fourth).sessions] == [third.id, second.id, first.id]


def test_only_sessions_named_by_this_browsers_links_are_found(store: MemoryStore) -> None:
    elsewhere = started(store)  # another browser's session: no link names it
    first = started(store)
    second = started(store, first)
    store.put_token(sso.EARLIER, first.id, b"not/an id " + b"x" * 65, 600)  # garbage is skipped
    assert [s.id for s in sso.chain(store, second).sessions] == [first.id]
    assert elsewhere.id not in store.get_token(sso.EARLIER, second.id).decode()


def test_the_chain_is_bounded_and_never_loops(store: MemoryStore) -> None:
    sessions = [started(store)]
    for _ in range(sso.EARLIER_MAX + 3):
        sessions.append(started(store, sessions[-1]))
    found = sso.chain(store, sessions[-1]).sessions
    assert [s.id for s in found] == [s.id for s in reversed(sessions[-sso.EARLIER_MAX - 1:-1])]
    sso.replaced(store, sessions[0], sessions[1].id)  # a loop (a planted cookie)
    assert len(sso.chain(store, sessions[1]).sessions) == 1


@pytest.mark.parametrize("cookie", ["", "x" * 65, "../etc", "a b", "é"])
def test_a_cookie_that_names_no_session_links_nothing(store: MemoryStore, cookie: str) -> None:
    session = started(store)
    sso.replaced(store, session, cookie)
    sso.replaced(store, session, session.id)  # the same session: no replacement
    assert store.get_token(sso.EARLIER, session.id) is None


def one_after_another(store: MemoryStore, count: int) -> list[sso.SsoSession]:
    """`count` sessions in one browser, each replacing the one before."""
    sessions = [started(store)]
    for _ in range(count - 1):
        sessions.append(started(store, sessions[-1]))
    return sessions


def test_a_chain_longer_than_a_logout_reaches_says_it_was_cut(store: MemoryStore) -> None:
    sessions = one_after_another(store, sso.EARLIER_MAX + 3)
    found = sso.chain(store, sessions[-1])
    assert found.cut
    assert [s.id for s in found.sessions] == [s.id for s in reversed(sessions[-9:-1])]
    link = store.get_token(sso.EARLIER, sessions[-1].id)
    assert link is not None and link.decode().split()[-1] == sso.CUT
    following = started(store, sessions[-1])  # a later login copies the cut
    assert sso.chain(store, following).cut


def test_a_chain_that_a_logout_reaches_whole_is_not_cut(store: MemoryStore) -> None:
    sessions = one_after_another(store, sso.EARLIER_MAX + 1)
    found = sso.chain(store, sessions[-1])
    assert not found.cut
    assert len(found.sessions) == sso.EARLIER_MAX
    assert sso.CUT.encode() not in (store.get_token(sso.EARLIER, sessions[-1].id) or b"")


def test_a_link_from_before_the_cut_was_told_reads_as_before(store: MemoryStore) -> None:
    first, second = started(store), sso.start(store, PERSON, b"", 600)
    store.put_token(sso.EARLIER, second.id, first.id.encode(), 600)  # one id, as written before
    assert sso.chain(store, second) == sso.Earlier((sso.load(store, first.id),), False)


def test_the_cut_marker_is_never_read_as_a_session(store: MemoryStore) -> None:
    planted = sso.start(store, PERSON, b"", 600)
    store.put_session(sso.CUT, store.get_session(planted.id) or b"", 600)  # a session under it
    session = sso.start(store, PERSON, b"", 600)
    store.put_token(sso.EARLIER, session.id, f"{sso.CUT} {planted.id} {sso.CUT}".encode(), 600)
    found = sso.chain(store, session)
    assert [s.id for s in found.sessions] == [planted.id] and found.cut
    later = started(store, session)
    link = store.get_token(sso.EARLIER, later.id)
    assert link == f"{session.id} {planted.id} {sso.CUT}".encode()
