"""The processes the bench starts: a private redis-server and Loper under gunicorn.

Both run on free loopback ports, in their own process group, and are stopped by `stop()` (and
by the context managers), also on errors and Ctrl-C. CPU time and memory are read from /proc.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "gunicorn.conf.py"


def free_port() -> int:
    """A loopback TCP port nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stop_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group this bench started, then SIGKILL what is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:  # workers that outlived their master
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if process.poll() is None:
        process.wait(timeout=timeout)


# -- /proc ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Usage:
    cpu_s: float
    """utime + stime + cutime + cstime (waited-for children, e.g. xmlsec1), in seconds."""
    rss_kb: int
    hwm_kb: int


def usage(pid: int) -> Usage:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    # fields[0] is field 3 (state): utime..cstime are fields 14..17
    ticks = sum(int(v) for v in fields[11:15])
    rss = hwm = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return Usage(ticks / CLOCK_TICKS, rss, hwm)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                found.extend(int(p) for p in f.read().split())
        except FileNotFoundError:
            continue
    return sorted(found)


# -- redis-server -----------------------------------------------------------------------------

class RedisServer:
    """One private redis-server on a free loopback port, without persistence."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host=HOST, port=self.port, socket_timeout=10)

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        for _ in range(3):  # a free port can be taken between the check and the bind
            self.port = free_port()
            log = self.folder / f"redis-{self.port}.log"
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", HOST, "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", str(self.folder),
                 "--logfile", str(log)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
            if self._wait():
                return
            self.stop()
        raise RuntimeError(f"redis-server did not start; see {self.folder}")

    def _wait(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5,
                                 socket_timeout=0.5)
            try:
                if client.info("server").get("process_id") == self.process.pid:
                    return True
            except redis.exceptions.RedisError:
                pass
            finally:
                client.close()
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.process is not None:
            process, self.process = self.process, None
            stop_group(process)


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    server = RedisServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- gunicorn ---------------------------------------------------------------------------------

class Gunicorn:
    """`gunicorn -c config/gunicorn.conf.py 'app:create_app()'`, as production serves Loper;
    `worker_class` overrides the configured worker model (e.g. "sync", to compare)."""

    def __init__(self, port: int, env: Mapping[str, str], log: Path, workers: int = 2,
                 wrapper: Sequence[str] = (), worker_class: str | None = None,
                 config: Path = CONFIG, tls: tuple[Path, Path] | None = None,
                 app: str = "app:create_app()", python: str = sys.executable,
                 health: str = "/healthz") -> None:
        """`wrapper`: a command that runs gunicorn's, e.g. in other namespaces (`unshare`);
        `tls`: (certificate, key) for gunicorn to terminate TLS itself; `app`, `python` and
        `health` serve another WSGI application (SATOSA, in its own virtual environment)."""
        self.port = port
        self.env = dict(env)
        self.log = log
        self.workers = workers
        self.wrapper = list(wrapper)
        self.worker_class = worker_class
        self.config = config
        self.tls = tls
        self.app = app
        self.python = python
        self.health = health
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        command = [*self.wrapper, self.python, "-m", "gunicorn", "--config", str(self.config),
                   "--workers", str(self.workers), "--no-control-socket",
                   "--bind", f"{HOST}:{self.port}", "--timeout", "120",
                   "--graceful-timeout", "5", self.app]
        if self.worker_class:  # gunicorn runs "sync" with threads > 1 as gthread
            threads = ["--threads", "1"] if self.worker_class == "sync" else []
            command[-1:-1] = ["--worker-class", self.worker_class, *threads]
        if self.tls:
            command[-1:-1] = ["--certfile", str(self.tls[0]), "--keyfile", str(self.tls[1])]
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        # the workers' metrics files beside the log, gone with the run's folder ("" in env:
        # config/gunicorn.conf.py's default, in /dev/shm)
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(self.log.with_name(self.log.stem
                                                                          + "-metrics")))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with open(self.log, "ab") as out:
            self.started = time.monotonic()
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_healthy(self, timeout: float = 120.0) -> float:
        """Seconds from start() to the first /healthz 200."""
        assert self.process is not None
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n"
                                   + self.log_tail())
            conn = self._connection()
            try:
                conn.request("GET", self.health)
                if conn.getresponse().status == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass  # not listening yet, or reset while its workers start
            finally:
                conn.close()
            time.sleep(0.01)
        raise RuntimeError("gunicorn did not serve /healthz in time:\n" + self.log_tail())

    def _connection(self) -> http.client.HTTPConnection:
        if not self.tls:
            return http.client.HTTPConnection(HOST, self.port, timeout=5)
        context = ssl.create_default_context(cafile=str(self.tls[0]))
        return http.client.HTTPSConnection(HOST, self.port, timeout=5, context=context)

    def wait_workers(self, timeout: float = 60.0) -> list[int]:
        """The worker pids, once all of them run."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = children(self.process.pid)
            if len(pids) == self.workers:
                return pids
            time.sleep(0.05)
        raise RuntimeError(f"expected {self.workers} gunicorn workers, found "
                           f"{children(self.process.pid)}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        return children(self.process.pid)

    def worker_usage(self) -> dict[int, Usage]:
        found = {}
        for pid in self.worker_pids():
            try:
                found[pid] = usage(pid)
            except FileNotFoundError:
                continue
        return found

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None:
            process, self.process = self.process, None
            stop_group(process)


@contextmanager
def gunicorn(port: int, env: Mapping[str, str], log: Path, workers: int = 2,
             wrapper: Sequence[str] = (), worker_class: str | None = None,
             tls: tuple[Path, Path] | None = None) -> Iterator[Gunicorn]:
    server = Gunicorn(port, env, log, workers, wrapper, worker_class, tls=tls)
    try:
        server.start()
        yield server
    finally:
        server.stop()
