"""A per-process cache of ECK iD arrivals (eck_ids.EckIds.arrive): a pupil who logged in
before in this process logs in with their ECK iD again without a query.

An answer is served from here only while it cannot have changed, or, where nothing tells when
it changes, for a few minutes when being stale costs nothing but a log line:
- At a school that links by ECK iD, an ECK iD seen there before: KNOWN, with the anchor after
  aliases (or CLAIMED_TWICE). It follows from this school's eck_ids row, written once and never
  changed (only deleting the school deletes it, which raises the registry version), and from
  aliases, whose every change raises the registry version (cache.py). So it stands while the
  registry version does: the entries belong to one generation of the record cache and are all
  dropped when it moves, which every process sees as it sees changed records (at the next
  check of the version; `Registry.refresh` at once).
- A first arrival at such a school writes its row and is never served from here; what the next
  arrival will answer is kept instead (Arrival.again): KNOWN with the anchor it got. A link it
  made added an alias, which empties the cache anyway.
- CLAIMED_TWICE is never kept: every refusal asks the database and writes the school's audit
  trail, exactly as without this cache.
- At a school that does not link by ECK iD nothing is written, and the answer (KNOWN, or
  NOT_OPTED_IN naming the school that first saw the ECK iD) changes when another school first
  sees the ECK iD: a row added elsewhere, which raises no version. The anchor it gives is right
  either way (aliases move the version); what may be stale is only the log line "alias not
  linked: ..." that linking.py writes at every login of such a pupil. So these answers are
  served for UNLINKED_TTL seconds at most: that line may be missing (or name another school)
  for five minutes after the ECK iD first arrives at a linking school, and is back at the
  pupil's next login after that.

Bounded: at most `size` entries, the least recently used dropped first. A key holds the keyed
hash of the ECK iD (never the ECK iD itself), the school, the anchor and whether the school
links. Nothing here is logged.

Thread-safe (a gthread worker serves many threads): one lock around the entries; the database
is read outside it, and an answer read before the registry changed is never served after it
(it is kept with the generation it was read in, and a newer one empties the cache first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:  # eck_ids uses this cache
    from broker.registry.eck_ids import Arrival

SIZE = 10_000
"""Entries per process (about 500 bytes each: 5 MB), the least recently used dropped first."""
UNLINKED_TTL = 300.0
"""Seconds an answer at a school that does not link by ECK iD is served from here."""


class Generations(Protocol):
    """The record cache (cache.RecordCache): its generation moves with the registry version."""

    def generation(self) -> int: ...


class Key(NamedTuple):
    eck_hash: str
    school_id: str
    anchor: str
    """Before aliases."""
    links: bool
    """Whether the school links by ECK iD."""


class _Entry(NamedTuple):
    arrival: Arrival
    until: float | None
    """When it stops being served (monotonic seconds); None: while the generation lasts."""


class ArrivalCache:
    def __init__(self, records: Generations, size: int = SIZE,
                 clock: Callable[[], float] = monotonic) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._records = records
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._generation = -1
        """The record cache's generation the entries belong to (the newest seen)."""

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, load: Callable[[], Arrival]) -> Arrival:
        """The arrival of `key`, served from here while it stands, else `load()`'s."""
        generation = self._records.generation()  # a version check, if one is due
        now = self._clock()
        with self._lock:
            if generation > self._generation:  # the registry changed: nothing here stands
                self._entries.clear()
                self._generation = generation
            entry = self._entries.get(key) if generation == self._generation else None
            if entry is not None and (entry.until is None or now < entry.until):
                self._entries.move_to_end(key)
                return entry.arrival
        arrival = load()
        kept = arrival.again(key.links)
        if kept is None:
            return arrival
        with self._lock:
            if generation == self._generation:
                self._entries[key] = _Entry(kept, None if key.links else now + UNLINKED_TTL)
                self._entries.move_to_end(key)
                if len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return arrival
