"""Refreshing [[metadata_sources]]: once (`broker metadata refresh`) or in the background.

The background refresh runs in each serving process: every CHECK_EVERY seconds (with jitter,
so workers do not wake together) a request starts one pass in a thread of its own and goes on
at once; the pass asks the registry which sources are due and claims each one
(source_store.MetadataSources.claim). Only the process that wins a claim fetches; the others
pick the result up from the registry, whose version bump empties their caches. Logins never
wait for a fetch: a pass only writes the registry, in short transactions, and requests read
the school's metadata as usual. A process that serves no requests does not refresh (it has
no login to serve fresh metadata to); `broker metadata refresh` from cron covers an idle
instance, and the operator page shows when each source was last refreshed.

A source trusted through TLS (one entity's own document, registry/entity_source.py) is
refreshed the same way; its document must still be the entity its schools and suppliers name.
A source registered from the admin portal's form without the operator allowing private
addresses is `public_only` (registry/sources.py): a refresh whose host has come to resolve to
a loopback, private, link-local... address is refused before anything is sent, like any
refused document, its log line naming the source and the kind of address
(MetadataError.address_kind). Its name lookup and its fetch share one deadline, the
outbound_timeout: a server or a DNS server that stalls costs a refresh about that long, once.

A document that cannot be fetched or is refused (aggregate.py) changes nothing but the
source's outcome: the last good copy stays in use, after a restart too, and the source is
tried again after source_store.RETRY.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import TYPE_CHECKING

from broker import metadata_mdq, metrics
from broker.messages import Message, msg
from broker.outbound.fetch import default_timeout
from broker.registry import Registry, sources
from broker.registry.aggregate import Aggregate
from broker.registry.metadata import MetadataError
from broker.registry.source_store import MetadataSources, Refreshed, english

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("loper.metadata")
CHECK_EVERY = 60.0
"""Seconds between two looks at the registry for due sources, give or take JITTER."""
JITTER = 0.25
LEASE = timedelta(minutes=2)
"""A claimed source is not claimed again for this long (longer than a fetch may take)."""


class Unanswered(MetadataError):
    """No entity of an MDQ source could be used: `reasons` says why, for each entity asked,
    then how many were not asked (str(): all of them, in English)."""

    def __init__(self, reasons: tuple[Message, ...], address_kind: str) -> None:
        super().__init__(reasons[0], address_kind=address_kind)
        self._reasons = reasons

    @property
    def reasons(self) -> tuple[Message, ...]:
        return self._reasons

    def __str__(self) -> str:
        return english(self._reasons)


def _fetch_mdq(store: MetadataSources, source: sources.MetadataSource,
               now: datetime) -> tuple[Aggregate, dict[str, Message]]:
    """Every entity the source's entries name, each asked on its own (several at once:
    broker/metadata_mdq.py), until the service gives no answer at all (it would keep every
    other entity waiting as long, in vain: those are not asked this time); Unanswered if none
    of them could be used. The second value: entity id -> why it could not."""
    answers: dict[str, Aggregate] = {}
    failures: dict[str, Message] = {}
    error: MetadataError | None = None
    entity_ids = store.entity_ids(source.id)
    for entity_id, answer in metadata_mdq.ask_each(source, entity_ids, now).items():
        if isinstance(answer, MetadataError):
            failures[entity_id], error = answer.message, answer
        else:
            answers[entity_id] = answer
    skipped = [entity_id for entity_id in entity_ids
               if entity_id not in answers and entity_id not in failures]
    if error is not None and not answers:
        more = (msg("admin.refresh_more_not_asked", n=len(skipped)),) if skipped else ()
        raise Unanswered(tuple(failures.values()) + more, error.address_kind) from error
    return sources.combine(answers), failures | dict.fromkeys(
        skipped, msg("admin.refresh_not_asked"))


def refresh_source(store: MetadataSources, source: sources.MetadataSource) -> Refreshed:
    """Fetch, verify and record one source. What it did is said by the caller, once: the
    background pass logs it, `broker metadata refresh` prints it."""
    now = datetime.now(UTC)
    failures: dict[str, Message] = {}
    try:
        if source.mdq:
            fetched, failures = _fetch_mdq(store, source, now)
        else:
            fetched = sources.fetch(source, now, store.named(source.id) if source.tls else ())
    except MetadataError as exc:
        result = store.record_refused(source, exc.reasons, now, exc.address_kind)
    else:
        result = store.record_good(source, fetched, now, failures)
    metrics.METADATA_REFRESHES.labels(source.id, result.outcome).inc()
    return result


def refused(result: Refreshed) -> bool:
    """Whether the source's document was refused (or could not be fetched): nothing changed."""
    return result.outcome == "refused"


def refresh(registry: Registry, *, only_due: bool = False) -> list[Refreshed]:
    """Refresh every source (`only_due`: those due, each claimed first); what each did."""
    store = registry.metadata_sources()
    if not only_due:
        return [refresh_source(store, status.source) for status in store.all()]
    now = datetime.now(UTC)
    return [refresh_source(store, source) for source in store.due(now)
            if store.claim(source.id, now, LEASE)]


class Refresher:
    """The background refresh of one process: `poke()` on every request starts a pass in a
    thread of its own when one is due (at most one at a time); the request goes on at once."""

    def __init__(self, registry: Registry, interval: float = CHECK_EVERY,
                 timeout: float | None = None) -> None:
        self.registry = registry
        self.interval = interval
        self.timeout = timeout
        """Each fetch's deadline (the outbound_timeout setting; None: the outbound default).
        A thread does not inherit the request's, so the pass sets its own."""
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next = self._later(monotonic())
        self.passes = 0
        """Passes started so far."""

    def _later(self, now: float) -> float:
        return now + self.interval * random.uniform(1 - JITTER, 1 + JITTER)

    def poke(self) -> None:
        """Start a pass in the background if one is due and none is running (cheap: one clock
        read when none is due)."""
        now = monotonic()
        if now < self._next:
            return
        with self._lock:
            if now < self._next or (self._thread is not None and self._thread.is_alive()):
                return
            self._next = self._later(now)
            self.passes += 1
            self._thread = threading.Thread(target=self.run_once, name="metadata-refresh",
                                            daemon=True)
            self._thread.start()

    def join(self) -> None:
        """Wait for the pass that is running, if any."""
        thread = self._thread
        if thread is not None:
            thread.join()

    def run_once(self) -> None:
        """One pass over the due sources; never raises (a pass that fails is tried again at
        the next interval)."""
        try:
            if self.timeout is None:
                results = refresh(self.registry, only_due=True)
            else:
                with default_timeout(self.timeout):
                    results = refresh(self.registry, only_due=True)
        except Exception:  # noqa: BLE001  # the process must go on serving with its last good
            log.exception("metadata refresh failed; trying again in about %.0f s", self.interval)
            return
        for result in results:  # a refused address's kind also as a field of its own
            kind = {"address_kind": result.address_kind} if result.address_kind else {}
            log.log(logging.WARNING if refused(result) else logging.INFO, "metadata source %s",
                    result, extra={"source": result.source_id, **kind})


def init_app(app: Flask, registry: Registry, timeout: float | None = None) -> Refresher:
    """Refresh the registry's metadata sources in the background of each serving process,
    each fetch within `timeout` seconds (the outbound_timeout setting)."""
    refresher = Refresher(registry, timeout=timeout)
    app.extensions["loper.metadata_refresh"] = refresher

    @app.before_request
    def refresh_when_due() -> None:
        refresher.poke()

    return refresher
