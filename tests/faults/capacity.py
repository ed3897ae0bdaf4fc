"""Loper's capacity while some schools hang or drip: the scenario of the capacity test, and
a command that prints its numbers for a worker model:

    .venv/bin/python -m tests.faults.capacity [--worker-class sync] [--seconds 8]

Loper runs under gunicorn (config/gunicorn.conf.py) with its state in Redis. Clients log in
at a healthy school ("lyceum") in complete OIDC logins (authorize, the school's login, the
callback, token, user info): alone, then while pupils of a hanging school ("stil") and of a
dripping one ("druppel") keep waiting (each asks again as soon as it has its 504 page), then
alone again.
Loper forgets failures at once here (outbound_failure_ttl = 0), so every waiting pupil ties
Loper up for the whole deadline, as a school that answers just in time would.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.peers import OidcSchoolDriver
from bench.procs import Gunicorn, free_port, redis_server
from bench.transport import HttpTransport, Request
from demo.school_op import LYCEUM_PEOPLE
from tests.faults.slow import Mode
from tests.faults.world import SlowWorld, build

DISCOVERY = "/.well-known/openid-configuration"
SCHOOLS: dict[str, dict[str, Mode]] = {
    "lyceum": {}, "stil": {DISCOVERY: "hang"}, "druppel": {DISCOVERY: "drip"}}
WAITING = {"stil": 2, "druppel": 2}
"""Pupils of each slow school that keep waiting."""
DEADLINE = 4
CLIENTS = 4


@dataclass
class Rate:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else math.inf

    def __str__(self) -> str:
        return (f"{self.per_second:.1f} logins/s, p99 {self.p99 * 1000:.0f} ms "
                f"({len(self.latencies)} logins, {len(self.errors)} errors)")


def _log_in(world: SlowWorld, transport: HttpTransport, school: OidcSchoolDriver) -> None:
    """One complete login at the healthy school; raises if any step is not the right one."""
    rp, jar = world.rp, {}
    started = rp.start(school.id)
    to_school = transport.send(started.request, jar)
    if not to_school.location.startswith(school.issuer):
        raise AssertionError(f"authorize: HTTP {to_school.status} {to_school.text()[:200]}")
    step = rp.answered(started, transport.send(school.answer(
        Request("GET", to_school.location), 0), jar))
    while step is not None:
        name, request = step
        step = rp.followed(started, name, transport.send(request, jar))


def normal_logins(world: SlowWorld, seconds: float, clients: int = CLIENTS) -> Rate:
    """Complete logins at the healthy school by `clients` threads for `seconds`."""
    rate = Rate(seconds)
    until = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        transport = HttpTransport(world.loper)
        school = OidcSchoolDriver("lyceum", world.schools["lyceum"].issuer, LYCEUM_PEOPLE)
        try:
            while time.monotonic() < until:
                began = time.monotonic()
                try:
                    _log_in(world, transport, school)
                except Exception as exc:  # counted and shown: a failed login is a finding
                    with lock:
                        rate.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                with lock:
                    rate.latencies.append(time.monotonic() - began)
        finally:
            school.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return rate


@dataclass
class Waiting:
    answers: dict[int, int] = field(default_factory=dict)
    """HTTP status -> how many of the waiting pupils' requests ended with it."""
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def gone(self, timeout: float) -> None:
        """Wait (at most `timeout` s) until every pupil has its last answer and left."""
        until = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, until - time.monotonic()))


@contextmanager
def waiting_pupils(world: SlowWorld, per_school: Mapping[str, int]) -> Iterator[Waiting]:
    """Pupils of slow schools who ask again as soon as they have their answer."""
    waiting = Waiting()
    lock = threading.Lock()

    def pupil(school_id: str) -> None:
        transport = HttpTransport(world.loper)
        while not waiting.stop.is_set():
            try:
                status = transport.send(world.rp.start(school_id).request, {}).status
            except OSError:
                status = 0  # Loper went away (the end of the run)
            with lock:
                waiting.answers[status] = waiting.answers.get(status, 0) + 1

    waiting.threads = [threading.Thread(target=pupil, args=(sid,), daemon=True)
                       for sid, count in per_school.items() for _ in range(count)]
    for thread in waiting.threads:
        thread.start()
    try:
        yield waiting
    finally:
        waiting.stop.set()


def loper_env(world: SlowWorld) -> dict[str, str]:
    return {f"BROKER_{name.upper()}": str(value) for name, value in world.overrides.items()}


@contextmanager
def slow_federation(folder: Path, redis_url: str,
                    worker_class: str | None = None) -> Iterator[tuple[SlowWorld, Gunicorn]]:
    """The slow schools' federation, with Loper under gunicorn on a free port."""
    loper = f"http://127.0.0.1:{free_port()}"
    settings = {"state_url": redis_url, "outbound_timeout": DEADLINE,
                "outbound_failure_ttl": 0, "login_starts_per_minute": 10**6}
    with ExitStack() as stack:
        world = build(stack, folder, loper, SCHOOLS, settings)
        server = Gunicorn(int(loper.rsplit(":", 1)[1]), loper_env(world), folder / "gunicorn.log",
                          workers=2, worker_class=worker_class)
        stack.callback(server.stop)
        server.start()
        server.wait_healthy()
        server.wait_workers()
        normal_logins(world, 1.0, clients=2)  # every worker reads the school's discovery
        yield world, server


@dataclass(frozen=True)
class Outcome:
    before: Rate
    meanwhile: Rate
    after: Rate
    answers: dict[int, int]
    """What the waiting pupils got, by HTTP status."""

    @property
    def alone_per_second(self) -> float:
        """The healthy school's rate alone: before and after, so that a machine whose other
        work comes and goes shifts both sides of the comparison alike."""
        return (self.before.per_second + self.after.per_second) / 2


def scenario(world: SlowWorld, seconds: float, alone: float | None = None) -> Outcome:
    """The healthy school's logins alone, while pupils of slow schools wait (`seconds`), alone
    again; `alone`: the seconds of each window alone (default `seconds`)."""
    alone = seconds if alone is None else alone
    before = normal_logins(world, alone)
    with waiting_pupils(world, WAITING) as waiting:
        time.sleep(0.5)  # every waiting pupil is inside Loper now
        meanwhile = normal_logins(world, seconds)
        answers = dict(waiting.answers)
    waiting.gone(3 * DEADLINE)
    return Outcome(before, meanwhile, normal_logins(world, alone), answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker-class", default=None,
                        help="override config/gunicorn.conf.py's worker model (e.g. sync)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each window")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith("BROKER_")]:
        del os.environ[name]
    with tempfile.TemporaryDirectory(prefix="loper-capacity-") as folder:
        with redis_server(Path(folder)) as redis, slow_federation(
                Path(folder), redis.url, args.worker_class) as (world, _):
            outcome = scenario(world, args.seconds)
    print(f"worker class: {args.worker_class or 'from config/gunicorn.conf.py'}, "
          f"2 workers, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"healthy school alone, before:  {outcome.before}")
    print(f"while {sum(WAITING.values())} pupils of slow schools wait: {outcome.meanwhile}")
    print(f"healthy school alone, after:   {outcome.after}")
    print(f"the waiting pupils' answers:   {dict(sorted(outcome.answers.items()))}")
    rates = (outcome.before, outcome.meanwhile, outcome.after)
    for error in sorted({e for rate in rates for e in rate.errors})[:5]:
        print(f"  error: {error}")


if __name__ == "__main__":
    main()
