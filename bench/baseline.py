"""`python -m bench.baseline BENCH_JSON --commit SHA`: keep a run's figures as the baseline
(bench/baseline.json) that later runs' throughput is judged against.

The baseline names the commit and the date it was measured on, the worker model and mode, and
per scenario the broker CPU per login and the logins/s at each concurrency.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.verdicts import BASELINE


def baseline_of(results: dict[str, Any], commit: str, command: str) -> dict[str, Any]:
    meta = results["meta"]
    scenarios: dict[str, dict[str, float | None]] = {}
    for scenario in results.get("main", {}).get("scenarios", []):
        if "error" in scenario:
            continue
        figures: dict[str, float | None] = {}
        for run in scenario.get("runs", []):
            c = run["concurrency"]
            figures[f"cpu_ms_per_login_c{c}"] = run["cpu_ms_per_login"]
            figures[f"logins_per_s_c{c}"] = run["logins_per_s"]
        scenarios[scenario["name"]] = figures
    return {"git": commit, "date": meta["date"], "command": command,
            "workers": meta["workers"], "worker_class": meta["worker_class"],
            "mode": meta["mode"], "cpus": meta["cpus"], "load_before": meta["load_before"],
            "load_after": meta.get("load_after"), "scenarios": scenarios}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("bench_json", type=Path, help="a run's bench-results/bench.json")
    parser.add_argument("--commit", required=True, help="the commit the run measured")
    parser.add_argument("--command", default="make bench",
                        help="the command that made the run (kept with the figures)")
    parser.add_argument("--note", default="", help="how the machine was (kept as well)")
    parser.add_argument("--out", type=Path, default=BASELINE)
    args = parser.parse_args(argv)
    results = json.loads(args.bench_json.read_text(encoding="utf-8"))
    data = baseline_of(results, args.commit, args.command)
    if args.note:
        data["note"] = args.note
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(data['scenarios'])} scenarios from {args.commit} ({data['date']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
