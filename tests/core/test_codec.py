"""What the state store keeps: compact, round-tripping, and strict when read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from broker import codec
from broker.identity import AuthnContext, PendingLogin, Person

PERSON = Person(school_id="regenboog", anchor="ab" * 32,
                attributes={"role": ("student",), "groups": ("5a", "5b")},
                authn=AuthnContext(datetime(2026, 11, 28, 8, 0, 1, 250000, tzinfo=UTC), "urn:x"))


def test_pending_login_round_trips_and_stays_small() -> None:
    login = PendingLogin(id="x" * 24, supplier_id="rekenwonders", protocol="saml",
                         request=b"_" + b"a" * 40 + b"https://sp.example/acs" * 3,
                         force_authn=True, upstream=b"\x00id-" + b"b" * 32,
                         school_id="regenboog", browser="y" * 32)
    data = codec.encode(login)
    assert codec.decode(data, PendingLogin) == login
    assert len(data) < 1024


@pytest.mark.parametrize("max_age", [0, 1, None])
def test_falsy_values_survive(max_age: int | None) -> None:
    login = PendingLogin(id="", supplier_id="s", protocol="oidc", request=b"", max_age=max_age)
    assert codec.decode(codec.encode(login), PendingLogin) == login


def test_person_round_trips_without_any_upstream_subject() -> None:
    found = codec.decode(codec.encode(PERSON), Person)
    assert found == PERSON
    assert found.authn.instant.tzinfo is not None


def test_damaged_records_read_as_absent() -> None:
    for junk in (None, b"", b"{", b"[]", b'{"s": 1}', b'{"nope": true}', b"\xc1",
                 "\u00e9".encode("latin-1"), codec.encode({"school_id": 1})):
        assert codec.decode(junk, Person) is None
        assert codec.decode(junk, PendingLogin) is None


def test_a_record_of_another_type_reads_as_absent() -> None:
    assert codec.decode(codec.encode(PERSON), PendingLogin) is None
    truncated = codec.encode(PERSON)[:-3]
    assert codec.decode(truncated, Person) is None


@dataclass(frozen=True)
class Checked:
    value: str

    def __post_init__(self) -> None:
        if not self.value.isdigit():
            raise TypeError("not a number")


def test_a_record_its_type_refuses_reads_as_absent() -> None:
    assert codec.decode(codec.encode(Checked("12")), Checked) == Checked("12")
    assert codec.decode(codec.encode({"value": "x"}), Checked) is None
