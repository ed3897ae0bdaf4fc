"""Targets (PASS/MISS), the one-screen table and bench-results/bench.json."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HOPS = ("sso", "picker", "choose", "acs", "callback", "token", "userinfo")
COLUMNS = ("sso", "picker", "choose", "acs/callback", "token", "userinfo")


def _hop(hops: dict[str, dict[str, float]], column: str) -> dict[str, float] | None:
    for name in column.split("/"):
        if name in hops:
            return hops[name]
    return None


@dataclass(frozen=True)
class Check:
    target: str
    limit: float
    unit: str
    value: float | None
    where: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        return "PASS" if self.value <= self.limit else "MISS"


def _runs(results: dict[str, Any], concurrency: int) -> Iterable[tuple[dict[str, Any],
                                                                      dict[str, Any]]]:
    for scenario in results.get("main", {}).get("scenarios", []):
        for run in scenario.get("runs", []):
            if run["concurrency"] == concurrency and run["logins"]:
                yield scenario, run


def _worst(items: Iterable[tuple[float, str]]) -> tuple[float | None, str]:
    found = sorted(items, reverse=True)
    return found[0] if found else (None, "no measurement")


def checks(results: dict[str, Any]) -> list[Check]:
    found = []
    for pair, limit in (("saml->saml", 15.0), ("oidc->oidc", 10.0)):
        cpu = [(r["cpu_ms_per_login"], _short(s["name"])) for s, r in _runs(results, 1)
               if s["pair"] == pair]
        value, where = _worst(cpu)
        found.append(Check(f"{pair.upper()} broker CPU/login (c1, worst)", limit, "ms", value,
                           where))
    p99 = [(stats["p99"], f"{_short(s['name'])} {hop}") for s, r in _runs(results, 4)
           for hop, stats in r["hops_ms"].items()]
    value, where = _worst(p99)
    found.append(Check("p99 per hop, c4 on 2 workers (worst hop)", 50.0, "ms", value, where))
    inflight = [(max(s["inflight"]["used_memory_bytes_per_login"],
                     s["inflight"]["pending_key"]["memory_usage_bytes"]), _short(s["name"]))
                for s in results.get("main", {}).get("scenarios", []) if "inflight" in s]
    value, where = _worst(inflight)
    found.append(Check("Redis state per in-flight login (worst)", 4096.0, "B", value, where))
    session = results.get("main", {}).get("redis_keys", {}).get("session")
    found.append(Check("Redis state per SSO session", 2048.0, "B",
                       session["memory_usage_bytes"] if session else None, "MEMORY USAGE"))
    large = results.get("large")
    if large:
        found.append(Check("large registry: start-up to first /healthz 200", 5.0, "s",
                           large.get("startup_s"), f"{large['schools']} schools, "
                           f"{large['suppliers']} suppliers"))
        found.append(Check("large registry: RSS per worker", 250.0, "MB",
                           large.get("rss_after", {}).get("max_mb"), "after its logins"))
        p99 = [(stats["p99"], f"{_short(run['scenario'])} {hop} ({run['mode']})")
               for run in large.get("runs", []) for hop, stats in run.get("hops_ms", {}).items()]
        value, where = _worst(p99)
        found.append(Check("large registry: p99 per hop, c1 (worst hop)", 50.0, "ms", value,
                           where))
    return found


def _cell(stats: dict[str, float] | None) -> str:
    if not stats:
        return "-"
    return "/".join(_num(stats[k]) for k in ("p50", "p95", "p99"))


def _num(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _short(name: str) -> str:
    return name.replace("saml->", "S>").replace("oidc->", "O>").replace(">saml", ">S").replace(
        ">oidc", ">O")


def table(results: dict[str, Any]) -> str:
    meta = results["meta"]
    main = results.get("main", {})
    lines = [
        f"Loper bench  {meta['date']}  git {meta['git']}  gunicorn {meta['workers']} "
        f"{meta.get('worker_class', 'sync')} workers, Redis {meta['redis']}, "
        f"{meta['cpus']} CPUs, mode {meta['mode']}",
        f"SAML signatures: {meta['app_crypto']}",
        f"peers: {'; '.join(meta['notes'])}",
        f"start-up (demo registry): {main.get('startup_s', '-')} s to first /healthz 200; "
        f"load average before {meta['load_before']}, after {meta.get('load_after', '?')}"
        + (" (other work on this machine: latencies are inflated)" if _busy(meta) else ""),
        "",
        f"{'scenario (school->supplier)':36} {'logins':>9} {'CPU ms/login':>13} "
        f"{'logins/s':>11} {'login ms p50':>13}",
        f"{'':36} {'c1/c4':>9} {'c1':>6} {'c4':>6} {'c1':>5} {'c4':>5} {'c1':>6} {'c4':>6}"]
    for scenario in main.get("scenarios", []):
        runs = {r["concurrency"]: r for r in scenario.get("runs", [])}
        if "error" in scenario:
            lines.append(f"{scenario['name'][:36]:36} FAILED: {scenario['error'][:60]}")
            continue
        c1, c4 = runs.get(1, {}), runs.get(4, {})

        def get(run: dict[str, Any], key: str, fmt: str = "{:.1f}") -> str:
            value = run.get(key)
            return fmt.format(value) if isinstance(value, int | float) else "-"

        lines.append(
            f"{scenario['name'][:36]:36} {get(c1, 'logins', '{}'):>4}/{get(c4, 'logins', '{}'):<4}"
            f" {get(c1, 'cpu_ms_per_login'):>6} {get(c4, 'cpu_ms_per_login'):>6}"
            f" {get(c1, 'logins_per_s'):>5} {get(c4, 'logins_per_s'):>5}"
            f" {c1.get('login_ms', {}).get('p50', 0):>6.1f}"
            f" {c4.get('login_ms', {}).get('p50', 0):>6.1f}")
        errors = sum(r.get("errors", 0) for r in runs.values())
        if errors:
            example = scenario["runs"][0]["first_errors"][:1]
            lines.append(f"   {errors} failed logins, e.g. {example}")
    lines += ["", f"{'latency Loper adds per hop, ms p50/p95/p99':33}"
                  + "".join(f"{h:>13}" for h in COLUMNS)]
    for scenario in main.get("scenarios", []):
        for run in scenario.get("runs", []):
            label = f"{_short(scenario['name'])[:29]} c{run['concurrency']}"
            lines.append(f" {label:32}" + "".join(
                f"{_cell(_hop(run['hops_ms'], column)):>13}" for column in COLUMNS))
    lines += ["", _state_line(main), _rss_line("RSS per worker, demo registry", main)]
    large = results.get("large")
    if large:
        lines += _large_lines(large)
    lines += ["", f"{'target':46} {'limit':>9} {'measured':>9}  verdict  where"]
    for check in results.get("checks", []):
        value = "-" if check["value"] is None else _num(check["value"])
        limit = f"<= {_num(check['limit'])} {check['unit']}"
        lines.append(f"{check['target'][:46]:46} {limit:>9} {value + ' ' + check['unit']:>9}"
                     f"  {check['verdict']:7}  {check['where'][:40]}")
    profile = results.get("profile")
    if profile:
        lines += ["", f"profile ({profile['file']}), in-process, {profile['clock']} ms per login "
                      "(+ CPU of forked xmlsec1): where it goes"]
        for entry in profile["scenarios"]:
            tops = ", ".join(f"{b['bucket']} {b['ms_per_login']:.1f}"
                             for b in entry["buckets"][:4])
            lines.append(f" {_short(entry['scenario'])[:27]:27} {entry['ms_per_login']:5.1f} "
                         f"(+{entry['children_cpu_ms_per_login']:.0f}): " + tops)
    return "\n".join(lines)


def _busy(meta: dict[str, Any]) -> bool:
    """Was the machine busy with other work when the bench started?"""
    try:
        return float(str(meta["load_before"]).split()[0]) > 0.75 * float(meta["cpus"] or 1)
    except (KeyError, ValueError):
        return False


def _state_line(main: dict[str, Any]) -> str:
    inflight = [(s["inflight"]["used_memory_bytes_per_login"],
                 s["inflight"]["pending_key"]["memory_usage_bytes"], s["name"])
                for s in main.get("scenarios", []) if "inflight" in s]
    session = main.get("redis_keys", {}).get("session", {})
    if not inflight:
        return "Redis: no in-flight measurement"
    grown = sorted(item[0] for item in inflight)
    keys = sorted(item[1] for item in inflight)
    return (f"Redis per in-flight login: used_memory grew {grown[0]:.0f}-{grown[-1]:.0f} B "
            f"(in steps: Redis doubles its key table), pending key {keys[0]:.0f}-{keys[-1]:.0f} B "
            f"(MEMORY USAGE)\nRedis per SSO session: {session.get('memory_usage_bytes', 0):.0f} B "
            f"(MEMORY USAGE; value {session.get('value_bytes', 0):.0f} B)")


def _rss_line(label: str, section: dict[str, Any]) -> str:
    idle = section.get("rss_idle", {}).get("workers_kb", [])
    after = section.get("rss_after", {}).get("workers_kb", [])
    mb = " ".join(f"{kb / 1024:.0f}" for kb in idle)
    mb_after = " ".join(f"{kb / 1024:.0f}" for kb in after)
    return f"{label}: idle {mb} MB, after the logins {mb_after} MB"


def _large_lines(large: dict[str, Any]) -> list[str]:
    lines = ["", f"large registry: {large['schools']} schools, {large['suppliers']} suppliers, "
                 f"{large['releases']} releases ({large['federation_file_mb']} MB TOML, import "
                 f"{large['import_s']} s); start-up {large.get('startup_s', '-')} s to first "
                 "/healthz 200",
             _rss_line("  RSS per worker", large)]
    for run in large.get("runs", []):
        if "error" in run:
            lines.append(f"  {_short(run['scenario'])[:28]:28} FAILED: {run['error'][:120]}")
            continue
        hops = "  ".join(f"{hop} {_cell(run['hops_ms'].get(hop))}" for hop in HOPS
                         if hop in run["hops_ms"])
        lines.append(f"  {_short(run['scenario'])[:28]:28} {run['mode']:6} n={run['logins']:<3}"
                     f" CPU {run['cpu_ms_per_login'] or 0:.1f} ms/login  {hops}")
    return lines


def write(results: dict[str, Any], folder: Path) -> Path:
    results["checks"] = [asdict(c) | {"verdict": c.verdict} for c in checks(results)]
    path = folder / "bench.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path
