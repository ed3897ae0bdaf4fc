"""The one-screen table and bench-results/bench.json (with the verdicts)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.verdicts import checks, num, short

HOPS = ("sso", "picker", "choose", "acs", "callback", "token", "userinfo")
COLUMNS = ("sso", "picker", "choose", "acs/callback", "token", "userinfo")


def _hop(hops: dict[str, dict[str, float]], column: str) -> dict[str, float] | None:
    for name in column.split("/"):
        if name in hops:
            return hops[name]
    return None


def _cell(stats: dict[str, float] | None) -> str:
    if not stats:
        return "-"
    return "/".join(_num(stats[k]) for k in ("p50", "p95", "p99"))


def _num(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def table(results: dict[str, Any]) -> str:
    meta = results["meta"]
    main = results.get("main", {})
    lines = [
        f"Loper bench  {meta['date']}  git {meta['git']}  gunicorn {meta['workers']} "
        f"{meta.get('worker_class', 'sync')} workers, Redis {meta['redis']}, "
        f"{meta['cpus']} CPUs, mode {meta['mode']}, TLS {meta.get('tls', 'none')}",
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
        if c1.get("proxy_cpu_ms_per_login") is not None:
            lines.append(f"   + nginx (TLS, keep-alive) CPU ms/login: c1 "
                         f"{get(c1, 'proxy_cpu_ms_per_login')}, c4 "
                         f"{get(c4, 'proxy_cpu_ms_per_login')}")
        errors = sum(r.get("errors", 0) for r in runs.values())
        if errors:
            example = scenario["runs"][0]["first_errors"][:1]
            lines.append(f"   {errors} failed logins, e.g. {example}")
    lines += ["", f"{'latency Loper adds per hop, ms p50/p95/p99':33}"
                  + "".join(f"{h:>13}" for h in COLUMNS)]
    for scenario in main.get("scenarios", []):
        for run in scenario.get("runs", []):
            label = f"{short(scenario['name'])[:29]} c{run['concurrency']}"
            lines.append(f" {label:32}" + "".join(
                f"{_cell(_hop(run['hops_ms'], column)):>13}" for column in COLUMNS))
    lines += _per_hop_lines(main, meta)
    lines += ["", _state_line(main), _rss_line("RSS per worker, demo registry", main)]
    large = results.get("large")
    if large:
        lines += _large_lines(large)
    if results.get("satosa"):
        lines += _satosa_lines(results["satosa"])
    lines += ["", *verdict_lines(results.get("checks", []))]
    profile = results.get("profile")
    if profile:
        lines += ["", f"profile ({profile['file']}), in-process, {profile['clock']} ms per login "
                      "(+ CPU of forked xmlsec1): what remains, by package"]
        for entry in profile["scenarios"]:
            tops = ", ".join(f"{b['bucket']} {b['ms_per_login']:.1f}"
                             for b in entry["buckets"][:7])
            lines.append(f" {short(entry['scenario'])[:27]:27} {entry['ms_per_login']:5.1f} "
                         f"(+{entry['children_cpu_ms_per_login']:.0f}): " + tops)
    return "\n".join(lines)


def verdict_lines(found: list[dict[str, Any]]) -> list[str]:
    """One line per target: the figure, the target and the verdict (met / missed / n/a)."""
    lines = [f"{'target':50} {'wanted':>10} {'measured':>10}  verdict  where"]
    for check in found:
        unit = check["unit"]
        value = "-" if check["value"] is None else f"{num(check['value'])} {unit}".rstrip()
        wanted = f"{'>=' if check.get('at_least') else '<='} {num(check['limit'])} {unit}"
        lines.append(f"{check['target'][:50]:50} {wanted.rstrip():>10} {value:>10}"
                     f"  {check['verdict']:7}  {check['where'][:60]}")
    return lines


def _satosa_lines(section: dict[str, Any]) -> list[str]:
    """Loper and SATOSA side by side on the same logins, with the ratio of their CPU."""
    lines = ["", f"Loper and SATOSA {section.get('satosa_version', '?')}, "
                 f"{section.get('pair')} {section.get('school')}->{section.get('supplier')}, "
                 "school hint, gunicorn workers' CPU per login",
             f"{'':6} {'Loper ms':>9} {'SATOSA ms':>10} {'ratio':>7} {'Loper/s':>8} "
             f"{'SATOSA/s':>9} {'p50 ms Loper':>13} {'SATOSA':>7}"]
    if "error" in section:
        lines.append(f"SATOSA FAILED: {section['error'][:300]}")
    for loper, satosa in zip(section.get("loper", []), section.get("satosa", []), strict=False):
        c = loper["concurrency"]
        ratio = section.get("ratios", {}).get(str(c))
        lines.append(f"{'c' + str(c):6} {loper['cpu_ms_per_login'] or 0:9.2f} "
                     f"{satosa['cpu_ms_per_login'] or 0:10.2f} "
                     f"{(str(ratio) + ' x') if ratio else '-':>7} {loper['logins_per_s']:8.1f} "
                     f"{satosa['logins_per_s']:9.1f} {loper['login_ms']['p50']:13.1f} "
                     f"{satosa['login_ms']['p50']:7.1f}")
    return lines


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


def _per_hop_lines(main: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """Where a login's CPU goes, hop by hop (bench/hops.py), and the floor under each hop."""
    lines = ["", f"{'broker CPU per hop, ms (c1, mean)':33}"
                 + "".join(f"{h:>13}" for h in COLUMNS) + f"{'= login':>9}"]
    for scenario in main.get("scenarios", []):
        hops = scenario.get("per_hop", {}).get("hops_cpu_ms", {})
        if hops:
            total = sum(h["mean"] for h in hops.values())
            lines.append(f" {short(scenario['name'])[:32]:32}" + "".join(
                f"{_mean(_hop(hops, column)):>13}" for column in COLUMNS) + f"{total:>9.2f}")
    floor = main.get("floor", {})
    if "mean" in floor:
        lines.append(f"floor: GET {floor['path']} costs {floor['mean']:.2f} ms of worker CPU "
                     f"(p50 {floor['p50']:.2f}) with {meta.get('worker_class', 'sync')} workers: "
                     "what serving any request costs; a login through the picker makes 4")
    return lines if len(lines) > 2 else []


def _mean(stats: dict[str, float] | None) -> str:
    return f"{stats['mean']:.2f}" if stats else "-"


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
            lines.append(f"  {short(run['scenario'])[:28]:28} FAILED: {run['error'][:120]}")
            continue
        hops = "  ".join(f"{hop} {_cell(run['hops_ms'].get(hop))}" for hop in HOPS
                         if hop in run["hops_ms"])
        lines.append(f"  {short(run['scenario'])[:28]:28} {run['mode']:6} n={run['logins']:<3}"
                     f" CPU {run['cpu_ms_per_login'] or 0:.1f} ms/login  {hops}")
    return lines


def write(results: dict[str, Any], folder: Path, baseline: dict[str, Any] | None) -> Path:
    results["checks"] = [asdict(c) | {"verdict": c.verdict}
                         for c in checks(results, baseline)]
    path = folder / "bench.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path
