"""Loper under gunicorn, started as README and docs/deployment.md say, with an instance it
cannot start with: the operator reads Loper's one line, once, no traceback, and gunicorn
stops with its worker boot error (exit status 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from broker import metrics_dir
from broker.keys import SEAL_FILE
from broker.settings import SETTINGS_FILE
from tests.fixtures.redis_server import free_port
from tests.registry.conftest import fresh_instance

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WORKER_BOOT_ERROR = 3


def gunicorn(tmp_path: Path, workers: int, **env: str) -> list[str]:
    """gunicorn's standard error, after it has stopped with the worker boot error."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("BROKER_")}
    env = {**clean, "BROKER_INSTANCE": str(tmp_path / "instance"), "LOPER_WORKERS": str(workers),
           metrics_dir.ENV: str(tmp_path / "metrics"), **env}
    done = subprocess.run(
        [GUNICORN, "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}",
         "--no-control-socket", "app:create_app()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == WORKER_BOOT_ERROR, done.stderr
    assert "Traceback" not in done.stderr
    return [line.split("] ", 2)[-1] for line in done.stderr.splitlines()]  # no date, pid


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = fresh_instance(tmp_path / "instance")
    return folder


@pytest.mark.parametrize(("spoil", "why"), [
    (lambda folder: (folder / SETTINGS_FILE).write_text('log_level = "LOUD"\n'),
     "setting log_level: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
    (lambda folder: (folder / SETTINGS_FILE).write_text("log_level = LOUD\n"),
     "cannot be read as TOML"),
    (lambda folder: (folder / "keys" / SEAL_FILE).write_text("not a key"),
     f"{SEAL_FILE}: the TOTP sealing key is corrupt or unusable"),
])
def test_bad_settings_or_keys_stop_gunicorn_before_it_listens_with_one_line(
        tmp_path: Path, instance: Path, spoil: Callable[[Path], object], why: str) -> None:
    spoil(instance)
    started, stopping, reason = gunicorn(tmp_path, workers=3)  # no worker, nothing listened
    assert started.startswith("[INFO] Starting gunicorn ")
    assert stopping == "[ERROR] Shutting down: Master"
    assert reason.startswith("[ERROR] Reason: ") and why in reason


def test_a_worker_that_cannot_load_loper_says_why_in_one_line(
        tmp_path: Path, instance: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    said = gunicorn(tmp_path, workers=1, BROKER_REGISTRY_URL=f"sqlite:///{empty}")
    loper, exited, *stopped = [line for line in said if line.startswith("[ERROR] ")]
    assert loper == f"[ERROR] the registry sqlite:///{empty} has no schema: run `broker init`"
    assert exited.endswith(f"exited with code {WORKER_BOOT_ERROR}.")
    assert stopped == ["[ERROR] Shutting down: Master", "[ERROR] Reason: Worker failed to boot."]
