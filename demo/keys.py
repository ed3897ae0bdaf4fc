"""Self-signed RSA key pairs for the demo peers, made once and reused afterwards."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from broker.keys import private_pem, self_signed


def ensure_keypair(folder: Path, name: str) -> tuple[Path, Path]:
    """Return (key, cert) PEM files `<name>.key` / `<name>.crt` in `folder`, creating them once.

    RSA-2048, a self-signed SHA-256 certificate valid for 10 years. Safe against several
    processes asking at once (a lock file), and never replaces an existing pair.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    with locked(folder, name):
        if not (key_path.exists() and cert_path.exists()):
            key_pem, cert_pem = _new_keypair(name)
            _write(cert_path, cert_pem, 0o644)
            _write(key_path, key_pem, 0o600)
    return key_path, cert_path


@contextmanager
def locked(folder: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock (across processes) on `name` in `folder`."""
    with open(folder / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _new_keypair(common_name: str) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private_pem(key), self_signed(key, common_name)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write atomically: a reader sees the whole file or none."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
