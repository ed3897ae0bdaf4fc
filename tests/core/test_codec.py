"""What the state store keeps: compact, round-tripping, and strict when read back."""

from __future__ import annotations

from datetime import UTC, datetime

from broker import codec
from broker.identity import AuthnContext, PendingLogin, Person


def test_pending_login_round_trips_and_stays_small() -> None:
    login = PendingLogin(id="x" * 24, supplier_id="rekenwonders", protocol="saml",
                         request={"id": "_" + "a" * 40, "acs": "https://sp.example/acs" * 3},
                         force_authn=True, upstream={"rid": "id-" + "b" * 32, "t": 1.5},
                         school_id="regenboog", browser="y" * 32)
    data = codec.pending_to_bytes(login)
    assert codec.pending_from_bytes(data) == login
    assert len(data) < 1024


def test_person_round_trips_without_any_upstream_subject() -> None:
    person = Person(school_id="regenboog", anchor="ab" * 32,
                    attributes={"role": ("student",), "groups": ("5a", "5b")},
                    authn=AuthnContext(datetime(2026, 11, 28, 8, 0, 1, tzinfo=UTC), "urn:x"))
    assert codec.person_from_bytes(codec.person_to_bytes(person)) == person


def test_damaged_records_read_as_absent() -> None:
    for junk in (b"", b"{", b"[]", b'{"s": 1}', b'{"nope": true}', "\u00e9".encode("latin-1")):
        assert codec.person_from_bytes(junk) is None
        assert codec.pending_from_bytes(junk) is None
