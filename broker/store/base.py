"""The short-lived state store: one small interface with role-named operations.

Every record has a time to live in whole seconds and is never returned after it. Keys and kinds
are arbitrary strings; values are bytes (a few KB at most). Two implementations pass the same
contract suite (tests/store/test_contract.py): ``SqliteStore`` (embedded default) and
``RedisStore`` (every multi-instance deployment). Open one with ``broker.store.open_store(url)``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple, Protocol, runtime_checkable


class StoreUnavailable(Exception):
    """The backend cannot be reached or cannot serve the request right now (answer with a 503).

    `reason` says why in a few words that name no host, path or secret (/healthz shows it).
    """

    def __init__(self, message: str, reason: str = "unreachable") -> None:
        super().__init__(message)
        self.reason = reason


@runtime_checkable
class StateStore(Protocol):
    """Short-lived state shared by every broker process. All methods are thread-safe."""

    # Pending logins (the state of a login between the supplier's request and the school's answer).
    def save_pending(self, login_id: str, data: bytes, ttl: int) -> None:
        """Store (or overwrite) a pending login for ``ttl`` seconds."""
        ...

    def load_pending(self, login_id: str) -> bytes | None:
        """Return the pending login, or None when unknown or expired."""
        ...

    def take_pending(self, login_id: str) -> bytes | None:
        """Atomically read and delete: of concurrent takers exactly one gets the data."""
        ...

    # One-time codes (OIDC authorization codes, artifacts...).
    def put_code(self, code: str, data: bytes, ttl: int) -> None:
        """Store (or overwrite) a one-time code for ``ttl`` seconds."""
        ...

    def take_code(self, code: str) -> bytes | None:
        """Atomically read and delete: of concurrent takers exactly one gets the data."""
        ...

    # Replay caches (assertion ids, JWT ids, nonces...).
    def remember_once(self, kind: str, key: str, ttl: int) -> bool:
        """True the first time ``(kind, key)`` is seen; False while it is remembered."""
        ...

    # SSO sessions.
    def get_session(self, session_id: str) -> bytes | None:
        """Return the session, or None when unknown or expired."""
        ...

    def put_session(self, session_id: str, data: bytes, ttl: int) -> None:
        """Store (or overwrite, restarting its TTL) a session for ``ttl`` seconds."""
        ...

    def delete_session(self, session_id: str) -> None:
        """Forget the session; no error when it does not exist."""
        ...

    # Generic keyed short-lived records (refresh tokens...), namespaced by kind.
    def put_token(self, kind: str, key: str, data: bytes, ttl: int) -> None:
        """Store (or overwrite) a record for ``ttl`` seconds."""
        ...

    def get_token(self, kind: str, key: str) -> bytes | None:
        """Return the record, or None when unknown or expired."""
        ...

    def take_token(self, kind: str, key: str) -> bytes | None:
        """Atomically read and delete: of concurrent takers exactly one gets the data."""
        ...

    def delete_token(self, kind: str, key: str) -> None:
        """Forget the record; no error when it does not exist."""
        ...

    # Rate limits.
    def count_hit(self, bucket: str, window: int) -> int:
        """Count one hit; the counter expires ``window`` seconds after its first hit.

        Returns the new count (1 for the first hit of a window).
        """
        ...

    # Several reads or writes in one round trip.
    def get_tokens(self, keys: Sequence[tuple[str, str]]) -> list[bytes | None]:
        """Every ``(kind, key)`` record as get_token returns it, in one round trip, in order."""
        ...

    def put_all(self, puts: Sequence[Put]) -> None:
        """Store every record as its put_* would, in one round trip (not atomically: on an
        error some may be stored; the caller then hands none of them out)."""
        ...

    def put_all_counting(self, puts: Sequence[Put], bucket: str, window: int) -> int:
        """put_all and count_hit in one round trip: store every record, count one hit in
        ``bucket`` and return its count, as their calls in a row would (not atomically, and
        not queued in an open batch). A caller that refuses on the count takes its records
        back."""
        ...

    def batched(self) -> contextlib.AbstractContextManager[None]:
        """Inside, this thread's put_*, save_pending and put_session calls are queued and
        stored together at the end (put_all); on an exception none is stored. Reads inside do
        not see the queued writes: wrap only writes that nothing reads back before the end."""
        ...

    # Operations.
    def check(self) -> dict[str, object]:
        """Health: ``{"ok": True, "backend": "sqlite"|"redis", ...}``; raise StoreUnavailable.

        It exercises what logins need (the embedded store writes and deletes a record). The
        report names no path, host or secret: it may be shown by a public health endpoint.
        """
        ...

    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""
        ...


def check_ttl(ttl: int, name: str = "ttl") -> int:
    """Validate a TTL (or window): a positive int number of seconds."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise ValueError(f"{name} must be a positive int number of seconds, not {ttl!r}")
    return ttl


def check_data(data: object) -> bytes:
    """Validate a value: bytes (bytearray and memoryview are copied to bytes)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"store values must be bytes, not {type(data).__name__}")


def check_key(key: object, name: str = "key") -> str:
    """Validate a key or kind: a str (may be empty, may contain ':' or any unicode)."""
    if not isinstance(key, str):
        raise TypeError(f"{name} must be a str, not {type(key).__name__}")
    return key


class Put(NamedTuple):
    """One record to store: `role` is "pending", "code", "session" or "token" (with its
    `kind`; the other roles have the kind "")."""

    role: str
    kind: str
    key: str
    data: bytes
    ttl: int

    def checked(self) -> Put:
        if self.role not in ROLES:
            raise ValueError(f"no record role {self.role!r}: use one of {', '.join(ROLES)}")
        return Put(self.role, check_key(self.kind, "kind"), check_key(self.key),
                   check_data(self.data), check_ttl(self.ttl))


ROLES = ("pending", "code", "session", "token")


class _Batch(threading.local):
    queue: list[Put] | None = None
    """This thread's open batch (Batching.batched); None: writes are stored at once."""


class Batching:
    """put_all, put_all_counting, batched() and the queue between them, for every store: a
    store calls `_write(put)` in each put_* and implements `_store_all` and
    `_store_all_counting` (one round trip each)."""

    _batches: _Batch | None = None
    _batches_made = threading.Lock()

    def _store_all(self, puts: Sequence[Put]) -> None:
        raise NotImplementedError

    def _store_all_counting(self, puts: Sequence[Put], bucket: str, window: int) -> int:
        raise NotImplementedError

    def put_all(self, puts: Sequence[Put]) -> None:
        checked = [put.checked() for put in puts]
        if checked:
            self._store_all(checked)

    def put_all_counting(self, puts: Sequence[Put], bucket: str, window: int) -> int:
        checked = [put.checked() for put in puts]
        return self._store_all_counting(checked, check_key(bucket, "bucket"),
                                        check_ttl(window, "window"))

    @contextmanager
    def batched(self) -> Iterator[None]:
        local = self._local()
        if local.queue is not None:  # nested: the outermost batch stores everything
            yield
            return
        queue: list[Put] = []
        local.queue = queue
        try:
            yield
        finally:
            local.queue = None
        if queue:
            self._store_all(queue)

    def _write(self, put: Put) -> None:
        checked = put.checked()
        queue = self._local().queue
        if queue is None:
            self._store_all((checked,))
        else:
            queue.append(checked)

    def _local(self) -> _Batch:
        if self._batches is None:
            with self._batches_made:
                if self._batches is None:
                    self._batches = _Batch()
        return self._batches
