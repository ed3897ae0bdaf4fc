"""The state store in one process's memory: for tests, and for nothing that runs more than one
process (it is not shared between processes and forgets everything on restart).

Every operation holds one lock, so each is atomic across threads; expired records are ignored
on read and dropped when touched. It passes the same contract suite as SQLite and Redis
(tests/store/test_contract.py). It has no URL, so no deployment can choose it; stores made
with the same name share their records until the process ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from broker.store.base import Batching, Put, StoreUnavailable, check_key, check_ttl

_Key = tuple[str, str, str]


class _Records:
    """The records of one store, shared by every MemoryStore opened under its name."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[_Key, tuple[bytes, float]] = {}
        self.hits: dict[str, tuple[int, float]] = {}


_NAMED: dict[str, _Records] = {}
_NAMED_LOCK = threading.Lock()


def _named(name: str) -> _Records:
    with _NAMED_LOCK:
        records = _NAMED.get(name)
        if records is None:
            records = _NAMED[name] = _Records()
        return records


class MemoryStore(Batching):
    """The StateStore protocol on a dict; thread-safe, single-process."""

    backend = "memory"

    def __init__(self, name: str | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """clock: seconds on a monotonic scale; a test may pass its own to expire records."""
        self._records: _Records | None = _named(name) if name is not None else _Records()
        self._clock = clock

    # -- pending logins, codes, sessions, tokens ---------------------------------------------
    def save_pending(self, login_id: str, data: bytes, ttl: int) -> None:
        self._write(Put("pending", "", check_key(login_id, "login_id"), data, ttl))

    def load_pending(self, login_id: str) -> bytes | None:
        return self._get(("pending", "", check_key(login_id, "login_id")))

    def take_pending(self, login_id: str) -> bytes | None:
        return self._get(("pending", "", check_key(login_id, "login_id")), take=True)

    def put_code(self, code: str, data: bytes, ttl: int) -> None:
        self._write(Put("code", "", check_key(code, "code"), data, ttl))

    def take_code(self, code: str) -> bytes | None:
        return self._get(("code", "", check_key(code, "code")), take=True)

    def get_session(self, session_id: str) -> bytes | None:
        return self._get(("session", "", check_key(session_id, "session_id")))

    def put_session(self, session_id: str, data: bytes, ttl: int) -> None:
        self._write(Put("session", "", check_key(session_id, "session_id"), data, ttl))

    def delete_session(self, session_id: str) -> None:
        self._get(("session", "", check_key(session_id, "session_id")), take=True)

    def put_token(self, kind: str, key: str, data: bytes, ttl: int) -> None:
        self._write(Put("token", check_key(kind, "kind"), check_key(key), data, ttl))

    def get_token(self, kind: str, key: str) -> bytes | None:
        return self._get(("token", check_key(kind, "kind"), check_key(key)))

    def take_token(self, kind: str, key: str) -> bytes | None:
        return self._get(("token", check_key(kind, "kind"), check_key(key)), take=True)

    def delete_token(self, kind: str, key: str) -> None:
        self._get(("token", check_key(kind, "kind"), check_key(key)), take=True)

    def get_tokens(self, keys: Sequence[tuple[str, str]]) -> list[bytes | None]:
        return [self.get_token(kind, key) for kind, key in keys]

    # -- replay caches and rate limits -------------------------------------------------------
    def remember_once(self, kind: str, key: str, ttl: int) -> bool:
        full = ("once", check_key(kind, "kind"), check_key(key))
        check_ttl(ttl)
        records = self._open()
        with records.lock:
            now = self._clock()
            kept = records.values.get(full)
            if kept is not None and kept[1] > now:
                return False
            records.values[full] = (b"", now + ttl)
            return True

    def count_hit(self, bucket: str, window: int) -> int:
        check_key(bucket, "bucket")
        check_ttl(window, "window")
        records = self._open()
        with records.lock:
            return self._hit(records, bucket, window)

    # -- operations --------------------------------------------------------------------------
    def check(self) -> dict[str, object]:
        self._open()
        return {"ok": True, "backend": self.backend}

    def close(self) -> None:
        self._records = None

    def _open(self) -> _Records:
        if self._records is None:
            raise StoreUnavailable("the in-memory state store is closed")
        return self._records

    def _store_all(self, puts: Sequence[Put]) -> None:
        records = self._open()
        with records.lock:
            self._put(records, puts)

    def _store_all_counting(self, puts: Sequence[Put], bucket: str, window: int) -> int:
        records = self._open()
        with records.lock:
            self._put(records, puts)
            return self._hit(records, bucket, window)

    def _put(self, records: _Records, puts: Sequence[Put]) -> None:
        """Store the records (the caller holds the lock)."""
        now = self._clock()
        for put in puts:
            records.values[(put.role, put.kind, put.key)] = (put.data, now + put.ttl)

    def _hit(self, records: _Records, bucket: str, window: int) -> int:
        """Count one hit in the bucket (the caller holds the lock)."""
        now = self._clock()
        count, expires = records.hits.get(bucket, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + window
        records.hits[bucket] = (count + 1, expires)
        return count + 1

    def _get(self, key: _Key, *, take: bool = False) -> bytes | None:
        records = self._open()
        with records.lock:
            kept = records.values.pop(key, None) if take else records.values.get(key)
            if kept is None:
                return None
            if kept[1] <= self._clock():
                records.values.pop(key, None)
                return None
            return kept[0]
