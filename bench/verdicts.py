"""The targets a run is judged by, each with its figure and a verdict (met / missed).

Loper's targets: broker CPU per login per pair of protocols, throughput at concurrency 4
against a baseline run (bench/baseline.json, written by `python -m bench.baseline`), the
large registry (start-up, memory, no login slower than with the demo registry), latency and
Redis state. A figure that was not measured gets "n/a", never "met".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASELINE = Path(__file__).resolve().parent / "baseline.json"

CPU_PER_LOGIN_MS = {"saml->saml": 5.0, "oidc->oidc": 4.0, "oidc->saml": 5.0,
                    "saml->oidc": 5.0}
"""Broker CPU per login (concurrency 1), per pair; the mixed pairs in between."""
THROUGHPUT_RATIO = 2.0
"""Logins/s at concurrency 4 on 2 workers, against the baseline's, per scenario."""
LARGE_STARTUP_S = 3.0
LARGE_RSS_MB = 200.0
LARGE_SLOWER = 1.15
"""A login against the large registry counts as "no slower" within 15% of the demo
registry's (run-to-run noise of a few dozen logins on a shared machine)."""
SATOSA_RATIO = 20.0
"""SATOSA's CPU per login over Loper's, the same logins driven through both."""
P99_HOP_MS = 50.0
INFLIGHT_BYTES = 4096.0
SESSION_BYTES = 2048.0


@dataclass(frozen=True)
class Check:
    target: str
    limit: float
    unit: str
    value: float | None
    where: str = ""
    at_least: bool = False
    """True: the figure must reach the limit (a ratio of throughputs); else stay at or
    under it."""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        met = self.value >= self.limit if self.at_least else self.value <= self.limit
        return "met" if met else "missed"

    @property
    def wanted(self) -> str:
        return f"{'>=' if self.at_least else '<='} {num(self.limit)} {self.unit}".rstrip()


def num(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def short(name: str) -> str:
    return name.replace("saml->", "S>").replace("oidc->", "O>").replace(">saml", ">S").replace(
        ">oidc", ">O")


def _scenarios(results: dict[str, Any]) -> list[dict[str, Any]]:
    scenarios: list[dict[str, Any]] = results.get("main", {}).get("scenarios", [])
    return [s for s in scenarios if "error" not in s]


def runs_at(results: dict[str, Any], concurrency: int) -> Iterator[tuple[dict[str, Any],
                                                                         dict[str, Any]]]:
    for scenario in _scenarios(results):
        for run in scenario.get("runs", []):
            if run["concurrency"] == concurrency and run["logins"]:
                yield scenario, run


def _worst(items: Iterable[tuple[float, str]], lowest: bool = False) -> tuple[float | None, str]:
    found = sorted(items, reverse=not lowest)
    return found[0] if found else (None, "no measurement")


def cpu_checks(results: dict[str, Any]) -> list[Check]:
    found = []
    for pair, limit in CPU_PER_LOGIN_MS.items():
        cpu = [(r["cpu_ms_per_login"], short(s["name"])) for s, r in runs_at(results, 1)
               if s["pair"] == pair and r["cpu_ms_per_login"] is not None]
        if not cpu and pair not in ("saml->saml", "oidc->oidc"):
            continue  # a mixed pair this run did not drive
        value, where = _worst(cpu)
        found.append(Check(f"{pair.upper()} broker CPU/login (c1, worst)", limit, "ms",
                           value, where))
    return found


def throughput_check(results: dict[str, Any], baseline: dict[str, Any] | None) -> Check:
    target = "logins/s at c4 on 2 workers vs baseline (worst)"
    if not baseline:
        return Check(target, THROUGHPUT_RATIO, "x", None, "no baseline", at_least=True)
    before = baseline.get("scenarios", {})
    ratios = [(r["logins_per_s"] / before[s["name"]]["logins_per_s_c4"], short(s["name"]))
              for s, r in runs_at(results, 4)
              if before.get(s["name"], {}).get("logins_per_s_c4")]
    value, where = _worst(ratios, lowest=True)
    if value is not None:
        where = f"{where}; baseline {str(baseline.get('git', '?'))[:10]} {baseline.get('date')}"
    return Check(target, THROUGHPUT_RATIO, "x", value, where, at_least=True)


def large_checks(results: dict[str, Any]) -> list[Check]:
    large = results.get("large")
    if not large:
        return []
    size = f"{large['schools']} schools, {large['suppliers']} suppliers"
    found = [Check("large registry: worker ready (first /healthz 200)", LARGE_STARTUP_S, "s",
                   large.get("startup_s"), size),
             Check("large registry: RSS per worker", LARGE_RSS_MB, "MB",
                   large.get("rss_after", {}).get("max_mb"), "after its logins")]
    demo = {(s["name"], r["mode"]): r for s, r in runs_at(results, 1)}
    cpu, latency = [], []
    for run in large.get("runs", []):
        base = demo.get((run.get("scenario"), run.get("mode")))
        if "error" in run or base is None or not run.get("logins"):
            continue
        label = f"{short(run['scenario'])} ({run['mode']})"
        if run["cpu_ms_per_login"] and base["cpu_ms_per_login"]:
            cpu.append((run["cpu_ms_per_login"] / base["cpu_ms_per_login"], label))
        if run["login_ms"]["p50"] and base["login_ms"]["p50"]:
            latency.append((run["login_ms"]["p50"] / base["login_ms"]["p50"], label))
    for what, items in (("CPU/login", cpu), ("login latency p50", latency)):
        value, where = _worst(items)
        found.append(Check(f"large registry: {what} vs demo registry", LARGE_SLOWER, "x",
                           value, where))
    p99 = [(stats["p99"], f"{short(run['scenario'])} {hop} ({run['mode']})")
           for run in large.get("runs", []) for hop, stats in run.get("hops_ms", {}).items()]
    value, where = _worst(p99)
    found.append(Check("large registry: p99 per hop, c1 (worst hop)", P99_HOP_MS, "ms", value,
                       where))
    return found


def state_checks(results: dict[str, Any]) -> list[Check]:
    p99 = [(stats["p99"], f"{short(s['name'])} {hop}") for s, r in runs_at(results, 4)
           for hop, stats in r["hops_ms"].items()]
    value, where = _worst(p99)
    found = [Check("p99 per hop, c4 on 2 workers (worst hop)", P99_HOP_MS, "ms", value, where)]
    inflight = [(max(s["inflight"]["used_memory_bytes_per_login"],
                     s["inflight"]["pending_key"]["memory_usage_bytes"]), short(s["name"]))
                for s in _scenarios(results) if "inflight" in s]
    value, where = _worst(inflight)
    found.append(Check("Redis state per in-flight login (worst)", INFLIGHT_BYTES, "B", value,
                       where))
    session = results.get("main", {}).get("redis_keys", {}).get("session")
    found.append(Check("Redis state per SSO session", SESSION_BYTES, "B",
                       session["memory_usage_bytes"] if session else None, "MEMORY USAGE"))
    return found


def satosa_checks(results: dict[str, Any]) -> list[Check]:
    section = results.get("satosa")
    if not section:
        return []
    ratio = section.get("ratios", {}).get("1")
    return [Check("SATOSA CPU/login over Loper's (SAML->SAML, c1)", SATOSA_RATIO, "x", ratio,
                  f"SATOSA {section.get('satosa_version', '?')}, same peers and keys",
                  at_least=True)]


def checks(results: dict[str, Any], baseline: dict[str, Any] | None) -> list[Check]:
    return [*cpu_checks(results), throughput_check(results, baseline), *large_checks(results),
            *satosa_checks(results), *state_checks(results)]


def load_baseline(path: Path = BASELINE) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data
