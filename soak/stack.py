"""Loper as production runs it, on loopback: gunicorn (config/gunicorn.conf.py), its state in
a Redis the caller names, its registry in SQLite or a PostgreSQL the caller names, and a
federation of OIDC schools (the demo school's OpenID Provider, tests/faults/world.py; a school
may hang or drip, tests/faults/slow.py) with one OIDC app (bench/peers.py's relying party).

`instances` > 1 starts more gunicorns on other ports for the same instance folder (the same
keys) and the same public base URL, as several machines behind a load balancer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.peers import OidcSchoolDriver
from bench.procs import Gunicorn, free_port
from bench.transport import Jar
from demo.school_op import LYCEUM_PEOPLE
from soak.logins import Begun, Outcome, Steps, begin, clear_page, finish, log_in
from tests.faults.slow import Mode
from tests.faults.world import SlowWorld, build

DEADLINE = 4
"""Seconds Loper waits for a school (outbound_timeout)."""
HEALTHY = "lyceum"
SCHOOLS: dict[str, dict[str, Mode]] = {HEALTHY: {}, "stil": {"/token": "hang"}}
"""A healthy school, and one whose token endpoint hangs (after its login page answered)."""


@dataclass
class Stack:
    world: SlowWorld
    servers: list[Gunicorn]
    drivers: dict[str, OidcSchoolDriver] = field(default_factory=dict)

    @property
    def bases(self) -> list[str]:
        return [server.base_url for server in self.servers]

    def steps(self, alternate: bool = False) -> Steps:
        """Every step to the first instance, or (alternate) to each in turn."""
        return Steps(self.bases if alternate else self.bases[:1])

    def school(self, school: str = HEALTHY) -> OidcSchoolDriver:
        if school not in self.drivers:
            self.drivers[school] = OidcSchoolDriver(
                school, self.world.schools[school].issuer, LYCEUM_PEOPLE)
        return self.drivers[school]

    def log_in(self, steps: Steps, school: str = HEALTHY, jar: Jar | None = None) -> Outcome:
        """One complete login of a pupil of `school`; its outcome."""
        return log_in(self.world.rp, self.school(school), steps, school, jar)

    def sso_answer(self, jar: Jar) -> str:
        """Where Loper sends a browser with a single sign-on session (`jar`) that an app
        sends to log in: straight back to the app, or to the school (the session is gone)."""
        school = self.school()
        try:
            answer = self.steps().send(self.world.rp.start(HEALTHY).request, jar)
        except OSError as exc:
            return f"broken ({type(exc).__name__})"
        if answer.location.startswith(self.world.rp.redirect_uri):
            return "kept (straight back to the app)"
        if answer.location.startswith(school.issuer):
            return "lost (the school is asked again)"
        page = clear_page(answer)
        return f"page {page}" if page else f"broken (HTTP {answer.status})"

    def begin(self, steps: Steps, school: str = HEALTHY) -> Begun | Outcome:
        return begin(self.world.rp, self.school(school), steps, school)

    def finish(self, steps: Steps, begun: Begun, school: str = HEALTHY) -> Outcome:
        return finish(self.world.rp, self.school(school), steps, begun)

    def close(self) -> None:
        for driver in self.drivers.values():
            driver.close()

    def worker_rss_kb(self, instance: int = 0) -> int:
        """The resident memory of the workers of one instance, in KB."""
        return sum(u.rss_kb for u in self.servers[instance].worker_usage().values())


def loper_env(world: SlowWorld) -> dict[str, str]:
    return {f"BROKER_{name.upper()}": str(value) for name, value in world.overrides.items()}


@contextmanager
def loper_stack(folder: Path, state_url: str, registry_url: str | None = None,
                instances: int = 1, workers: int = 2,
                schools: Mapping[str, Mapping[str, Mode]] = SCHOOLS) -> Iterator[Stack]:
    """The federation, and Loper serving it; every process stopped on exit."""
    base = f"http://127.0.0.1:{free_port()}"
    settings: dict[str, Any] = {"state_url": state_url, "outbound_timeout": DEADLINE,
                                "login_starts_per_minute": 10**6}
    if registry_url:
        settings["registry_url"] = registry_url
    with ExitStack() as stack:
        world = build(stack, folder, base, schools, settings)
        servers = []
        for number in range(instances):
            port = int(base.rsplit(":", 1)[1]) if number == 0 else free_port()
            server = Gunicorn(port, loper_env(world), folder / f"gunicorn-{number}.log",
                              workers=workers)
            stack.callback(server.stop)
            server.start()
            servers.append(server)
        for server in servers:
            server.wait_healthy()
            server.wait_workers()
        loper = Stack(world, servers)
        stack.callback(loper.close)
        yield loper
