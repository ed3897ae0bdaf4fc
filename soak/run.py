"""One soak: Redis, a durable PostgreSQL and two Loper instances under gunicorn, all on
loopback and started here; every scenario of soak/scenarios.py in turn; one figure each.

Everything it starts stops with it, also on an error or Ctrl-C; the run is bounded by its
parameters (the load is paced, each scenario has its seconds) and stops by itself.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from soak.scenarios import SCENARIOS, Figure, Params, Soak
from soak.stack import loper_stack
from tests.fixtures.postgres_server import running_postgres_server
from tests.fixtures.redis_server import running_redis_server


@contextmanager
def soak_stack(params: Params, folder: Path) -> Iterator[Soak]:
    (folder / "redis").mkdir()
    with running_redis_server(folder / "redis") as redis, \
            running_postgres_server(durable=True) as postgres, \
            loper_stack(folder, redis.url, postgres.url, instances=2,
                        workers=params.workers) as stack:
        yield Soak(params, stack, redis, postgres)


def run(params: Params, shown: Callable[[Figure, float], None] = lambda f, s: None,
        folder: Path | None = None) -> list[Figure]:
    """Every scenario; `shown` gets each figure (and its seconds) as soon as it is known."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="loper-soak-") as tmp, \
            soak_stack(params, folder or Path(tmp)) as soak:
        for scenario in SCENARIOS:
            started = time.monotonic()
            figure = scenario(soak)
            figures.append(figure)
            shown(figure, time.monotonic() - started)
    return figures


def table(figures: list[Figure]) -> str:
    lines = ["| scenario | figure | verdict |", "| --- | --- | --- |"]
    for figure in figures:
        lines.append(f"| {figure.scenario} | {figure.figure} | "
                     f"{'ok' if figure.ok else 'FAILED'} |")
    return "\n".join(lines)
