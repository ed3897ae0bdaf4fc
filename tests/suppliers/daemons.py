"""Supplier software as child processes on loopback, for the tests.

Each daemon runs in a session of its own (apache2 in the foreground signals its whole process
group when it stops; it must never reach the test runner), as an unprivileged service user when
the tests run as root (apache2 refuses to serve as root, and shibd's socket must be reachable
by apache2's children), and is stopped by its process group. Its output goes to a log file whose
tail is shown when it fails to start.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.fixtures.redis_server import free_port

__all__ = ["Daemon", "free_port", "hand_over", "running", "version", "workspace"]

SERVICE_USER = "www-data"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HOST = "127.0.0.1"


def _service_user() -> pwd.struct_passwd | None:
    """Whom daemons run as: the service user when we are root, else ourselves (None)."""
    return pwd.getpwnam(SERVICE_USER) if os.geteuid() == 0 else None


@contextmanager
def workspace(prefix: str) -> Iterator[Path]:
    """A private folder for one piece of software; outside pytest's own (root-only) tree so
    that the service user can reach it. Removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"loper-{prefix}-") as tmp:
        yield Path(tmp)


def hand_over(folder: Path) -> None:
    """Give `folder` and everything in it to the service user (when we are root)."""
    user = _service_user()
    if user is None:
        return
    for path in (folder, *folder.rglob("*")):
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)


class Daemon:
    """One program started in its own session; `stop` ends its whole process group."""

    def __init__(self, name: str, command: Sequence[str], log: Path, *,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 logs: Sequence[Path] = ()) -> None:
        self.name = name
        self.command = list(command)
        self.log = log
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.logs = tuple(logs)
        """Further log files (the program's own) shown when it fails."""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if shutil.which(self.command[0]) is None:
            pytest.fail(f"{self.name}: {self.command[0]} is not installed; `make test-deps` "
                        "(.ci/system-deps test) installs the supplier software",
                        pytrace=False)
        user = _service_user()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=self.env, cwd=self.cwd, start_new_session=True,
                user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                extra_groups=[] if user else None)

    def wait_for(self, url: str, ready: int | None = None) -> None:
        """Wait until `url` answers (with status `ready`, if given) or the daemon dies."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            try:
                status = requests.get(url, timeout=2, allow_redirects=False).status_code
            except requests.ConnectionError:
                status = None
            if status is not None and (ready is None or status == ready):
                return
            time.sleep(0.05)
        self.fail(f"did not answer at {url}")

    def wait_for_file(self, path: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and not path.exists():
            if self.process is None or self.process.poll() is not None:
                break
            time.sleep(0.05)
        if not path.exists():
            self.fail(f"did not create {path}")

    def fail(self, what: str) -> None:
        tails = [f"--- {log}\n{tail(log)}" for log in (self.log, *self.logs)]
        self.stop()
        pytest.fail(f"{self.name} {what}:\n" + "\n".join(tails), pytrace=False)

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)


def version(package: str) -> str:
    """The installed version of a Debian package, upstream part only ("0.18.1")."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], check=True,
                         capture_output=True, text=True).stdout
    return out.split(":")[-1].split("-")[0].split("+")[0]


def tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"


@contextmanager
def running(daemon: Daemon) -> Iterator[Daemon]:
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
