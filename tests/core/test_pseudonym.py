"""Pseudonyms: stable, pairwise, sector-shared, versioned, alias-preserving."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from broker.keys import PseudonymKeys
from broker.pseudonym import anchor, pseudonym

KEYS = PseudonymKeys(anchor=b"a" * 32, versions={1: b"1" * 32, 2: b"2" * 32}, current=2)
ids = st.text(min_size=1, max_size=40)
FORMAT = re.compile(r"^v\d+-[a-z2-7]{52}$")


@given(school=ids, subject=ids, sector=ids)
def test_stable_across_calls_and_restarts(school: str, subject: str, sector: str) -> None:
    again = PseudonymKeys(anchor=b"a" * 32, versions={1: b"1" * 32, 2: b"2" * 32}, current=2)
    first = pseudonym(KEYS, 1, sector, anchor(KEYS, school, subject))
    assert first == pseudonym(again, 1, sector, anchor(again, school, subject))


@given(school=ids, subject=ids, a=ids, b=ids)
def test_distinct_across_sectors(school: str, subject: str, a: str, b: str) -> None:
    person = anchor(KEYS, school, subject)
    if a != b:
        assert pseudonym(KEYS, 1, a, person) != pseudonym(KEYS, 1, b, person)


@given(school=ids, subject=ids, sector=ids)
def test_shared_within_a_sector(school: str, subject: str, sector: str) -> None:
    person = anchor(KEYS, school, subject)
    assert pseudonym(KEYS, 2, sector, person) == pseudonym(KEYS, 2, sector, person)


@given(school=ids, subject=ids, sector=ids, version=st.sampled_from([1, 2]))
def test_key_version_prefixed_and_lowercase(school: str, subject: str, sector: str,
                                            version: int) -> None:
    value = pseudonym(KEYS, version, sector, anchor(KEYS, school, subject))
    assert FORMAT.match(value)
    assert value.startswith(f"v{version}-")


@given(school=ids, subject=st.text(min_size=4, max_size=40), sector=ids)
def test_reveals_nothing_of_the_school_id(school: str, subject: str, sector: str) -> None:
    person = anchor(KEYS, school, subject)
    assert subject.lower() not in pseudonym(KEYS, 1, sector, person)
    assert subject.encode().hex() not in person


@given(old=ids, new=ids, sector=ids)
def test_alias_preserves_pseudonym(old: str, new: str, sector: str) -> None:
    aliases = {anchor(KEYS, "lyceum", new): anchor(KEYS, "regenboog", old)}
    resolved = aliases.get(anchor(KEYS, "lyceum", new), anchor(KEYS, "lyceum", new))
    assert pseudonym(KEYS, 1, sector, resolved) == pseudonym(
        KEYS, 1, sector, anchor(KEYS, "regenboog", old))


def test_school_and_subject_boundary_cannot_be_shifted() -> None:
    assert anchor(KEYS, "ab", "c") != anchor(KEYS, "a", "bc")


def test_unknown_key_version_is_a_clear_error() -> None:
    try:
        pseudonym(KEYS, 9, "s", "x")
    except KeyError as exc:
        assert "version 9" in str(exc)
    else:
        raise AssertionError("expected KeyError")


@given(eck=st.text(min_size=1, max_size=200), other=st.text(min_size=1, max_size=200))
def test_the_eck_hash_is_keyed_stable_and_reveals_nothing(eck: str, other: str) -> None:
    from broker.pseudonym import eck_hash

    again = PseudonymKeys(anchor=b"a" * 32, versions={}, current=0)
    elsewhere = PseudonymKeys(anchor=b"b" * 32, versions={}, current=0)
    found = eck_hash(KEYS, eck)
    assert re.fullmatch(r"[0-9a-f]{64}", found) and found == eck_hash(again, eck)
    assert found != eck_hash(elsewhere, eck), "another instance's key: another hash"
    assert (found == eck_hash(KEYS, other)) == (eck == other)
    assert found not in {anchor(KEYS, "eck-id", eck), anchor(KEYS, eck, "")}
