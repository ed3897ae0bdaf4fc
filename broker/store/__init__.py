"""The short-lived state store (pending logins, one-time codes, SSO sessions, replay caches,
rate limits): ``open_store(url)`` gives a ``StateStore``; see broker/store/base.py.

- ``sqlite:///abs/path/state.sqlite``: the embedded default, one file per machine.
- ``redis://host:port/db``, ``rediss://...`` (TLS), ``unix:///path/redis.sock?db=0``: Redis,
  shared by every broker instance.
- ``redis+sentinel://host:port[,host:port...]/service[/db]``: the master Redis Sentinel names
  for the service, followed through failovers; ``redis+cluster://host:port[,host:port...]``:
  a Redis Cluster (broker/store/redis_urls.py).

``MemoryStore`` (one process's memory, for tests) has no URL: no deployment can choose it.
"""

from __future__ import annotations

from broker.errors import ConfigError
from broker.settings import redacted_url
from broker.store.base import Put, StateStore, StoreUnavailable
from broker.store.memory import MemoryStore
from broker.store.sqlite_store import SqliteStore, sqlite_path_from_url

__all__ = ["ACCEPTED_URLS", "MemoryStore", "Put", "StateStore", "StoreUnavailable", "SqliteStore",
           "open_store"]

ACCEPTED_URLS = (
    "sqlite:///absolute/path/state.sqlite, redis://host:port/db, rediss://host:port/db,"
    " unix:///path/to/redis.sock?db=0, redis+sentinel://host:port[,host:port]/service[/db]"
    " or redis+cluster://host:port[,host:port]"
)


def open_store(url: str) -> StateStore:
    """Open the state store a URL names; a ConfigError says what is wrong with the URL."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(
            f"unsupported state store URL {redacted_url(str(url))!r}: use {ACCEPTED_URLS}"
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        return SqliteStore(sqlite_path_from_url(url))
    if scheme in ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster"):
        from broker.store.redis_store import RedisStore  # imported only when used

        return RedisStore(url)
    raise ConfigError(
        f"unsupported state store URL {redacted_url(url)!r} (scheme {scheme!r}):"
        f" use {ACCEPTED_URLS}"
    )
