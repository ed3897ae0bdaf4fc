"""The school picker's search: by name or place, forgiving about accents and case, and
usable with thousands of schools."""

from __future__ import annotations

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
