"""The school picker with a national registry: twenty thousand schools, read through the
registry the way a worker does (names only, one search index per registry version)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.portal.discovery import MAX_MATCHES, listed
from broker.portal.search_index import Choice, SearchIndex, picker_index
from broker.records import School
from broker.registry import Registry
from broker.registry.federation import Federation
from broker.upstream.saml_kind import SamlSchool

SCHOOLS = 20_000
PLACES = ("Zwolle", "Utrecht", "Tilburg", "Groningen")


def _school(n: int, name: str, place: str, hub: bool = False) -> School:
    return School(id=f"school-{n:05d}", name=name, place=place,
                  config=SamlSchool("", f"https://idp.school-{n}.example"), hub=hub)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder: Path = tmp_path_factory.mktemp("national")
    registry = Registry(f"sqlite:///{folder / 'registry.sqlite'}")
    registry.upgrade()
    schools = [_school(n, f"Basisschool De Linde {n}", PLACES[n % 4]) for n in range(SCHOOLS)]
    schools += [_school(SCHOOLS, "OBS De Regenboog", "Amersfoort"),
                _school(SCHOOLS + 1, "Sint-Jozefschool", "Élst"),
                _school(SCHOOLS + 2, "Entree Federatie", "Zoetermeer", hub=True)]
    registry.import_federation(Federation(schools=tuple(schools)), key_version=1)
    yield registry
    registry.close()


def _ids(found: list[Choice]) -> list[str]:
    return [school.id for school in found]


def test_an_empty_search_lists_no_school_and_asks_for_a_name(registry: Registry) -> None:
    index = picker_index(registry)
    assert len(index.schools) == SCHOOLS + 2  # the hub is never listed
    assert listed(index.schools, "", index) == ([], True)


def test_a_common_word_lists_a_bounded_page_and_says_there_are_more(registry: Registry) -> None:
    index = picker_index(registry)
    for typed in ("basisschool", "linde zwolle", "e", "school"):
        found, more = listed(index.schools, typed, index)
        assert len(found) == MAX_MATCHES and more, typed


@pytest.mark.parametrize(("typed", "school_id"), [
    ("regenboog", "school-20000"), ("regenbog", "school-20000"),   # a letter missing
    ("regneboog amersfort", "school-20000"),                        # letters swapped, a typo
    ("st. jozef", "school-20001"), ("sint jozef elst", "school-20001"),  # "st.", accents
    ("school-12345", "school-12345"), ("linde 12345", "school-12345"),
])
def test_the_right_school_is_found_among_many_despite_typos(registry: Registry, typed: str,
                                                           school_id: str) -> None:
    index = picker_index(registry)
    found, more = listed(index.schools, typed, index)
    assert _ids(found)[:1] == [school_id] and not more


def test_the_hub_is_never_listed(registry: Registry) -> None:
    index = picker_index(registry)
    assert listed(index.schools, "entree federatie", index) == ([], False)


def test_typos_in_a_common_name_list_the_closest_first_and_stay_bounded(
        registry: Registry) -> None:
    index = picker_index(registry)
    found, more = listed(index.schools, "lnide", index)
    assert len(found) == MAX_MATCHES and more
    assert all("Linde" in school.name for school in found)


def test_the_index_is_built_once_and_again_when_the_registry_changes(
        registry: Registry) -> None:
    index = picker_index(registry)
    assert picker_index(registry) is index
    assert listed(index.schools, "kompas", index) == ([], False)
    added = _school(SCHOOLS + 3, "Het Kompas", "Deventer")
    registry.import_federation(Federation(schools=(added,)), key_version=1)
    renewed = picker_index(registry)
    assert renewed is not index
    assert _ids(listed(renewed.schools, "kompas deventer", renewed)[0]) == [added.id]
    renamed = dataclasses.replace(added, name="Het Baken")
    registry.import_federation(Federation(schools=(renamed,)), key_version=1)
    index = picker_index(registry)
    assert listed(index.schools, "kompas", index) == ([], False)
    assert _ids(listed(index.schools, "baken", index)[0]) == [added.id]


def test_the_index_finds_what_a_full_scan_of_the_records_finds() -> None:
    schools = [School(id=f"s{n}", name=name, place=place, config=SamlSchool("", f"https://{n}"))
               for n, (name, place) in enumerate([("Het Lyceum", "Amersfoort"),
                                                  ("OBS De Regenboog", "Utrecht"),
                                                  ("De Regenbui", "Zwolle")])]
    index = SearchIndex(schools)
    assert listed(schools, "regenbog", index) == listed(schools, "regenbog")
    assert [s.id for s in listed(schools, "regenbog", index)[0]] == ["s1", "s2"]
