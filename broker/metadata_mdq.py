"""Asking an MDQ service for each entity of a source, several at once.

A national federation may have thousands of schools and suppliers behind one MDQ service; asked
one by one, a refresh would take longer than the lease that keeps other workers off the source
(metadata_refresh.LEASE). So the first entity is asked alone (a service that gives no answer
at all then costs one deadline, and nothing more is asked), and the rest AT_ONCE at a time. As
soon as one of them reaches no server, no further entity is asked: those are "not asked" this
time and keep their metadata. Each question runs with the caller's context, so the deadline
the caller set (outbound.fetch.default_timeout) holds for it too.
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from broker.registry import sources
from broker.registry.aggregate import Aggregate
from broker.registry.metadata import MetadataError

AT_ONCE = 8
"""Questions in flight to one MDQ service at a time."""

Answer = Aggregate | MetadataError


def _ask(source: sources.MetadataSource, entity_id: str, now: datetime) -> Answer:
    try:
        return sources.fetch_entity(source, entity_id, now)
    except MetadataError as exc:
        return exc


def _unreached(answer: Answer) -> bool:
    return isinstance(answer, MetadataError) and not answer.reached


def ask_each(source: sources.MetadataSource, entity_ids: Sequence[str],
             now: datetime) -> dict[str, Answer]:
    """entity id -> its answer (or why there is none), in the order of `entity_ids`; an entity
    not asked (the service stopped answering) is left out."""
    if not entity_ids:
        return {}
    first = _ask(source, entity_ids[0], now)
    found: dict[str, Answer] = {entity_ids[0]: first}
    if _unreached(first) or len(entity_ids) == 1:
        return found
    waiting = iter(entity_ids[1:])
    with ThreadPoolExecutor(AT_ONCE, thread_name_prefix="mdq") as pool:
        running: dict[Future[Answer], str] = {}

        def more() -> None:
            for entity_id in waiting:
                context = contextvars.copy_context()
                running[pool.submit(context.run, _ask, source, entity_id, now)] = entity_id
                if len(running) >= AT_ONCE:
                    return

        more()
        stop = False
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                answer = future.result()
                found[running.pop(future)] = answer
                stop = stop or _unreached(answer)
            if not stop:
                more()
    return {entity_id: found[entity_id] for entity_id in entity_ids if entity_id in found}
