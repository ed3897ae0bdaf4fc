"""The per-process cache of ECK iD arrivals (broker/registry/eck_cache.py): a pupil's login with
an ECK iD runs no SQL once they logged in before, and every answer that could have changed is
asked again (through the real Flow and a real SQLite registry); its bound, its generations and
its time limit on their own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from broker.errors import EckIdClaimedTwice
from broker.pseudonym import anchor
from broker.registry import Registry
from broker.registry.eck_cache import UNLINKED_TTL, ArrivalCache, Key
from broker.registry.eck_ids import Arrival, Outcome
from tests.core.flow_world import KEYS, Clock, World, build_registry
from tests.core.test_eck_linking import LINKING, audit, eck, log_in, subject
from tests.flows.test_hot_path import LEDGER_APPEND, VERSION_CHECK
from tests.registry.test_cache import Statements


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("registry")


@pytest.fixture(scope="module")
def registry(folder: Path) -> Iterator[Registry]:
    registry = build_registry(folder, LINKING)
    yield registry
    registry.close()


@pytest.fixture(scope="module")
def clock(registry: Registry) -> Clock:
    """The arrival cache's clock: a test moves it on instead of waiting."""
    clock = Clock()
    registry._arrivals._clock = clock  # white-box: no test depends on how long it takes
    return clock


@pytest.fixture(scope="module")
def world(registry: Registry, clock: Clock, tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(registry, tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="module")
def statements(registry: Registry) -> Statements:
    return Statements(registry)


@pytest.fixture
def ran(statements: Statements) -> Callable[[Callable[[], object]], list[str]]:
    """The statements SQLite ran for the registry while `step` ran, but the version checks and
    the release's ledger append."""
    def run(step: Callable[[], object]) -> list[str]:
        statements.clear()
        step()
        return [s for s in statements.seen
                if s != VERSION_CHECK and not s.startswith(LEDGER_APPEND)]
    return run


Ran = Callable[[Callable[[], object]], list[str]]


def reads_eck_ids(statements: list[str]) -> bool:
    return any("FROM eck_ids" in s for s in statements)


@pytest.mark.parametrize("school", ["regenboog", "kompas"])  # links by ECK iD; does not
def test_a_second_login_of_a_pupil_runs_no_sql_but_the_ledger_append(
        world: World, ran: Ran, school: str) -> None:
    who, the_eck = subject(), eck()
    first = ran(lambda: log_in(world, school, who, the_eck))
    assert reads_eck_ids(first), "the measure sees the arrival's queries"
    for _ in range(3):
        assert ran(lambda: log_in(world, school, who, the_eck)) == []


def test_a_pupil_linked_by_eck_id_is_read_once_more_then_runs_no_sql(
        world: World, registry: Registry, ran: Ran) -> None:
    """The link added an alias: the registry version moved, and every cached answer with it."""
    the_eck, mover = eck(), subject()
    before = log_in(world, "regenboog", subject(), the_eck)
    assert log_in(world, "lyceum", mover, the_eck) == before
    assert reads_eck_ids(ran(lambda: log_in(world, "lyceum", mover, the_eck)))
    assert ran(lambda: log_in(world, "lyceum", mover, the_eck)) == []
    assert log_in(world, "lyceum", mover, the_eck) == before


def test_an_admins_alias_change_is_seen_at_the_next_login(
        world: World, registry: Registry, folder: Path) -> None:
    """By this process's Registry or by another's (another worker): the registry version."""
    pupil, the_eck, first, then = subject(), eck(), subject(), subject()
    log_in(world, "regenboog", pupil, the_eck)
    mine = log_in(world, "regenboog", pupil, the_eck)  # served from the cache
    theirs = log_in(world, "lyceum", first)
    registry.add_alias(anchor(KEYS, "regenboog", pupil), anchor(KEYS, "lyceum", first))
    assert log_in(world, "regenboog", pupil, the_eck) == theirs != mine
    assert log_in(world, "regenboog", pupil, the_eck) == theirs  # served from the cache
    now = log_in(world, "lyceum", then)
    other = Registry(f"sqlite:///{folder / 'registry.sqlite'}")
    try:  # moves every alias of `first` along: the pupil's too
        other.add_alias(anchor(KEYS, "lyceum", first), anchor(KEYS, "lyceum", then))
    finally:
        other.close()
    assert log_in(world, "regenboog", pupil, the_eck) == now


def test_a_refresh_asks_again(world: World, registry: Registry, ran: Ran) -> None:
    who, the_eck = subject(), eck()
    log_in(world, "regenboog", who, the_eck)
    assert ran(lambda: log_in(world, "regenboog", who, the_eck)) == []
    registry.refresh()
    assert reads_eck_ids(ran(lambda: log_in(world, "regenboog", who, the_eck)))


def test_a_pupil_claimed_twice_is_refused_and_recorded_at_every_login(
        world: World, registry: Registry, caplog: pytest.LogCaptureFixture,
        statements: Statements) -> None:
    caplog.set_level(logging.INFO, "loper.audit")
    the_eck, first, second = eck(), subject(), subject()
    mine = log_in(world, "regenboog", first, the_eck)
    log_in(world, "regenboog", first, the_eck)
    trail = len(registry.audit_trail().entries("regenboog", actions=frozenset({"alias"})))
    for _ in range(3):
        statements.clear()
        with pytest.raises(EckIdClaimedTwice):
            log_in(world, "regenboog", second, the_eck)
        assert reads_eck_ids(statements.seen), "asked every time"
    assert [r.getMessage() for r in audit(caplog)] == [
        "alias refused: another pupil of this school has this ECK iD"] * 3
    assert len(registry.audit_trail().entries(
        "regenboog", actions=frozenset({"alias"}))) == trail + 3
    assert log_in(world, "regenboog", first, the_eck) == mine


def test_at_a_school_that_does_not_link_the_log_line_comes_back_within_the_time_limit(
        world: World, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    """Another school's first sight of the ECK iD raises no version: at kompas, which does not
    link, the pupil's answer is served for UNLINKED_TTL seconds, then asked again."""
    caplog.set_level(logging.INFO, "loper.audit")
    pupil, the_eck = subject(), eck()
    at_kompas = log_in(world, "kompas", pupil, the_eck)
    log_in(world, "regenboog", subject(), the_eck)  # first seen at a linking school
    clock.now += UNLINKED_TTL - 1
    assert log_in(world, "kompas", pupil, the_eck) == at_kompas
    assert audit(caplog) == [], "within the time limit: the answer from before"
    clock.now += 1
    assert log_in(world, "kompas", pupil, the_eck) == at_kompas
    [line] = audit(caplog)
    assert line.getMessage().startswith("alias not linked: one of the two schools does not")
    assert (line.school, line.other_school) == ("kompas", "regenboog")
    assert the_eck not in caplog.text and at_kompas not in caplog.text


# The cache on its own


class Generations:
    """The record cache's generation, moved by a test."""

    def __init__(self) -> None:
        self.value = 0

    def generation(self) -> int:
        return self.value


def key(n: int, links: bool = True) -> Key:
    return Key(f"{n:064x}", "regenboog", f"anchor-{n}", links)


class Loads:
    """Loads that answer KNOWN with the key's anchor, counted."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, of: Key, outcome: Outcome = Outcome.KNOWN) -> Callable[[], Arrival]:
        def load() -> Arrival:
            self.count += 1
            return Arrival(outcome, of.anchor)
        return load


def test_the_cache_keeps_at_most_its_size_the_least_recently_used_dropped() -> None:
    cache, loads = ArrivalCache(Generations(), size=3), Loads()
    for n in range(3):
        cache.get(key(n), loads(key(n)))
    cache.get(key(0), loads(key(0)))  # used: now the most recent
    for n in range(3, 10):
        cache.get(key(n), loads(key(n)))
        assert len(cache) == 3
    assert loads.count == 10
    cache.get(key(9), loads(key(9)))
    cache.get(key(0), loads(key(0)))
    assert loads.count == 11, "9 was kept, 0 was dropped"


def test_a_first_arrival_keeps_what_the_next_one_answers() -> None:
    cache, loads = ArrivalCache(Generations()), Loads()
    linked = Arrival(Outcome.LINKED, "their-anchor", "lyceum")
    assert cache.get(key(1), lambda: linked) is linked
    assert cache.get(key(1), loads(key(1))) == Arrival(Outcome.KNOWN, "their-anchor")
    assert loads.count == 0


def test_a_refusal_is_never_kept() -> None:
    cache, loads = ArrivalCache(Generations()), Loads()
    for _ in range(3):
        assert cache.get(key(1), loads(key(1), Outcome.CLAIMED_TWICE)).outcome is (
            Outcome.CLAIMED_TWICE)
    assert (loads.count, len(cache)) == (3, 0)


def test_a_new_generation_drops_everything() -> None:
    generations, loads = Generations(), Loads()
    cache = ArrivalCache(generations)
    cache.get(key(1), loads(key(1)))
    generations.value += 1
    cache.get(key(2), loads(key(2)))
    assert len(cache) == 1
    cache.get(key(1), loads(key(1)))
    assert loads.count == 3


def test_an_answer_read_while_the_registry_changed_is_not_served_after_it() -> None:
    generations, loads = Generations(), Loads()
    cache = ArrivalCache(generations)
    load = loads(key(1))

    def changed_meanwhile() -> Arrival:
        generations.value += 1
        return load()
    cache.get(key(1), changed_meanwhile)
    cache.get(key(1), load)
    assert loads.count == 2


def test_an_answer_read_in_an_older_generation_is_not_kept() -> None:
    generations, loads = Generations(), Loads()
    cache = ArrivalCache(generations)
    generations.value = 5
    cache.get(key(1), loads(key(1)))
    generations.value = 4  # a thread that checked the version before another one did
    cache.get(key(2), loads(key(2)))
    generations.value = 5
    cache.get(key(2), loads(key(2)))
    assert (loads.count, len(cache)) == (3, 2)


def test_a_school_that_does_not_link_is_asked_again_after_the_time_limit() -> None:
    clock, loads = Clock(), Loads()
    cache = ArrivalCache(Generations(), clock=clock)
    unlinked, linking = key(1, links=False), key(2)
    for _ in range(2):
        cache.get(unlinked, loads(unlinked))
        cache.get(linking, loads(linking))
    assert loads.count == 2
    clock.now += UNLINKED_TTL
    cache.get(unlinked, loads(unlinked))
    cache.get(linking, loads(linking))
    assert loads.count == 3


def test_the_cache_is_shared_by_threads_within_its_bound() -> None:
    cache, loads = ArrivalCache(Generations(), size=50), Loads()
    wrong: list[Key] = []

    def work(offset: int) -> None:
        for n in range(400):
            k = key((n * 7 + offset) % 120)
            if cache.get(k, loads(k)).anchor != k.anchor:
                wrong.append(k)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and len(cache) == 50


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ArrivalCache(Generations(), size=0)
