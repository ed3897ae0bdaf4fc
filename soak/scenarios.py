"""The soak's scenarios: each loads Loper, injects one fault, and gives one figure with a
verdict. They run in this order on one stack (soak/run.py): capacity first, since the
others load Loper at 80% of it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

from bench.transport import Jar
from broker.registry import Registry
from soak.load import Run, run_load
from soak.stack import Stack
from tests.fixtures.postgres_server import PostgresServer
from tests.fixtures.redis_server import RedisServer

LOST = ("login_expired", "answer_without_login", "service_unavailable", "invalid_grant",
        "invalid_token", "temporarily_unavailable")
"""How a login whose state went with a Redis restart ends: Loper's page (its state is gone,
or Redis cannot be reached for a moment) or the app's code or token refused."""
FIRST_OR_APP = ("authorize", "token", "userinfo")
"""Steps whose page needs no link to start again: the login's first request (nothing was
lost yet; the page says to try again in a minute), and the app's own requests."""
SCHOOL_DOWN = ("school_timeout", "school_unavailable")
HANGING = "stil"
PUPILS_WAITING = 2.0
"""Logins/s by the hanging school's pupils (two of them, each trying again a second after
their page)."""
OUTAGE = 1.0
"""Seconds Redis or PostgreSQL stays down."""
RSS_GROWTH = 0.10
"""Flat memory: the workers' resident memory grows by at most this share over the run."""


@dataclass(frozen=True)
class Params:
    sustained: float = 600.0
    """Seconds of sustained load at 80% of capacity."""
    fault: float = 30.0
    """Seconds of load around each fault."""
    capacity: float = 20.0
    """Seconds of full-speed load that measure the capacity."""
    clients: int = 4
    workers: int = 2
    """gunicorn workers per instance (of config/gunicorn.conf.py's threads)."""


@dataclass
class Soak:
    params: Params
    stack: Stack
    redis: RedisServer
    postgres: PostgresServer
    capacity: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return 0.8 * self.capacity

    def load(self, seconds: float, during: Callable[[], None] | None = None,
             alternate: bool = False) -> Run:
        """At 80% of capacity, by twice the clients that measured it: a login that takes
        longer than usual does not hold the rate down."""
        return run_load(self.stack, seconds, 2 * self.params.clients, self.rate,
                        alternate=alternate, during=during)

    def ledger_rows(self) -> int:
        engine = create_engine(self.postgres.url)
        try:
            with engine.connect() as connection:
                return int(connection.execute(text("SELECT count(*) FROM ledger")).scalar_one())
        finally:
            engine.dispose()

    def ledger_verified(self) -> str | None:
        """None when `broker ledger verify` would pass; else its problem."""
        registry = Registry(self.postgres.url)
        try:
            result = registry.ledger().verify()
        finally:
            registry.close()
        return None if result.ok else result.problem or "?"


@dataclass(frozen=True)
class Figure:
    scenario: str
    figure: str
    ok: bool
    problems: tuple[str, ...] = ()


def _after(run: Run, moment: float) -> Run:
    """The logins that ended at least `moment` seconds into the run."""
    later = Run(run.seconds - moment)
    later.outcomes = [(at, o) for at, o in run.outcomes if at >= moment]
    return later


def capacity(soak: Soak) -> Figure:
    run = run_load(soak.stack, soak.params.capacity, soak.params.clients)
    soak.capacity = run.per_second
    ok = run.count("ok") == len(run.outcomes) > 0
    return Figure("capacity", f"{run.per_second:.1f} logins/s by {soak.params.clients} clients "
                  f"({run.kinds()})", ok, tuple(run.failures()[:5]))


def sustained(soak: Soak) -> Figure:
    before = soak.stack.worker_rss_kb(0)
    run = soak.load(soak.params.sustained)
    after = soak.stack.worker_rss_kb(0)
    growth = (after - before) / before if before else 0.0
    ok = run.count("ok") == len(run.outcomes) > 0 and growth <= RSS_GROWTH
    return Figure("sustained load", f"{run.count('ok')} logins in {run.seconds:.0f} s at "
                  f"{run.per_second:.1f}/s (80% = {soak.rate:.1f}/s), "
                  f"{len(run.outcomes) - run.count('ok')} errors; worker RSS "
                  f"{before / 1024:.0f} -> {after / 1024:.0f} MB ({growth:+.0%})", ok,
                  tuple(run.failures()[:5]))


def redis_restart(soak: Soak) -> Figure:
    browser: Jar = {}
    first = soak.stack.log_in(soak.stack.steps(), jar=browser)
    marks: dict[str, float] = {}
    began = time.monotonic()

    def restart() -> None:
        marks["down"] = time.monotonic() - began
        soak.redis.stop()
        time.sleep(OUTAGE)
        soak.redis.start()
        marks["back"] = time.monotonic() - began

    run = soak.load(soak.params.fault, during=restart)
    sso = soak.stack.sso_answer(browser)
    settled = _after(run, marks["back"] + 1.0)
    lost = [o for _, o in run.outcomes if o.kind == "page" and (
        o.detail.split()[1] not in LOST or not (o.linked or o.step in FIRST_OR_APP))]
    ok = (first.kind == "ok" and run.count("broken") == run.count("dropped") == 0 and not lost
          and settled.count("ok") == len(settled.outcomes) > 0 and not sso.startswith("broken"))
    return Figure("Redis restarted", f"{run.kinds()}; back {marks['back'] - marks['down']:.1f} s "
                  f"after it stopped; an SSO session from before: {sso}", ok,
                  tuple(run.failures(("broken", "dropped"))[:5])
                  + tuple(f"{o.step}: {o.detail}, linked={o.linked}" for o in lost[:5]))


def worker_killed(soak: Soak) -> Figure:
    server = soak.stack.servers[0]
    marks: dict[str, float] = {}
    began = time.monotonic()

    def kill() -> None:
        victim = server.wait_workers()[0]
        os.kill(victim, signal.SIGKILL)
        marks["killed"] = time.monotonic() - began
        deadline = time.monotonic() + 60
        while victim in server.worker_pids() or len(server.worker_pids()) < server.workers:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        marks["back"] = time.monotonic() - began

    run = soak.load(soak.params.fault, during=kill)
    settled = _after(run, marks["back"] + 1.0)
    threads = 16
    ok = (run.count("broken") == run.count("page") == 0 and run.count("dropped") <= threads
          and settled.count("ok") == len(settled.outcomes) > 0)
    return Figure("gunicorn worker killed", f"{run.kinds()}; a new worker in "
                  f"{marks['back'] - marks['killed']:.1f} s", ok,
                  tuple(run.failures(("broken", "page"))[:5]))


def hanging_school(soak: Soak) -> Figure:
    stalled: list[Run] = []
    waiting = threading.Thread(target=lambda: stalled.append(run_load(
        soak.stack, soak.params.fault, 2, rate=PUPILS_WAITING, school=HANGING)))
    waiting.start()
    run = soak.load(soak.params.fault)
    waiting.join(soak.params.fault + 120)
    pupils = stalled[0] if stalled else Run(0)
    clear = all(o.kind == "page" and o.detail.split()[1] in SCHOOL_DOWN
                for _, o in pupils.outcomes)
    ok = run.count("ok") == len(run.outcomes) > 0 and clear and len(pupils.outcomes) > 0
    return Figure("a school that hangs", f"healthy school: {run.kinds()} at "
                  f"{run.per_second:.1f}/s (80% = {soak.rate:.1f}/s); the hanging school's "
                  f"pupils: {pupils.kinds()}", ok,
                  tuple(run.failures()[:3]) + tuple(pupils.failures(("ok", "dropped",
                                                                     "broken"))[:3]))


def ledger_figure(name: str, run: Run, rows: int, problem: str | None) -> Figure:
    """Every released login has its row, and a row more only for a token request a fault
    cut off; `problem`: what `broker ledger verify` found (None: it passes)."""
    ok = (run.released <= rows <= run.released + run.cut_at_token and problem is None
          and run.count("broken") == 0 and run.count("dropped") == 0)
    cut = f" (+{rows - run.released} whose tokens a fault cut)" if rows > run.released else ""
    return Figure(name, f"{run.kinds()}; ledger: {rows} rows for {run.released} released "
                  f"logins{cut}, verify {'passes' if problem is None else 'FAILS'}", ok,
                  tuple(run.failures(("broken", "dropped"))[:5])
                  + ((problem,) if problem else ()))


def postgres_restart(soak: Soak) -> Figure:
    before = soak.ledger_rows()

    def restart() -> None:
        soak.postgres.stop()  # immediate shutdown: what a crash leaves
        time.sleep(OUTAGE)
        soak.postgres.start()

    run = soak.load(soak.params.fault, during=restart)
    return ledger_figure("PostgreSQL restarted", run, soak.ledger_rows() - before,
                         soak.ledger_verified())


def two_instances(soak: Soak) -> Figure:
    before = soak.ledger_rows()
    run = soak.load(soak.params.fault, alternate=True)
    ok_all = run.count("ok") == len(run.outcomes) > 0
    figure = ledger_figure("two instances, steps alternating", run,
                           soak.ledger_rows() - before, soak.ledger_verified())
    return Figure(figure.scenario, figure.figure, figure.ok and ok_all, figure.problems)


SCENARIOS: tuple[Callable[[Soak], Figure], ...] = (
    capacity, sustained, redis_restart, worker_killed, hanging_school, postgres_restart,
    two_instances)
