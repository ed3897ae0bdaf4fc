"""The distributed state store: Redis, shared by every broker instance.

Keys are ``<prefix><role>:...`` (prefix ``loper:`` by default): ``loper:pending:<id>``,
``loper:code:<code>``, ``loper:session:<id>``, ``loper:once:<kind>:<key>``,
``loper:token:<kind>:<key>``, ``loper:hits:<bucket>``; in a kind, ``%`` and ``:`` are written
``%25`` and ``%3A`` so that a kind containing ``:`` cannot collide with another kind's key.
Every operation is one atomic command on one key: SET EX, GETDEL, SET NX EX, and a small Lua
script for INCR + EXPIRE on the first hit, which names its one key in KEYS. ``put_all`` (and a
``batched()`` block, which ends in it) sends several SET EX in one pipeline without MULTI,
``put_all_counting`` that script and its SET EX, ``get_tokens`` several GET: one round trip
to one server; on a Cluster redis-py sends each node its commands. No command or
script touches two keys, so on a Redis Cluster every command lands on the node of its key and
none can fail with CROSSSLOT; a future operation on several keys must hash-tag them
(``loper:{<id>}:...``) so that they share a slot (tests/store/test_contract.py runs the
contract suite on a real cluster). Needs Redis >= 6.2 (GETDEL).

The URL names one server, a Sentinel-watched master or a Cluster (redis_urls.py). The client
is created without connecting; sockets time out after 2 s, and a failed command is retried
only when the connection itself failed: once on one server, for about 2.5 s with Sentinel or
Cluster, which rides out a failover. So an unreachable Redis raises StoreUnavailable within a
few seconds instead of hanging.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis
from redis.exceptions import ClusterCrossSlotError, CrossSlotTransactionError, RedisClusterException

from broker.errors import ConfigError
from broker.store import redis_door, redis_urls
from broker.store.base import Batching, Put, StoreUnavailable, check_key, check_ttl

_HIT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return n
"""


def _kind(kind: str) -> str:
    return check_key(kind, "kind").replace("%", "%25").replace(":", "%3A")


def _reason(exc: Exception) -> str:
    if isinstance(exc, redis.exceptions.TimeoutError):
        return "timed out"
    if isinstance(exc, redis.exceptions.ConnectionError | RedisClusterException):
        return "unreachable"
    if isinstance(exc, redis.exceptions.ClusterDownError):
        return "cluster down"
    return "refused the command"  # read-only replica, out of memory, failed snapshot...


def _count(value: object) -> int:
    if isinstance(value, int):
        return value
    raise TypeError(f"unexpected Redis reply {type(value).__name__}")


def _bytes(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    raise TypeError(f"unexpected Redis reply {type(value).__name__}")  # decode_responses is off


class RedisStore(Batching):
    """The state store in Redis; safe for many threads, processes and machines."""

    backend = "redis"

    def __init__(self, url: str, *, prefix: str = "loper:", connect_timeout: float = 2.0,
                 timeout: float = 2.0) -> None:
        self.prefix = prefix
        self._cluster: redis_urls.LazyCluster | None = None
        self._single: redis.Redis | None = None
        self._follow: redis_urls.FollowMaster | None = None
        scheme = url.partition("://")[0].lower()
        if scheme not in (redis_urls.SENTINEL, redis_urls.CLUSTER):
            self._single = self._one_server(url, connect_timeout, timeout)
            return
        target = redis_urls.parse(url)
        self.target = target.shown
        if scheme == redis_urls.CLUSTER:
            self._cluster = redis_urls.LazyCluster(target, connect_timeout, timeout)
        else:
            self._single = redis_urls.sentinel_client(target, connect_timeout, timeout)
            self._follow = redis_urls.FollowMaster(self._single)

    def _one_server(self, url: str, connect_timeout: float, timeout: float) -> redis.Redis:
        try:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=connect_timeout, socket_timeout=timeout,
                retry=redis_urls.single_retry(), health_check_interval=30,
                decode_responses=False)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"invalid Redis state store URL: {exc}") from exc
        kwargs = redis_door.pool_options(client)
        if kwargs.get("decode_responses"):
            raise ConfigError("the Redis state store URL must not set decode_responses")
        try:  # a connection object is built without connecting: check the URL's options now
            redis_door.check_pool_options(client)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid option in the Redis state store URL: {exc}") from exc
        if kwargs.get("path"):
            self.target = f"unix:{kwargs['path']}?db={kwargs.get('db') or 0}"
        else:
            host, port = kwargs.get("host") or "localhost", kwargs.get("port") or 6379
            self.target = f"{host}:{port}/{kwargs.get('db') or 0}"
        return client

    @property
    def _client(self) -> redis_urls.Client:
        """The client; a Cluster's is built here, on first use (inside _guard)."""
        if self._cluster is not None:
            return self._cluster.get()
        if self._follow is not None:
            self._follow()
        assert self._single is not None
        return self._single

    # -- the interface -------------------------------------------------------------------------

    def save_pending(self, login_id: str, data: bytes, ttl: int) -> None:
        self._write(Put("pending", "", check_key(login_id, "login_id"), data, ttl))

    def load_pending(self, login_id: str) -> bytes | None:
        return self._get(self._key("pending", check_key(login_id, "login_id")))

    def take_pending(self, login_id: str) -> bytes | None:
        return self._take(self._key("pending", check_key(login_id, "login_id")))

    def put_code(self, code: str, data: bytes, ttl: int) -> None:
        self._write(Put("code", "", check_key(code, "code"), data, ttl))

    def take_code(self, code: str) -> bytes | None:
        return self._take(self._key("code", check_key(code, "code")))

    def remember_once(self, kind: str, key: str, ttl: int) -> bool:
        name = self._key("once", _kind(kind), check_key(key))
        check_ttl(ttl)
        with self._guard():
            return bool(self._client.set(name, b"1", ex=ttl, nx=True))

    def get_session(self, session_id: str) -> bytes | None:
        return self._get(self._key("session", check_key(session_id, "session_id")))

    def put_session(self, session_id: str, data: bytes, ttl: int) -> None:
        self._write(Put("session", "", check_key(session_id, "session_id"), data, ttl))

    def delete_session(self, session_id: str) -> None:
        self._delete(self._key("session", check_key(session_id, "session_id")))

    def put_token(self, kind: str, key: str, data: bytes, ttl: int) -> None:
        self._write(Put("token", check_key(kind, "kind"), check_key(key), data, ttl))

    def get_token(self, kind: str, key: str) -> bytes | None:
        return self._get(self._key("token", _kind(kind), check_key(key)))

    def take_token(self, kind: str, key: str) -> bytes | None:
        return self._take(self._key("token", _kind(kind), check_key(key)))

    def delete_token(self, kind: str, key: str) -> None:
        self._delete(self._key("token", _kind(kind), check_key(key)))

    def get_tokens(self, keys: Sequence[tuple[str, str]]) -> list[bytes | None]:
        names = [self._key("token", _kind(kind), check_key(key)) for kind, key in keys]
        if not names:
            return []
        with self._guard():
            pipe = self._client.pipeline(transaction=False)  # each GET on one key: no CROSSSLOT
            for name in names:
                pipe.get(name)
            return [_bytes(reply) for reply in redis_door.replies(pipe)]

    def count_hit(self, bucket: str, window: int) -> int:
        name = self._key("hits", check_key(bucket, "bucket"))
        check_ttl(window, "window")
        with self._guard():
            return redis_door.eval_int(self._client, _HIT_SCRIPT, (name,), window)

    def check(self) -> dict[str, object]:
        started = time.perf_counter()
        with self._guard():
            client = self._client
            client.ping()
            version = redis_door.server_version(client)
        return {
            "ok": True,
            "backend": self.backend,
            "version": version,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
        if self._single is not None:
            self._single.close()

    def __repr__(self) -> str:
        return f"RedisStore({self.target!r})"

    # -- the machinery -------------------------------------------------------------------------

    def _key(self, role: str, *parts: str) -> str:
        return self.prefix + role + ":" + ":".join(parts)

    def _name(self, put: Put) -> str:
        if put.role == "token":
            return self._key("token", _kind(put.kind), put.key)
        return self._key(put.role, put.key)

    def _store_all(self, puts: Sequence[Put]) -> None:
        with self._guard():
            client = self._client
            if len(puts) == 1:
                client.set(self._name(puts[0]), puts[0].data, ex=puts[0].ttl)
                return
            pipe = client.pipeline(transaction=False)  # each SET on one key: no CROSSSLOT
            for put in puts:
                pipe.set(self._name(put), put.data, ex=put.ttl)
            pipe.execute()

    def _store_all_counting(self, puts: Sequence[Put], bucket: str, window: int) -> int:
        with self._guard():
            pipe = self._client.pipeline(transaction=False)  # each on one key: no CROSSSLOT
            redis_door.queue_eval(pipe, _HIT_SCRIPT, (self._key("hits", bucket),), window)
            for put in puts:
                pipe.set(self._name(put), put.data, ex=put.ttl)
            return _count(redis_door.replies(pipe)[0])

    def _get(self, name: str) -> bytes | None:
        with self._guard():
            return _bytes(self._client.get(name))

    def _take(self, name: str) -> bytes | None:
        with self._guard():
            return _bytes(self._client.getdel(name))

    def _delete(self, name: str) -> None:
        with self._guard():
            self._client.delete(name)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (ClusterCrossSlotError, CrossSlotTransactionError):
            raise  # a bug: an operation on keys of two slots (see the module's docstring)
        except (redis.exceptions.RedisError, RedisClusterException) as exc:
            # down, timed out, read-only, OOM, MISCONF, a cluster without a majority
            raise StoreUnavailable(f"Redis state store at {self.target} failed: {exc}",
                                   _reason(exc)) from exc
