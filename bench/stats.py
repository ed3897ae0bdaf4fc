"""Percentiles and the Redis state measurements."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import redis


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of the values; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": round(percentile(ms, 50), 2), "p95": round(percentile(ms, 95), 2),
            "p99": round(percentile(ms, 99), 2),
            "mean": round(sum(ms) / len(ms), 2) if ms else 0.0,
            "max": round(max(ms), 2) if ms else 0.0}


# -- Redis -------------------------------------------------------------------------------------

def used_memory(client: redis.Redis, field: str = "used_memory") -> int:
    """INFO memory's used_memory, or another of its fields (used_memory_dataset: without
    Redis's own overhead, such as its key table, which doubles in steps)."""
    info: dict[str, Any] = client.info("memory")
    return int(info[field])


def key_sizes(client: redis.Redis, keys: Iterable[str]) -> dict[str, float]:
    """Mean MEMORY USAGE (key, value and overhead) and mean value length of existing keys."""
    usage: list[int] = []
    lengths: list[int] = []
    for key in keys:
        used = client.memory_usage(key, samples=0)
        if used is None:
            continue
        usage.append(int(used))
        try:
            lengths.append(int(client.strlen(key)))
        except redis.exceptions.ResponseError:  # not a string value
            lengths.append(0)
    if not usage:
        return {"keys": 0, "memory_usage_bytes": 0.0, "value_bytes": 0.0}
    return {"keys": len(usage), "memory_usage_bytes": round(sum(usage) / len(usage), 1),
            "value_bytes": round(sum(lengths) / len(lengths), 1)}


def role_of(key: str) -> str:
    """"loper:pending:<id>" -> "pending"; "loper:once:replay:<k>" -> "once:replay"."""
    parts = key.split(":")
    if len(parts) > 3 and parts[1] in ("once", "token"):
        return f"{parts[1]}:{parts[2]}"
    return parts[1] if len(parts) > 1 else key


def census(client: redis.Redis, prefix: str = "loper:",
           sample: int = 300) -> dict[str, dict[str, float]]:
    """Every key role in the store: how many keys, and the sizes of a sample of them."""
    by_role: dict[str, list[str]] = {}
    for raw in client.scan_iter(match=f"{prefix}*", count=1000):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        by_role.setdefault(role_of(key), []).append(key)
    found = {}
    for role, keys in sorted(by_role.items()):
        sizes = key_sizes(client, keys[:sample])
        found[role] = {"count": len(keys), **{k: v for k, v in sizes.items() if k != "keys"}}
    return found
