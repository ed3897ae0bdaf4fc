"""An MDQ source whose service gives no answer at all is asked once per refresh, not once per
entity: with thousands of schools behind one MDQ service, a service that hangs would otherwise
hold a refresh for thousands of timeouts. The entities not asked keep their last good metadata
and say why. A service that answers, even with an error for one entity, is asked for every
entity as before (tests/registry/test_metadata_sources.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from broker.metadata_refresh import refresh
from broker.outbound.fetch import default_timeout
from broker.registry import Registry, load_federation, sources
from broker.registry.aggregate import Aggregate
from tests.faults.slow import slow_socket
from tests.registry.helpers import school_metadata, snapshot, sql
from tests.registry.test_metadata_sources import (  # noqa: F401  (fixtures)
    SCHOOL_IDP,
    SUPPLIER_SP,
    World,
    mdq,
    mdq_path,
    world,
)

Fetch = Callable[[sources.MetadataSource, str, datetime], Aggregate]


def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The entities the refresh asks its MDQ service for, in order (the real fetch runs)."""
    seen: list[str] = []
    real: Fetch = sources.fetch_entity

    def counted(source: sources.MetadataSource, entity_id: str, now: datetime) -> Aggregate:
        seen.append(entity_id)
        return real(source, entity_id, now)

    monkeypatch.setattr(sources, "fetch_entity", counted)
    return seen


def test_a_service_that_does_not_answer_is_asked_once(
        mdq: World, registry: Registry, registry_url: str,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    registry.import_federation(load_federation(mdq.federation_path), key_version=1)
    school = school_metadata(registry, "noorderlicht")
    seen = asked(monkeypatch)
    with slow_socket("hang") as server:  # takes the connection, never answers the handshake
        sql(registry_url, f"UPDATE metadata_sources SET url = "
                          f"'https://127.0.0.1:{server.port}/mdq'")
        before = snapshot(registry)
        with default_timeout(0.5):
            [result] = refresh(registry)
    assert len(seen) == 1
    assert result.outcome == "refused" and "did not answer within 0.5 s" in result.message
    assert result.message.endswith("; 1 more not asked"), result.message
    assert snapshot(registry) == before and school_metadata(registry, "noorderlicht") == school


def test_a_service_that_answers_one_entity_with_an_error_is_asked_for_every_one(
        mdq: World, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    registry.import_federation(load_federation(mdq.federation_path), key_version=1)
    del mdq.site.bodies[mdq_path(SCHOOL_IDP)]  # 404 for the school; the supplier still there
    seen = asked(monkeypatch)
    [result] = refresh(registry)
    assert sorted(seen) == sorted([SCHOOL_IDP, SUPPLIER_SP])
    assert result.outcome == "fetched"
    assert 'school "noorderlicht" kept its metadata' in result.message and "404" in result.message
    assert "not asked" not in result.message
