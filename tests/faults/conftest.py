"""Loper under gunicorn, as production serves it, with storage that a test can take away.

Real processes only: gunicorn (2 workers of config/gunicorn.conf.py, bench/procs.py's helper)
on a free loopback port, Redis and PostgreSQL from tests/fixtures, a disk that really fills
up (SmallDisk); every one in a session of its own and stopped at the end of the test, also
when it fails.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import requests

from bench.procs import Gunicorn, free_port, gunicorn
from broker.instance import initialise
from broker.registry import Registry, load_federation
from broker.settings import load_settings
from tests.fixtures.redis_ha import SentinelSetup

BOUND = 60.0
"""Seconds to wait for something that normally takes one (a start, a respawn): a bound on a
wait that cannot end otherwise, never an assertion about speed."""

FEDERATION = """
[[suppliers]]
id = "rekenapp"
name = "Rekenapp"
protocol = "oidc"
client_id = "rekenapp"
client_secret = "not-used-in-these-tests"
redirect_uris = ["https://rekenapp.example/callback"]
"""
AUTHORIZE = {"client_id": "rekenapp", "redirect_uri": "https://rekenapp.example/callback",
             "response_type": "code", "scope": "openid", "state": "s1", "nonce": "n1",
             "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cQ",
             "code_challenge_method": "S256"}


def make_instance(folder: Path, federation_toml: str = FEDERATION,
                  **settings: str) -> dict[str, str]:
    """`broker init` and `broker federation import` (by default one OIDC supplier); the
    environment a gunicorn serving this instance needs, on a free port."""
    env = {"BROKER_INSTANCE": str(folder),
           "BROKER_BASE_URL": f"http://127.0.0.1:{free_port()}",
           **{f"BROKER_{name.upper()}": value for name, value in settings.items()}}
    loaded = load_settings(environ=env)
    for _ in initialise(loaded):
        pass
    federation = folder / "federation.toml"
    federation.write_text(federation_toml, encoding="utf-8")
    registry = Registry(loaded.registry_url)
    try:
        registry.import_federation(load_federation(federation), key_version=1)
    finally:
        registry.close()
    return env


def demoted_now(setup: SentinelSetup) -> None:
    """Once a test has seen what it needs while the old master still takes writes after a
    failover: the Sentinel turns the old master into a replica at once, then wait until it
    follows the new one. By itself a Sentinel does that some ten seconds after the failover (it
    asks a server for its role every 10 s and acts 8 s after the role changed); SENTINEL DEBUG,
    Redis's own setting for its tests, makes that every half second and 2 s."""
    setup.sentinel.command("DEBUG", "info-period", "500", "publish-period", "500")
    setup.demoted()


def assert_loper_503(response: requests.Response) -> None:
    """Loper's own page for storage that is down: never gunicorn's bare 500."""
    assert response.status_code == 503, response.text
    assert 'class="error-id"' in response.text, response.text
    assert 'data-error-code="service_unavailable"' in response.text
    assert "Internal Server Error" not in response.text


def wait_for(what: str, done: Callable[[], bool], bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


@dataclass
class Loper:
    """A running Loper, seen from outside: HTTP requests, the gunicorn master and workers."""

    server: Gunicorn
    http: requests.Session

    def get(self, path_or_url: str) -> requests.Response:
        url = path_or_url if "://" in path_or_url else self.server.base_url + path_or_url
        return self.http.get(url, allow_redirects=False, timeout=30)

    def login_start(self) -> requests.Response:
        """What a pupil's browser does when an app sends it to log in: the authorization
        request, then the school picker it leads to (200 when Loper serves)."""
        started = self.get("/oidc/authorize?" + urlencode(AUTHORIZE))
        if started.status_code != 303:
            return started
        return self.get(started.headers["Location"])

    def serves(self) -> bool:
        return (self.get("/healthz").status_code == 200
                and self.login_start().status_code == 200)

    def master_alive(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None

    def wait(self, what: str, done: Callable[[], bool]) -> None:
        """Wait until `done()`; fail at once, with gunicorn's log, if the master exits."""
        def alive_and_done() -> bool:
            assert self.master_alive(), "the gunicorn master exited:\n" + self.server.log_tail()
            return done()

        wait_for(what, alive_and_done)

    def kill_worker(self) -> int:
        """kill -9 one worker; the pid of the worker gunicorn starts in its place."""
        workers = self.server.wait_workers(BOUND)
        os.kill(workers[0], signal.SIGKILL)

        def respawned() -> bool:
            now = self.server.worker_pids()
            return len(now) == len(workers) and workers[0] not in now

        self.wait("gunicorn to start a new worker", respawned)
        (new,) = set(self.server.worker_pids()) - set(workers)
        return new

    def log_count(self, text: str) -> int:
        return self.server.log.read_text(errors="replace").count(text)


@contextmanager
def running_loper(env: dict[str, str], log: Path, wrapper: Sequence[str] = (),
                  healthy: bool = True, worker_class: str | None = None) -> Iterator[Loper]:
    """gunicorn 'app:create_app()' with 2 workers (config/gunicorn.conf.py, or its settings with
    `worker_class`); when yielded its workers run and /healthz answers (with 200 unless
    `healthy` is False)."""
    port = int(env["BROKER_BASE_URL"].rsplit(":", 1)[1])
    with gunicorn(port, env, log, workers=2, wrapper=wrapper,
                  worker_class=worker_class) as server, \
            requests.Session() as http:
        loper = Loper(server, http)
        if healthy:
            server.wait_healthy(BOUND)
        else:
            loper.wait("/healthz to answer", lambda: _answers(loper, "/healthz"))
        server.wait_workers(BOUND)
        yield loper


def _answers(loper: Loper, path: str) -> bool:
    try:
        loper.get(path)
    except requests.ConnectionError:
        return False
    return True


@dataclass(frozen=True)
class SmallDisk:
    """A small tmpfs over `mountpoint`, seen only by the gunicorn started with `wrapper()`:
    a mount namespace of its own (in a user namespace, so no root is needed), gone with its
    last process. A real disk that fills up (ENOSPC), with Loper's instance on it."""

    mountpoint: Path
    seed: Path
    """An instance folder (made by make_instance) copied onto the disk before gunicorn runs."""
    size: str = "2m"

    @property
    def instance(self) -> Path:
        return self.mountpoint / "instance"

    def wrapper(self, full: bool = False) -> list[str]:
        unshare = shutil.which("unshare") or "/usr/bin/unshare"
        fill = 'cat /dev/zero > "$0/filler" 2>/dev/null; ' if full else ""
        script = (f'mount -t tmpfs -o size={self.size} loper-small-disk "$0" && '
                  f'cp -a "{self.seed}" "$0/instance" && {fill}exec "$@"')
        return [unshare, "--user", "--map-root-user", "--mount", "--propagation", "private",
                "sh", "-c", script, str(self.mountpoint)]

    def seen_by(self, loper: Loper) -> Path:
        """The disk's folder as the gunicorn master sees it (its mount namespace)."""
        assert loper.server.process is not None
        return Path(f"/proc/{loper.server.process.pid}/root") / self.mountpoint.relative_to("/")

    def fill(self, loper: Loper) -> None:
        fd = os.open(self.seen_by(loper) / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)

    def free(self, loper: Loper) -> None:
        (self.seen_by(loper) / "filler").unlink()
