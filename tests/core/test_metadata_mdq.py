"""Asking an MDQ service for many entities (broker/metadata_mdq.py): several at once, in the
caller's deadline, and no further question once the service stops answering. The service is
played by a stand-in for the one fetch (sources.fetch_entity); the fetch itself, over real
https, is tests/registry/test_metadata_sources.py's and test_mdq_down.py's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from broker import metadata_mdq
from broker.messages import msg
from broker.outbound import fetch
from broker.registry import sources
from broker.registry.aggregate import Aggregate
from broker.registry.metadata import MetadataError

SOURCE = sources.MetadataSource("mdq", "https://mdq.example/mdq", "", mdq=True)
NOW = datetime(2026, 12, 8, tzinfo=UTC)
ENTITIES = [f"https://school-{n:03}.example/idp" for n in range(40)]


class Service:
    """Answers each entity, except those in `silent` (reached no server: a timeout)."""

    def __init__(self, silent: frozenset[str] = frozenset()) -> None:
        self.silent = silent
        self.asked: list[str] = []
        self.deadlines: set[float] = set()
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def fetch_entity(self, source: sources.MetadataSource, entity_id: str,
                     now: datetime) -> Aggregate:
        with self._lock:
            self.asked.append(entity_id)
            self.deadlines.add(fetch.Fetcher().timeout)
            self.threads.add(threading.get_ident())
        if entity_id in self.silent:
            raise MetadataError(msg("problem.detail", detail="did not answer"), reached=False)
        return Aggregate(f"<EntityDescriptor entityID='{entity_id}'/>", {entity_id: "x"}, None,
                         None)


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Service:
    played = Service()
    monkeypatch.setattr(sources, "fetch_entity", played.fetch_entity)
    return played


def test_every_entity_is_asked_once_several_at_once_in_the_callers_deadline(
        service: Service) -> None:
    with fetch.default_timeout(0.25):
        found = metadata_mdq.ask_each(SOURCE, ENTITIES, NOW)
    assert list(found) == ENTITIES and all(isinstance(a, Aggregate) for a in found.values())
    assert sorted(service.asked) == ENTITIES
    assert len(service.threads) > 1, "asked from more than one thread"
    assert service.deadlines == {0.25}, "the caller's deadline holds in every thread"


def test_a_service_that_does_not_answer_the_first_question_gets_no_other(
        service: Service) -> None:
    service.silent = frozenset(ENTITIES)
    found = metadata_mdq.ask_each(SOURCE, ENTITIES, NOW)
    assert service.asked == ENTITIES[:1] and list(found) == ENTITIES[:1]


def test_once_the_service_stops_answering_no_further_entity_is_asked(
        service: Service) -> None:
    service.silent = frozenset(ENTITIES[5:])
    found = metadata_mdq.ask_each(SOURCE, ENTITIES, NOW)
    assert len(service.asked) <= 6 + metadata_mdq.AT_ONCE  # those already on their way
    assert set(found) == set(service.asked) and list(found) == sorted(found, key=ENTITIES.index)
    assert all(isinstance(found[e], Aggregate) for e in ENTITIES[:5])


def test_no_entities_no_questions(service: Service) -> None:
    assert metadata_mdq.ask_each(SOURCE, [], NOW) == {} and service.asked == []
