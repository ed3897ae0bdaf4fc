"""`python -m bench` (`make bench`): what a login costs Loper, served as in production.

Loper runs under gunicorn (config/gunicorn.conf.py; --worker-class sync to compare) with its
state in a private redis-server and the demo federation (plus an OIDC school and an OIDC
supplier) in its SQLite registry; the bench drives complete logins for every pair of protocols,
then repeats a few against a large registry (50,000 schools, 5,000 suppliers), profiles
in-process the pair with the most CPU per login, and judges the run by its targets (met /
missed; throughput against bench/baseline.json). Results: bench-results/bench.json, a table
on stdout, bench-results/profile.txt.

Opt-in: --peer satosa drives SATOSA 8.6 side by side with the same peers and keys;
--tls gunicorn|nginx serves Loper over TLS (gunicorn terminating it, or nginx with keep-alive).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

from bench.large import LargeSpec
from bench.procs import ROOT, free_port, redis_server
from bench.profiler import loper_logs_to
from bench.report import table, write
from bench.suite import Options, large_section, loper_env, main_section
from bench.tls import MODES, self_signed
from bench.verdicts import BASELINE, CPU_PER_LOGIN_MS, P99_HOP_MS, load_baseline
from bench.world import World, build_world


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=200,
                        help="logins per scenario and concurrency level (default 200)")
    parser.add_argument("--budget", type=float, default=15.0,
                        help="seconds after which a run starts no new batch of 50 logins "
                             "(default 15; keeps `make bench` near 5 minutes while SAML is slow)")
    parser.add_argument("--concurrency", default="1,4",
                        help="client threads per run, comma-separated (default 1,4)")
    parser.add_argument("--mode", choices=("picker", "hint"), default="picker",
                        help="picker: the first login of a browser, through the school picker "
                             "(default); hint: the supplier names the school, no picker")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default=None,
                        help="gunicorn worker class (default: config/gunicorn.conf.py's, gthread;"
                             " sync to compare)")
    parser.add_argument("--tls", choices=MODES, default="none",
                        help="none: plain http to gunicorn (default); gunicorn: gunicorn "
                             "terminates TLS itself; nginx: nginx terminates it, with keep-alive "
                             "to the browser (a self-signed key made at run time)")
    parser.add_argument("--peer", choices=("none", "satosa"), default="none",
                        help="satosa: also drive SATOSA 8.6 (installed into its own virtual "
                             "environment) with the same SAML peers and keys, side by side")
    parser.add_argument("--inflight", type=int, default=100,
                        help="logins left in flight per scenario for the state size (default 100)")
    parser.add_argument("--only", default="",
                        help="run only scenarios whose name contains this (e.g. 'oidc->oidc')")
    parser.add_argument("--no-large", dest="large", action="store_false",
                        help="skip the large-registry section")
    parser.add_argument("--large-schools", type=int, default=50_000)
    parser.add_argument("--large-suppliers", type=int, default=5_000)
    parser.add_argument("--large-logins", type=int, default=100,
                        help="logins per scenario and mode against the large registry (20 "
                             "were too few: one noisy batch moved the verdict by 1.7x)")
    parser.add_argument("--profile", choices=("slowest", "missed", "all", "none"),
                        default="slowest",
                        help="profile in-process the pair with the most CPU per login "
                             "(default), the scenarios that miss a target, all, or none")
    parser.add_argument("--profile-logins", type=int, default=20)
    parser.add_argument("--baseline", type=Path, default=BASELINE,
                        help="the figures throughput is judged against (default "
                             "bench/baseline.json; `python -m bench.baseline` writes one)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results",
                        help="where bench.json and profile.txt go (default bench-results/)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (instance, logs) and print its path")
    args = parser.parse_args(argv)
    if args.peer == "satosa" and args.tls != "none":
        parser.error("--peer satosa compares both over plain http: leave out --tls")
    if args.logins < 1 or args.workers < 1:
        parser.error("--logins and --workers must be at least 1")
    return args


def _git() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head or "?") + ("+dirty" if dirty.strip() else "")


def _app_crypto() -> str:
    """What the SAML kinds do for signatures when they build their adapters, read from their
    source (it is what gets measured)."""
    kinds = ("broker/upstream/saml_kind.py", "broker/downstream/saml_kind.py")
    if all("broker.saml.crypto import attach" in (ROOT / kind).read_text(encoding="utf-8")
           for kind in kinds):
        return "in-process (broker.saml.crypto attached by the SAML kinds)"
    return "xmlsec1 subprocess per signature (no in-process backend attached by the SAML kinds)"


def _redis_version() -> str:
    binary = shutil.which("redis-server") or "redis-server"
    try:
        out = subprocess.run([binary, "--version"], text=True, capture_output=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return "?"


def _meta(args: argparse.Namespace, world: World) -> dict[str, Any]:
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "git": _git(),
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "workers": args.workers, "worker_class": args.worker_class or "gthread",
            "mode": args.mode, "tls": args.tls, "peer": args.peer, "redis": _redis_version(),
            "app_crypto": _app_crypto(),
            "logins_requested": args.logins, "budget_s": args.budget, "load_before": _load(),
            "notes": world.notes, "not_driven": world.undriven,
            "scenarios": [s.name for s in world.scenarios]}


def _to_profile(results: dict[str, Any], mode: str) -> list[str]:
    """Scenario names to profile: per pair, the costliest scenario if a scenario of the pair
    misses a CPU or latency target (or every scenario, with mode "all"; the costliest of all
    with mode "slowest")."""
    if mode == "slowest":
        found = _to_profile(results, "all")
        costs = {s["name"]: (s["runs"] or [{}])[0].get("cpu_ms_per_login") or 0.0
               for s in results["main"]["scenarios"] if s["name"] in found}
        return [max(costs, key=lambda name: costs[name])] if costs else []
    worst: dict[str, tuple[float, str]] = {}
    for scenario in results["main"]["scenarios"]:
        if "error" in scenario:
            continue
        runs = {r["concurrency"]: r for r in scenario.get("runs", [])}
        cpu = runs.get(1, {}).get("cpu_ms_per_login") or 0.0
        limit = CPU_PER_LOGIN_MS.get(scenario["pair"])
        hops = runs.get(4, {}).get("hops_ms", {})
        missed = (mode == "all" or (limit is not None and cpu > limit)
                  or any(stats["p99"] > P99_HOP_MS for stats in hops.values()))
        if not missed:
            continue
        key = scenario["name"] if mode == "all" else scenario["pair"]
        worst[key] = max(worst.get(key, (-1.0, "")), (cpu, scenario["name"]))
    return [name for _, name in worst.values()]


def _slow_picker(results: dict[str, Any]) -> str | None:
    """The large registry's URL if its school picker misses the latency target."""
    large = results.get("large") or {}
    slow = any(run.get("hops_ms", {}).get("picker", {}).get("p99", 0) > P99_HOP_MS
               for run in large.get("runs", []))
    return str(large["registry_url"]) if slow and large.get("registry_url") else None


def _load() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def bench(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    options = Options(logins=args.logins,
                      concurrency=tuple(int(c) for c in args.concurrency.split(",") if c),
                      budget_s=args.budget, mode=args.mode, inflight=args.inflight,
                      workers=args.workers, worker_class=args.worker_class,
                      large=LargeSpec(args.large_schools, args.large_suppliers)
                      if args.large else None, large_logins=args.large_logins, tls=args.tls,
                      tls_files=self_signed(folder / "tls") if args.tls != "none" else None)
    args.out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(folder))
        scheme = "https" if args.tls != "none" else "http"
        loper = f"{scheme}://127.0.0.1:{free_port()}"
        print(f"building the federation in {folder} ...", flush=True)
        world = build_world(folder, loper, redis.url)
        stack.callback(world.close)
        stack.enter_context(loper_logs_to(folder / "loper-in-process.log"))
        if args.only:
            world.scenarios = [s for s in world.scenarios if args.only in s.name]
        results: dict[str, Any] = {"meta": _meta(args, world), "options": asdict(options)}
        behind = " behind nginx" if args.tls == "nginx" else ""
        print(f"Loper under gunicorn{behind} at {loper}: {len(world.scenarios)} scenarios",
              flush=True)
        started = time.monotonic()
        results["main"] = main_section(world, redis.url, options, folder / "gunicorn.log")
        results["meta"]["main_s"] = round(time.monotonic() - started, 1)
        if options.large is not None:
            print(f"large registry: {options.large.schools} schools, "
                  f"{options.large.suppliers} suppliers ...", flush=True)
            started = time.monotonic()
            results["large"] = large_section(world, options, folder / "large",
                                             folder / "gunicorn-large.log")
            results["meta"]["large_s"] = round(time.monotonic() - started, 1)
        if args.peer == "satosa":
            from bench.satosa import satosa_section

            print("SATOSA side by side (SAML -> SAML) ...", flush=True)
            try:
                results["satosa"] = satosa_section(world, options, loper_env(world), folder)
            except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                results["satosa"] = {"error": f"{type(exc).__name__}: {exc}"}
                print(f"  SATOSA FAILED: {exc}", flush=True)
        names = _to_profile(results, args.profile) if args.profile != "none" else []
        if names:
            from bench.profiler import profile

            print(f"profiling in-process: {', '.join(names)} ...", flush=True)
            chosen = [s for s in world.scenarios if s.name in names]
            out = args.out / "profile.txt"
            profiled = profile(world, chosen, args.profile_logins, out, args.mode,
                               _slow_picker(results))
            shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
            results["profile"] = {"clock": "wall", "file": str(shown),
                                  "scenarios": [{k: v for k, v in asdict(p).items()
                                                 if k != "text"} for p in profiled]}
    return results


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    inherited = sorted(name for name in os.environ if name.startswith("BROKER_"))
    for name in inherited:  # the bench sets Loper's settings itself, for every process
        del os.environ[name]
    if inherited:
        print(f"ignoring {', '.join(inherited)} from the environment", file=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the peers' request lines
    signal.signal(signal.SIGTERM, _terminate)
    folder = Path(tempfile.mkdtemp(prefix="loper-bench-"))
    started = time.monotonic()
    try:
        results = bench(args, folder)
    except KeyboardInterrupt:
        print("\ninterrupted: every process the bench started was stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    results["meta"]["total_s"] = round(time.monotonic() - started, 1)
    results["meta"]["load_after"] = _load()
    path = write(results, args.out, load_baseline(args.baseline))
    print()
    print(table(results))
    print(f"\n{path} ({results['meta']['total_s']} s)")
    missed = [c for c in results["checks"] if c["verdict"] == "missed"]
    return 1 if missed and os.environ.get("BENCH_STRICT") else 0


if __name__ == "__main__":
    sys.exit(main())
