"""Where the Redis state store reads what redis-py types Any, or leaves untyped: the options a
URL gave a connection pool, a Lua script's answer, a pipeline's replies, INFO's reply, and four
calls redis-py does not annotate (a Sentinel's master client, asking the Sentinels for the
master, a cluster's start-up node, a script queued in a pipeline). Each function hands back a
typed value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis
from redis.client import Pipeline as OnePipeline
from redis.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.sentinel import Sentinel, SentinelConnectionPool

Client = redis.Redis | RedisCluster
Pipeline = OnePipeline | ClusterPipeline


def pool_options(client: redis.Redis) -> Mapping[str, object]:
    """The options the client's connection pool opens each connection with (from the URL)."""
    options: dict[str, object] = client.connection_pool.connection_kwargs
    return options


def check_pool_options(client: redis.Redis) -> None:
    """Build one connection with the pool's options, without connecting: TypeError or
    ValueError for an option redis-py does not take."""
    pool = client.connection_pool
    pool.connection_class(**pool.connection_kwargs).disconnect()


def eval_int(client: Client, script: str, keys: Sequence[str], *args: str | int) -> int:
    """The whole number a Lua script answers."""
    return int(client.eval(script, len(keys), *keys, *args))


def queue_eval(pipe: Pipeline, script: str, keys: Sequence[str], *args: str | int) -> None:
    """Queue a Lua script in a pipeline (a Cluster's pipeline has no eval of its own; its
    EVAL goes to the node of its keys)."""
    pipe.execute_command("EVAL", script, len(keys), *keys, *args)  # type: ignore[no-untyped-call]


def replies(pipe: Pipeline) -> list[object]:
    """Send a pipeline's commands (one round trip to each server they name) and hand back
    their replies, in the order of the commands."""
    answers: list[object] = pipe.execute()
    return answers


def server_version(client: Client) -> str:
    """The server's redis_version from INFO ("?" if it has none); a Cluster's, of a node."""
    info: dict[str, Any] = client.info("server")
    if "redis_version" not in info and info:  # a Cluster answers per node
        info = next(iter(info.values()))
    return str(info.get("redis_version", "?"))


def sentinel_master(sentinel: Sentinel, service: str, **options: Any) -> redis.Redis:
    """The client of the master the Sentinels name for `service`; `options` as
    redis.Redis takes them."""
    client: redis.Redis = sentinel.master_for(service, **options)
    return client


def ask_master(pool: SentinelConnectionPool) -> None:
    """Ask the Sentinels for the master's address (a new one closes the pool's idle
    connections to the old master)."""
    pool.get_master_address()  # type: ignore[no-untyped-call]


def cluster_node(host: str, port: int) -> ClusterNode:
    """A cluster's start-up node."""
    node: ClusterNode = ClusterNode(host, port)  # type: ignore[no-untyped-call]
    return node
