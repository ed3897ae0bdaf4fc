"""Where the workers of one gunicorn keep their metrics files (prometheus_client's multiprocess
mode). config/gunicorn.conf.py asks here in the master, before any worker imports
prometheus_client, which reads PROMETHEUS_MULTIPROC_DIR once, at import.

Not in the instance folder: the files are memory-mapped, and a process that writes to a
memory-mapped file on a full disk is killed (SIGBUS). The instance's disk filling up must
cost a 503 page, never the workers. So the default is RAM (/dev/shm), in a folder of this
user's own, named after the instance; the systemd unit gives /run/loper/metrics instead.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
SHARED_MEMORY = Path("/dev/shm")


def default(instance: Path) -> Path:
    base = SHARED_MEMORY if SHARED_MEMORY.is_dir() else Path(tempfile.gettempdir())
    digest = hashlib.sha256(str(instance.resolve()).encode()).hexdigest()[:16]
    return base / f"loper-metrics-{os.getuid()}-{digest}"


def chosen(environ: Mapping[str, str]) -> Path:
    """PROMETHEUS_MULTIPROC_DIR when set, else the default for BROKER_INSTANCE."""
    if environ.get(ENV):
        return Path(environ[ENV])
    return default(Path(environ.get("BROKER_INSTANCE") or "instance"))


def prepare(folder: Path) -> None:
    """Create the folder (this user's alone) and empty it: a new start counts from zero.
    Refuses a folder that another user owns or that is a symbolic link."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) \
            or info.st_uid != os.getuid():
        raise RuntimeError(f"{folder} (for the metrics of the workers) is not a folder of "
                           "this user's own; remove it or set PROMETHEUS_MULTIPROC_DIR")
    folder.chmod(0o700)
    for stale in folder.glob("*.db"):
        stale.unlink()
