"""The soak (`make soak`, soak/) in short: every scenario, each for a few seconds.

The same code as `make soak` with small parameters: Loper under gunicorn, two instances
sharing a real Redis and a real durable PostgreSQL, complete OIDC logins by a real school and
app, and the faults themselves (Redis and PostgreSQL restarted, a worker killed, a school
that hangs). Every scenario must hold its verdict (soak/scenarios.py says what each one is).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from soak.run import run, table
from soak.scenarios import SCENARIOS, Params

SHORT = Params(sustained=2.0, fault=4.0, capacity=2.0, clients=2, workers=1)
"""Four seconds of load per fault: the fault a second in (a one-second outage, a worker killed
and replaced), then logins that end a second after it is over, which must all succeed; the
hanging school's pupils wait out the four-second deadline once."""


@pytest.mark.timeout(300)
def test_every_soak_scenario_holds_in_short(tmp_path: Path) -> None:
    figures = run(SHORT, folder=tmp_path)
    assert len(figures) == len(SCENARIOS)
    failed = [f"{f.scenario}: {f.figure}\n  " + "\n  ".join(f.problems)
              for f in figures if not f.ok]
    assert not failed, table(figures) + "\n\n" + "\n".join(failed)
