"""Load: client threads doing complete logins, at full speed (capacity) or paced to a rate.

Each client is a browser of its own (a fresh cookie jar per login) with its own connection
to the school, and spreads its logins evenly: at `rate` logins/s over `clients` threads,
each starts a login every clients/rate seconds (and at once when it is late, without
catching up). Every outcome is kept with the time it ended.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.peers import OidcSchoolDriver
from demo.school_op import LYCEUM_PEOPLE
from soak.logins import Outcome, log_in
from soak.stack import HEALTHY, Stack


@dataclass
class Run:
    seconds: float
    outcomes: list[tuple[float, Outcome]] = field(default_factory=list)
    """(seconds since the start, outcome) of every login that ended."""

    def count(self, kind: str) -> int:
        return sum(1 for _, outcome in self.outcomes if outcome.kind == kind)

    @property
    def released(self) -> int:
        return sum(1 for _, outcome in self.outcomes if outcome.released)

    @property
    def cut_at_token(self) -> int:
        """Logins whose token request got no tokens because of a fault: their ledger row may
        have been committed just before the fault cut the answer (a commit's acknowledgement
        can be lost; no store can tell the writer then)."""
        return sum(1 for _, o in self.outcomes
                   if o.step == "token" and not o.released and o.kind != "ok")

    @property
    def per_second(self) -> float:
        return self.count("ok") / self.seconds if self.seconds else 0.0

    def kinds(self) -> str:
        """'212 ok, 3 page (503 service_unavailable: 2, 400 login_expired: 1)'."""
        kinds = Counter(outcome.kind for _, outcome in self.outcomes)
        parts = [f"{kinds.pop('ok', 0)} ok"]
        for kind, number in sorted(kinds.items()):
            details = Counter(o.detail if kind == "page" else o.detail.split(":")[0]
                              for _, o in self.outcomes if o.kind == kind)
            shown = ", ".join(f"{d}: {n}" for d, n in details.most_common(3))
            parts.append(f"{number} {kind} ({shown})")
        return ", ".join(parts)

    def failures(self, kinds: tuple[str, ...] = ("page", "dropped", "broken")) -> list[str]:
        return [f"{at:.1f}s {o.kind}: {o.detail}" for at, o in self.outcomes if o.kind in kinds]


def run_load(stack: Stack, seconds: float, clients: int, rate: float | None = None,
             school: str = HEALTHY, alternate: bool = False,
             during: Callable[[], None] | None = None) -> Run:
    """Logins of pupils of `school` for `seconds` (rate None: as fast as they go); `during`
    runs in this thread a quarter of the way through (a fault), while the clients go on."""
    run = Run(seconds)
    lock = threading.Lock()
    began = time.monotonic()
    until = began + seconds
    every = clients / rate if rate else 0.0

    def client(number: int) -> None:
        steps = stack.steps(alternate)
        driver = OidcSchoolDriver(school, stack.world.schools[school].issuer, LYCEUM_PEOPLE)
        next_start = began + every * number / clients
        try:
            while True:
                now = time.monotonic()
                if next_start > now:
                    time.sleep(next_start - now)
                if time.monotonic() >= until:
                    return
                next_start = max(next_start + every, time.monotonic() - every)
                outcome = log_in(stack.world.rp, driver, steps, school)
                with lock:
                    run.outcomes.append((time.monotonic() - began, outcome))
        finally:
            driver.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    if during is not None:
        time.sleep(max(0.0, seconds / 4))
        during()
    for thread in threads:
        thread.join(seconds + 120)
    return run
