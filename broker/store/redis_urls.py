"""Which Redis a state store URL names, and the redis-py client for it.

- ``redis://[[user]:password@]host:port/db``, ``rediss://...`` (TLS), ``unix:///path?db=0``:
  one Redis server (redis-py's own URL syntax and options).
- ``redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]``: the master
  that the Sentinels (default port 26379) name for ``service``; user and password are the
  master's (and its replicas'), the Sentinels are asked without one. On a failover the client
  asks the Sentinels again and follows the new master.
- ``redis+cluster://[[user]:password@]host:port[,host:port...]``: a Redis Cluster; the nodes
  listed (default port 6379) are where the client learns the cluster's layout, so list more
  than one. A cluster has database 0 only.

A Sentinel client also asks the Sentinels for the master at most twice a second while it is
used (FollowMaster): after a planned failover (SENTINEL FAILOVER) the old master takes writes
until the Sentinels turn it into a replica, seconds later, which then throws those writes away;
so as soon as the Sentinels name a new master, no command is sent to the old one any more:
its idle connections are closed at once, a connection in use when the news comes is closed
when its command is done (redis-py drops a released connection to an address that is no
longer the master's). A connection in use is never closed from another thread: redis-py's
connections are not thread-safe, and a socket and buffer taken away mid-reply raise
AttributeError or ValueError (a bare 500), not a ConnectionError.

The client is created without connecting (a Cluster client is built on first use, since
redis-py's reads the cluster's layout when built), so a broker starts while Redis is away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from broker.errors import ConfigError
from broker.store import redis_door

SENTINEL = "redis+sentinel"
CLUSTER = "redis+cluster"
DEFAULT_PORTS = {SENTINEL: 26379, CLUSTER: 6379}
FAILOVER_RETRIES = 6
"""Retries of a command whose connection failed, with backoff from 0.05 to 0.8 s (about 2.5 s
in all): long enough to ride out a Sentinel failover or a Cluster's master handover, short
enough that a pupil soon sees Loper's page instead of waiting."""

FOLLOW_EVERY = 0.5
"""Seconds between two questions to the Sentinels about the master (FollowMaster)."""

Client = redis_door.Client


@dataclass(frozen=True)
class RedisTarget:
    """A parsed ``redis+sentinel://`` or ``redis+cluster://`` URL."""

    scheme: str
    nodes: tuple[tuple[str, int], ...]
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None

    @property
    def shown(self) -> str:
        """For messages and logs: no user or password."""
        hosts = ",".join(f"{host}:{port}" for host, port in self.nodes)
        path = f"/{self.service}/{self.db}" if self.scheme == SENTINEL else ""
        return f"{self.scheme}://{hosts}{path}"


def _node(text: str, default_port: int) -> tuple[str, int]:
    if text.startswith("["):  # [::1]:26379
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = text.partition(":")
    if not host:
        raise ConfigError(f"a node without a host ({text!r})")
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ConfigError(f"node {text!r}: the port is not a number") from None
    if not 0 < port < 65536:
        raise ConfigError(f"node {text!r}: the port is out of range")
    return host, port


def parse(url: str) -> RedisTarget:
    """Read a redis+sentinel:// or redis+cluster:// URL; a ConfigError says what is wrong."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(f"not a Sentinel or Cluster URL (scheme {scheme!r})")
    if "?" in rest or "#" in rest:
        raise ConfigError(f"a {scheme} URL takes no options after '?' or '#'")
    netloc, _, path = rest.partition("/")
    credentials, _, hosts = netloc.rpartition("@")
    username = password = None
    if credentials:
        user, _, secret = credentials.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    nodes = tuple(_node(part, DEFAULT_PORTS[scheme]) for part in hosts.split(","))
    parts = [part for part in path.split("/") if part]
    if scheme == CLUSTER:
        if parts:
            raise ConfigError("a redis+cluster URL has no path: a cluster has database 0 only")
        return RedisTarget(scheme, nodes, username=username, password=password)
    if not parts or len(parts) > 2:
        raise ConfigError("a redis+sentinel URL ends in /SERVICE or /SERVICE/DB "
                          "(the name the Sentinels monitor the master by)")
    db = 0
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise ConfigError(f"the database {parts[1]!r} is not a number")
        db = int(parts[1])
    return RedisTarget(scheme, nodes, unquote(parts[0]), db, username, password)


def failover_retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.8, base=0.05), FAILOVER_RETRIES,
                 (redis.exceptions.ConnectionError,))


def single_retry() -> Retry:
    """One server: a command whose connection failed is tried once more, on a new one."""
    return Retry(NoBackoff(), 1, (redis.exceptions.ConnectionError,))


def sentinel_client(target: RedisTarget, connect_timeout: float, timeout: float) -> redis.Redis:
    sentinel = Sentinel(list(target.nodes), sentinel_kwargs={
        "socket_connect_timeout": connect_timeout, "socket_timeout": timeout})
    return redis_door.sentinel_master(
        sentinel, target.service, db=target.db, username=target.username,
        password=target.password, retry=failover_retry(), health_check_interval=30,
        decode_responses=False, socket_connect_timeout=connect_timeout, socket_timeout=timeout)


class FollowMaster:
    """Ask the Sentinels for the master at most every `every` seconds. When it changed, the
    pool forgets the old master: it closes the idle connections to it now, and each one in
    use when its command is done (see the module's docstring)."""

    def __init__(self, client: redis.Redis, every: float = FOLLOW_EVERY) -> None:
        pool = client.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        self._pool = pool
        self._every = every
        self._next = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self._next or not self._lock.acquire(blocking=False):
            return
        try:
            self._next = now + self._every
            try:  # a new address closes the idle connections to the old one
                redis_door.ask_master(self._pool)
            except redis.exceptions.RedisError:
                return  # no Sentinel answers: keep the connections there are
        finally:
            self._lock.release()


class LazyCluster:
    """A RedisCluster built on first use (building it reads the cluster's layout)."""

    def __init__(self, target: RedisTarget, connect_timeout: float, timeout: float) -> None:
        self._build: Callable[[], RedisCluster] = lambda: RedisCluster(
            startup_nodes=[redis_door.cluster_node(host, port) for host, port in target.nodes],
            username=target.username, password=target.password, retry=failover_retry(),
            socket_connect_timeout=connect_timeout, socket_timeout=timeout,
            decode_responses=False)
        self._client: RedisCluster | None = None
        self._lock = threading.Lock()

    def get(self) -> RedisCluster:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
