"""The school picker's search: by name or place, forgiving about accents and case, and
usable with thousands of schools."""

from __future__ import annotations

import pytest

from broker.portal.discovery import LIST_ALL_UP_TO, MAX_MATCHES, listed
from broker.records import School
from broker.upstream.saml_kind import SamlSchool


def school(n: int, name: str = "", place: str = "") -> School:
    return School(id=f"s{n}", name=name or f"Basisschool {n}",
                  config=SamlSchool("", f"https://idp.s{n}.example"),
                  place=place or "Zwolle")


def test_a_small_federation_lists_every_school() -> None:
    schools = [school(n) for n in range(LIST_ALL_UP_TO)]
    assert listed(schools, "") == (schools, False)


def test_a_large_federation_asks_for_a_name_first() -> None:
    assert listed([school(n) for n in range(5000)], "  ") == ([], True)


def test_search_by_name_or_place_ignores_case_and_accents() -> None:
    schools = [school(1, "Het Lyceum", "Amersfoort"), school(2, "OBS De Regenboog", "Utrecht"),
               school(3, "Cbs Élan", "Den Haag")]
    assert [s.id for s in listed(schools, "utrecht")[0]] == ["s2"]
    assert [s.id for s in listed(schools, "elan den")[0]] == ["s3"]
    assert [s.id for s in listed(schools, "LYCEUM amers")[0]] == ["s1"]
    assert listed(schools, "rotterdam") == ([], False)


def test_many_matches_are_capped_and_say_so() -> None:
    found, more = listed([school(n) for n in range(5000)], "basisschool")
    assert len(found) == MAX_MATCHES and more


SCHOOLS = [school(1, "Het Lyceum", "Amersfoort"), school(2, "OBS De Regenboog", "Utrecht"),
           school(3, "Sint-Jozefschool", "Tilburg"), school(4, "De Regenbui", "Zwolle"),
           school(5, "Cbs Élan", "Den Haag")]


@pytest.mark.parametrize(("typed", "found"), [
    ("regenbog", ["s2", "s4"]),         # a letter missing (De Regenbui is two letters off)
    ("regneboog", ["s2"]),              # two letters swapped
    ("regenboog utreht", ["s2"]),       # a typo in the town as well
    ("st. jozef", ["s3"]), ("st jozef", ["s3"]), ("sint jozef", ["s3"]),
    ("élan", ["s5"]), ("ELAN", ["s5"]),
    ("lyceem", ["s1"]),
])
def test_typos_abbreviations_and_accents_still_find_the_school(typed: str,
                                                                found: list[str]) -> None:
    assert [s.id for s in listed(SCHOOLS, typed)[0]] == found


def test_an_exact_match_wins_over_close_ones() -> None:
    assert [s.id for s in listed(SCHOOLS, "regenbui")[0]] == ["s4"]


@pytest.mark.parametrize("typed", ["xyz", "abc", "rotterdam", "q"])
def test_nothing_close_finds_nothing(typed: str) -> None:
    assert listed(SCHOOLS, typed) == ([], False)


def test_typo_search_in_a_national_federation_stays_bounded() -> None:
    schools = [school(n, f"Basisschool De Linde {n}", "Zwolle") for n in range(5000)]
    found, more = listed(schools, "lnide")
    assert len(found) == MAX_MATCHES and more
