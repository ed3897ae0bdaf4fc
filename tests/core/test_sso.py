"""The SSO session knows its participants (broker/sso.py): each supplier it logged in, with the
pseudonym and the session id that supplier was given, and the school's own session."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.flow import SsoSession
from broker.identity import Released
from broker.outgoing import Outgoing
from broker.records import Supplier
from broker.registry import Registry
from tests.core.flow_world import FEDERATION, FakeDownstream, World, build_registry

BOTH = FEDERATION.replace('suspended = "contract under review"\n', "").replace(
    'client_secret = "s3cret"\nsso_lifetime = 600', 'client_secret = "s3cret"\nsso_lifetime = 600\n'
    'shared_devices = true')


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = build_registry(tmp_path_factory.mktemp("registry"), BOTH)
    yield registry
    registry.close()


def stored(world: World, session: SsoSession | None) -> SsoSession:
    assert session is not None
    found = world.flow.session(session.id)
    assert found is not None
    return found


def test_the_first_supplier_and_the_school_are_participants(world: World) -> None:
    answer, session = world.answer(world.ask(hints=("regenboog",)), subject="pupil-7")
    record = stored(world, session).record
    assert record.school_session == b"at-school:pupil-7"
    [taalapp] = record.participants
    assert answer.form is not None
    assert (taalapp.supplier_id, taalapp.subject, taalapp.sid) == (
        "taalapp", answer.form["sub"], answer.form["sid"])
    assert len(taalapp.sid) >= 22  # a random value, told to this supplier alone


def test_a_first_login_writes_its_session_once(world: World) -> None:
    """The session is stored with its first supplier already joined: one write, never a
    session without the participant that logging out needs."""
    _, session = world.answer(world.ask(hints=("regenboog",)))
    assert world.store.sessions_put == 1
    assert [p.supplier_id for p in stored(world, session).record.participants] == ["taalapp"]
    world.ask("taalapp", hints=("lyceum",))  # another login, still at its school: no write
    world.ask("taalapp", session=stored(world, session))  # the same supplier again: no write
    assert world.store.sessions_put == 1


def test_each_supplier_gets_its_own_sid_and_keeps_it(world: World) -> None:
    first, session = world.answer(world.ask(hints=("regenboog",)))
    second = world.ask("leesplein", session=stored(world, session))
    again = world.ask("taalapp", session=stored(world, session))
    assert first.form and second.form and again.form
    assert second.form["sid"] != first.form["sid"]  # suppliers cannot link sessions by it
    assert again.form["sid"] == first.form["sid"]
    record = stored(world, session).record
    assert [p.supplier_id for p in record.participants] == ["taalapp", "leesplein"]


def test_a_supplier_joining_does_not_make_the_session_last_longer(world: World) -> None:
    _, session = world.answer(world.ask(hints=("regenboog",)))
    expires = stored(world, session).record.expires
    assert expires <= int(time.time()) + world.broker.settings.sso_lifetime
    world.ask("leesplein", session=stored(world, session))
    assert stored(world, session).record.expires == expires


def test_a_new_login_starts_a_session_without_the_old_participants(world: World) -> None:
    _, old = world.answer(world.ask(hints=("regenboog",)))
    _, new = world.answer(world.ask("leesplein", hints=("regenboog",), force_authn=True))
    assert old is not None and new is not None and old.id != new.id
    assert [p.supplier_id for p in stored(world, new).record.participants] == ["leesplein"]


def test_a_school_with_shared_devices_makes_every_new_session_log_in_afresh(
        world: World) -> None:
    _, session = world.answer(world.ask(hints=("lyceum",)))
    assert world.upstream.sent[-1].force_authn  # prompt=login / ForceAuthn at the school
    assert session is not None and session.browser_bound  # the cookie ends with the browser
    served = world.ask("taalapp", session=stored(world, session))
    assert served.form is not None and served.form["school"] == "lyceum"  # SSO within it
    assert len(world.upstream.sent) == 1


def test_other_schools_keep_their_remembered_sessions(world: World) -> None:
    _, session = world.answer(world.ask(hints=("regenboog",)))
    assert not world.upstream.sent[-1].force_authn
    assert session is not None and not session.browser_bound


class RenamingDownstream(FakeDownstream):
    """A supplier that knows the pupil by a fresh name at every login, as a SAML SP asking
    for a transient NameID does."""

    def __init__(self) -> None:
        self.names = itertools.count()

    def name_for(self, supplier: Supplier, request: bytes) -> str | None:
        return f"transient-{next(self.names)}"

    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        answer = super().respond(supplier, request, released)
        return Outgoing(answer.url, {**(answer.form or {}), "name": released.name})


def test_a_supplier_that_knows_the_pupil_by_another_name_is_logged_out_by_it(
        registry: Registry, tmp_path: Path) -> None:
    """The session keeps the name the supplier was given at its latest login, so that its
    logout (which names the pupil so) ends this session, and Loper's names the pupil so."""
    world = World(registry, tmp_path, RenamingDownstream())
    first, session = world.answer(world.ask(hints=("regenboog",)))
    again = world.ask("taalapp", session=stored(world, session))
    assert first.form is not None and again.form is not None
    assert (first.form["name"], again.form["name"]) == ("transient-0", "transient-1")
    assert again.form["sid"] == first.form["sid"]  # the same supplier session, renamed
    record = stored(world, session).record
    [taalapp] = record.participants
    assert taalapp.known_as == "transient-1" and taalapp.subject == first.form["sub"]
    assert record.names("taalapp", "transient-1", (again.form["sid"],))
    assert not record.names("taalapp", "transient-0", ())  # an earlier login's name
    assert not record.names("taalapp", taalapp.subject, ())  # never told to this supplier
    assert not record.names("leesplein", "transient-1", ())  # another supplier's name


def test_a_supplier_known_by_the_pseudonym_is_logged_out_by_it(world: World) -> None:
    answer, session = world.answer(world.ask(hints=("regenboog",)))
    assert answer.form is not None
    record = stored(world, session).record
    assert record.participants[0].known_as == answer.form["sub"]
    assert record.names("taalapp", answer.form["sub"], (answer.form["sid"],))
    assert not record.names("taalapp", answer.form["sub"], ("another-sid",))
