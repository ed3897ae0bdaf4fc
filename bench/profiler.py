"""One worker's view, profiled: the same logins in-process (create_app() and Flask's test
client, the same Redis and registry) under cProfile, which is switched on only while a request
to Loper runs. The peers' work (building the school's answer, the OIDC school's endpoints,
which run in other threads) stays out of the profile.
"""

from __future__ import annotations

import cProfile
import io
import logging
import os
import pstats
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.run import Plan, run
from bench.transport import TestClientTransport
from bench.world import Scenario, World

TOP = 30
_WRAPPERS = ("bench/", "site-packages/flask/", "site-packages/werkzeug/test.py")
CLOCK_NOTE = (
    "Clock: wall time in this thread (cProfile's default). Waiting for Redis, the school's back "
    "channel and forked xmlsec1 processes counts, and grows when the machine is busy; the forked "
    "processes' own CPU is given per scenario. (This thread's CPU time as the clock was tried: "
    "at ~0.4 us per timer call it tripled the cost of Python-heavy code, a worse distortion.)")


@dataclass
class ProfileResult:
    scenario: str
    logins: int
    ms_per_login: float
    """Profiled wall time of the requests to Loper, per login (profiler overhead included)."""
    children_cpu_ms_per_login: float
    """CPU time of the processes Loper forked (xmlsec1), per login."""
    buckets: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""


Func = tuple[str, int, str]
BUCKETS: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("xmlsec1 forks", lambda path, name: path.endswith("/subprocess.py")),
    ("lxml/xmlsec",
     lambda path, name: "broker/saml/crypto" in path or "lxml.etree" in name
     or "/lxml/" in path or "xmlsec" in name or "/xml/etree/" in path
     or "/xmlschema/" in path or "/defusedxml/" in path),
    ("JOSE/RSA",
     lambda path, name: "/joserfc/" in path or "/cryptography/" in path),
    ("sqlalchemy", lambda path, name: "/sqlalchemy/" in path),
    ("redis", lambda path, name: "site-packages/redis/" in path),
    ("back-channel HTTP",
     lambda path, name: "site-packages/requests/" in path or "/urllib3/" in path),
    ("jinja2", lambda path, name: "/jinja2/" in path),
    ("pysaml2", lambda path, name: "site-packages/saml2/" in path),
    ("logging", lambda path, name: "/logging/" in path or path.endswith("broker/logs.py")),
    ("loper", lambda path, name: "/broker/" in path or path.endswith("/app.py")),
    ("flask/werkzeug", lambda path, name: "/flask/" in path or "/werkzeug/" in path),
)
"""Packages the time is grouped by (the first that matches a function's file wins)."""


def _bucket(func: Func) -> str | None:
    path, _line, name = func
    for label, test in BUCKETS:
        if test(path, name):
            return label
    return None


def buckets(stats: pstats.Stats, logins: int, total_s: float) -> list[dict[str, Any]]:
    """Time per concern, each counted once: every function's own time (tottime) goes to its
    concern; the own time of code in no concern (the standard library, builtins such as a
    socket's recv, templates) goes to the concern of its callers, in the proportion they
    caused it, up the call graph. What no concern calls is "other" (the profiler's root)."""
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}

    def share(func: Func, seen: frozenset[Func]) -> dict[str, float]:
        own = _bucket(func)
        if own is not None:
            return {own: 1.0}
        if func in memo:
            return memo[func]
        callers = raw[func][4] if func in raw else {}
        weights = {c: (edge[2] or edge[1]) for c, edge in callers.items() if c not in seen}
        total = sum(weights.values())
        if not total:
            return {"other": 1.0}
        found: dict[str, float] = {}
        for caller, weight in weights.items():
            for label, part in share(caller, seen | {func}).items():
                found[label] = found.get(label, 0.0) + part * weight / total
        memo[func] = found  # a recursive caller skipped on this path stays skipped: fine
        return found

    seconds: dict[str, float] = {}
    for func, (_cc, _nc, tottime, _ct, _callers) in raw.items():
        for label, part in share(func, frozenset()).items():
            seconds[label] = seconds.get(label, 0.0) + tottime * part
    scale = total_s / sum(seconds.values()) if sum(seconds.values()) else 0.0
    return [{"bucket": label, "ms_per_login": round(value * scale * 1000 / logins, 2)}
            for label, value in sorted(seconds.items(), key=lambda kv: -kv[1])]


def _label(func: tuple[str, int, str]) -> str:
    path, line, name = func
    if path == "~":
        return name
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"


def _top(stats: pstats.Stats, logins: int, limit: int) -> list[dict[str, Any]]:
    """The functions with the most cumulative time, Loper's and its libraries' (the bench's,
    Flask's and Werkzeug's dispatch layers left out: they contain everything)."""
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(raw.items(), key=lambda item: item[1][3], reverse=True)
    rows = [row for row in rows if not any(skip in row[0][0] for skip in _WRAPPERS)]
    found = []
    for func, (_cc, calls, tottime, cumtime, _callers) in rows[:limit]:
        found.append({"function": _label(func), "calls_per_login": round(calls / logins, 1),
                      "cum_ms_per_login": round(cumtime * 1000 / logins, 2),
                      "self_ms_per_login": round(tottime * 1000 / logins, 2)})
    return found


@contextmanager
def loper_logs_to(log_file: Path) -> Iterator[None]:
    """Loper in this process (create_app) logs every login to stderr: to a file instead (the
    cost of logging stays in the profile)."""
    handlers = [h for h in logging.getLogger("loper").handlers
                if isinstance(h, logging.StreamHandler)]
    with open(log_file, "a", encoding="utf-8") as stream:
        previous = [h.setStream(stream) for h in handlers]
        try:
            yield
        finally:
            for handler, old in zip(handlers, previous, strict=True):
                if old is not None:
                    handler.setStream(old)


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _profiled(app: Any, world: World, scenario: Scenario, plan: Plan,
              label: str) -> ProfileResult:
    profiler = cProfile.Profile()
    transport = TestClientTransport(app, profiler)
    warm = Plan(logins=3, mode=plan.mode, verify=plan.finish, finish=plan.finish)
    run(transport, scenario, warm, world.loper, 900_000)
    transport.profiling = True
    children = _children_cpu()
    measured = run(transport, scenario, plan, world.loper, 910_000)
    children = _children_cpu() - children
    n = max(measured.logins, 1)
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(TOP)
    stats.sort_stats("tottime").print_stats(20)
    buffer.write("Loper's own functions (broker/), by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(r"/broker/", 40)
    total = float(stats.total_tt)  # type: ignore[attr-defined]  # only Loper answering
    return ProfileResult(label, measured.logins, round(total * 1000 / n, 2),
                         round(children * 1000 / n, 2), buckets(stats, n, total),
                         _top(stats, n, TOP), buffer.getvalue())


def _section(result: ProfileResult) -> str:
    return (f"\n{'=' * 100}\n{result.scenario}: {result.logins} logins, {result.ms_per_login} ms "
            f"of requests to Loper per login (profiler overhead included), "
            f"{result.children_cpu_ms_per_login} ms CPU of forked processes per login\n"
            f"by package: " + ", ".join(f"{b['bucket']} {b['ms_per_login']}"
                                        for b in result.buckets)
            + f"\n{'=' * 100}\n{result.text}")


def profile(world: World, scenarios: Sequence[Scenario], logins: int, out: Path,
            mode: str = "picker", large_registry: str | None = None) -> list[ProfileResult]:
    """Profile each scenario's logins; with `large_registry`, also the school picker's hops
    (SSO entry, picker page, pick: "large registry: picker hops") against that registry."""
    from app import create_app

    chunks = [f"Loper profile: in-process, {logins} logins per scenario ({mode} mode), "
              "sorted by cumulative time.\n" + CLOCK_NOTE + "\n"]
    results = []
    apps = []
    try:
        app = create_app(world.overrides)
        apps.append(app)
        for scenario in scenarios:
            results.append(_profiled(app, world, scenario, Plan(logins=logins, mode=mode),
                                     scenario.name))
            chunks.append(_section(results[-1]))
        if large_registry and scenarios:
            app = create_app({**world.overrides, "registry_url": large_registry})
            apps.append(app)
            plan = Plan(logins=max(3, logins // 4), mode="picker", finish=False)
            results.append(_profiled(app, world, scenarios[0], plan,
                                     "large registry: picker hops"))
            chunks.append(_section(results[-1]))
    finally:
        for each in apps:
            each.extensions["loper"].store.close()
            each.extensions["loper"].registry.close()
    out.write_text("".join(chunks), encoding="utf-8")
    return results
