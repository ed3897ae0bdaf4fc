"""Broker CPU per hop of a login, served, and the floor under it.

The CPU per login that the main table shows is the workers' CPU over a run divided by its
logins: it says how much, not where. Here a few logins run one at a time (concurrency 1)
through a transport that reads the workers' CPU time before and after each request, from
/proc/<pid>/task/*/schedstat (nanoseconds, every thread of every worker: precise where
/proc/<pid>/stat counts 10 ms ticks). Only the bench sends requests, one at a time, so each
request's difference is that request's cost, gunicorn's share included.

The floor is the same reading for the cheapest request Loper answers (the OpenID discovery
document: no storage, no template): what serving any request costs in this worker model,
before Loper does anything for a login. A login through the picker makes four requests.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bench.run import Plan, run
from bench.transport import Jar, Request, Response, Transport
from bench.world import Scenario

FLOOR_PATH = "/.well-known/openid-configuration"
LOGINS = 50
FLOOR_REQUESTS = 200


def tasks_cpu_ns(pids: list[int]) -> int:
    """CPU time of every thread of these processes, in nanoseconds (schedstat's first field)."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as f:
                    total += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return total


class CpuTransport:
    """Another transport, with the workers' CPU for each request in Response.cpu_ms."""

    def __init__(self, inner: Transport, workers: Callable[[], list[int]]) -> None:
        self.inner = inner
        self.workers = workers

    def send(self, request: Request, jar: Jar) -> Response:
        pids = self.workers()
        before = tasks_cpu_ns(pids)
        response = self.inner.send(request, jar)
        return replace(response, cpu_ms=(tasks_cpu_ns(pids) - before) / 1e6)


def per_hop(transport: CpuTransport, scenario: Scenario, loper: str, mode: str,
            first_index: int) -> dict[str, Any]:
    """Mean and median broker CPU per hop over LOGINS logins at concurrency 1."""
    result = run(transport, scenario, Plan(logins=LOGINS, mode=mode, batch=LOGINS), loper,
                 first_index)
    hops = {name: _summary(values) for name, values in result.hop_cpu.items()}
    return {"logins": result.logins, "errors": len(result.errors), "hops_cpu_ms": hops}


def floor(transport: CpuTransport, loper: str) -> dict[str, float | str]:
    """Broker CPU of the cheapest request, FLOOR_REQUESTS times."""
    spent = []
    for _ in range(FLOOR_REQUESTS):
        response = transport.send(Request("GET", loper + FLOOR_PATH), {})
        if response.status == 200 and response.cpu_ms is not None:
            spent.append(response.cpu_ms)
    return {"path": FLOOR_PATH, **_summary(spent)} if spent else {"path": FLOOR_PATH}


def _summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 3),
            "p50": round(statistics.median(values), 3), "n": len(values)}
