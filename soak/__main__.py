"""`python -m soak` (`make soak`): real logins through real peers into Loper under gunicorn,
with Redis and PostgreSQL, while faults are injected; one figure per scenario:

  capacity                 complete logins/s at full speed (the others run at 80% of it)
  sustained load           80% of capacity for --minutes: zero errors, flat worker memory
  Redis restarted          mid-load: no 5xx with a trace, logins in flight end on a clear
                           page, an SSO session at most lost
  gunicorn worker killed   kill -9 mid-request: only its requests in flight are dropped
  a school that hangs      its pupils get "your school does not answer"; others go on
  PostgreSQL restarted     mid-load: a ledger row per released login (one more only for a
                           token answer the crash cut off), ledger verify passes
  two instances            each login's steps alternate between two Lopers sharing
                           Redis and PostgreSQL

Loopback only; stops by itself. Exit status 1 when a scenario fails.
"""

from __future__ import annotations

import argparse
import os
import sys

from soak.run import run, table
from soak.scenarios import Figure, Params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="sustained load, in minutes (default 10)")
    parser.add_argument("--fault-seconds", type=float, default=30.0,
                        help="seconds of load around each fault (default 30)")
    parser.add_argument("--capacity-seconds", type=float, default=20.0,
                        help="seconds of full-speed load to measure capacity (default 20)")
    parser.add_argument("--clients", type=int, default=4,
                        help="client threads measuring capacity; twice as many pace the "
                             "other scenarios (default 4)")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers per Loper instance (default 2)")
    args = parser.parse_args(argv)
    if min(args.minutes, args.fault_seconds, args.capacity_seconds) <= 0 or min(
            args.clients, args.workers) < 1:
        parser.error("durations must be positive, --clients and --workers at least 1")
    for name in [n for n in os.environ if n.startswith("BROKER_")]:
        del os.environ[name]  # the soak sets Loper's settings itself

    def shown(figure: Figure, seconds: float) -> None:
        verdict = "ok" if figure.ok else "FAILED"
        print(f"{figure.scenario}: {figure.figure} [{verdict}, {seconds:.0f} s]", flush=True)
        for problem in figure.problems:
            print(f"    {problem}", flush=True)

    params = Params(sustained=args.minutes * 60, fault=args.fault_seconds,
                    capacity=args.capacity_seconds, clients=args.clients, workers=args.workers)
    print(f"soak: {args.minutes:g} min sustained, {args.fault_seconds:g} s per fault, "
          f"{args.clients} clients, 2 instances of {args.workers} workers, {os.cpu_count()} "
          f"CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
    figures = run(params, shown)
    print()
    print(table(figures))
    return 0 if all(figure.ok for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
