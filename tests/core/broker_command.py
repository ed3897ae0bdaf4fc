"""The `broker` command on an instance, as an operator runs it: the real installed command in a
process of its own (`own_process`: only the command's own output, its own exit status, no
test's logging handlers in between), or the same command in this process (`this_process`:
click's test runner, no second start of Python) where the process adds nothing to the check.
Both clear BROKER_* from the environment, name the instance with BROKER_INSTANCE and give the
same `Ran`."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from click.testing import CliRunner

from broker.cli import main

BROKER = str(Path(sys.executable).with_name("broker"))


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


class Runner(Protocol):
    def __call__(self, instance: Path, *args: str, **env: str) -> Ran: ...


def own_process(instance: Path, *args: str, **env: str) -> Ran:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("BROKER_")}
    done = subprocess.run([BROKER, *args], env={**clean, "BROKER_INSTANCE": str(instance), **env},
                          capture_output=True, text=True, timeout=60, check=False)
    return Ran(done.returncode, done.stdout, done.stderr)


def this_process(instance: Path, *args: str, **env: str) -> Ran:
    cleared: dict[str, str | None] = {key: None for key in os.environ if key.startswith("BROKER_")}
    result = CliRunner().invoke(main, list(args),
                                env={**cleared, "BROKER_INSTANCE": str(instance), **env})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"broker {' '.join(args)}: a traceback") from result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)
