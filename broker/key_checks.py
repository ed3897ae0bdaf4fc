"""Checking every key Loper needs, at `broker init`, at start and on every /readyz: each is
read and parsed as it is used (a key and its certificate together); a missing or corrupt one
is a KeyProblem naming the file and what the operator can do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from broker.errors import ConfigError
from broker.keys import (
    PSEUDONYM_ADVICE,
    PSEUDONYM_FILE,
    SEAL_FILE,
    SECRET_FILE,
    oidc_key_paths,
    parse_pseudonym_keys,
    published_oidc_keys,
    saml_signing,
)


class KeyProblem(ConfigError):
    """A key Loper needs is missing or cannot be used. The message names the file and what to
    do; `reason` names the key without a path (what /readyz shows)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


RESTORE = "restore it from backup"
Parse = Callable[[tuple[bytes, ...]], object]
"""Reads a key from the contents of its files; ValueError (TypeError, UnsupportedAlgorithm)
says why it cannot."""


@dataclass(frozen=True)
class _Needed:
    """One key as Loper uses it: its files (a key and its certificate are checked together),
    how they are read, and what the operator can do when they cannot be."""

    what: str
    files: tuple[Path, ...]
    parse: Parse
    advice: str


def _private(data: bytes) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"a {type(key).__name__}, not an RSA or EC private key")
    return key


def _rsa(data: bytes, min_bits: int = 0) -> rsa.RSAPrivateKey:
    key = _private(data)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    if key.key_size < min_bits:
        raise ValueError(f"{key.key_size} bits, at least {min_bits} expected")
    return key


class _InFile(ValueError):
    """What is wrong lies in the key's file number `index` (0: the key, 1: its certificate)."""

    def __init__(self, index: int, detail: str) -> None:
        super().__init__(detail)
        self.index = index


def _saml_pair(data: tuple[bytes, ...]) -> object:
    key = _rsa(data[0])
    try:
        cert = x509.load_pem_x509_certificate(data[1])
    except ValueError as exc:
        raise _InFile(1, str(exc)) from exc
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise _InFile(1, "the certificate does not belong to the key")
    return key


def _oidc_rs256(data: tuple[bytes, ...]) -> object:
    return _rsa(data[0], min_bits=2048)


def _oidc_es256(data: tuple[bytes, ...]) -> object:
    key = _private(data[0])
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not an EC private key on P-256")
    return key


def _pseudonym(data: tuple[bytes, ...]) -> object:
    return parse_pseudonym_keys(data[0])


def _cookie(data: tuple[bytes, ...]) -> object:
    secret = data[0].decode("utf-8").strip()
    if len(secret) < 32:
        raise ValueError(f"{len(secret)} characters, at least 32 expected")
    return secret


def _seal(data: tuple[bytes, ...]) -> object:
    return Fernet(data[0].strip())


_OIDC: dict[str, Parse] = {"RS256": _oidc_rs256, "ES256": _oidc_es256}


def _needed(keys_dir: Path) -> list[_Needed]:
    """Every key Loper reads: the current ones and those it publishes beside them (the next
    SAML key; the next, else the previous OIDC keys)."""
    pair = saml_signing(keys_dir)
    trusted = (f"{RESTORE}: schools and suppliers trust it (without a backup, remove "
               f"{pair.key.name} and {pair.cert.name}, run `broker init` for a new pair and give "
               "schools and suppliers Loper's new metadata)")
    needed = [_Needed("SAML signing key", (pair.key, pair.cert), _saml_pair, trusted)]
    staged = saml_signing(keys_dir, "next")
    if staged.key.exists() or staged.cert.exists():
        needed.append(_Needed("next SAML signing key", (staged.key, staged.cert), _saml_pair,
                              f"{RESTORE}, or remove both files and run `broker keys next`"))
    needed += [_Needed(f"OIDC {alg} signing key", (path,), _OIDC[alg],
                       f"{RESTORE}: relying parties check ID tokens with it")
               for alg, path in oidc_key_paths(keys_dir).items()]
    needed += [_Needed(f"published OIDC {alg} key", (path,), _OIDC[alg],
                       f"{RESTORE}, or remove it")
               for alg, path in published_oidc_keys(keys_dir).items()]
    return [*needed,
            _Needed("pseudonym key", (keys_dir / PSEUDONYM_FILE,), _pseudonym, PSEUDONYM_ADVICE),
            _Needed("cookie secret", (keys_dir / SECRET_FILE,), _cookie,
                    f"{RESTORE}, or remove it and run `broker init` to make a new one (signed-in "
                    "admins then sign in again)"),
            _Needed("TOTP sealing key", (keys_dir / SEAL_FILE,), _seal,
                    f"{RESTORE}: without it no admin's second factor opens")]


@functools.lru_cache(maxsize=64)
def _unusable(parse: Parse, data: tuple[bytes, ...]) -> tuple[int, str] | None:
    """Which of a key's files cannot be used, with these contents, and why; None: all is well.
    Parsed once per content (an RSA key costs ~50 ms), so /readyz may ask on every probe."""
    try:
        parse(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        index = exc.index if isinstance(exc, _InFile) else 0
        return index, " ".join(str(exc).split()) or type(exc).__name__
    return None


def _contents(needed: _Needed, missing_ok: bool) -> tuple[bytes, ...] | None:
    """The contents of the key's files; None when all are missing and that is fine."""
    if missing_ok and not any(path.exists() for path in needed.files):
        return None
    data: list[bytes] = []
    for path in needed.files:
        try:
            data.append(path.read_bytes())
        except FileNotFoundError:
            if len(needed.files) > 1 and any(p.exists() for p in needed.files):
                raise KeyProblem(f"{path}: missing, so the {needed.what} is incomplete; "
                                 f"{needed.advice}", f"the {needed.what} is incomplete") from None
            raise KeyProblem(f"{path}: the {needed.what} is missing; run `broker init` (or "
                             f"{RESTORE} if this instance had one)",
                             f"the {needed.what} is missing") from None
        except OSError as exc:
            raise KeyProblem(f"{path}: the {needed.what} cannot be read ({exc.strerror}); fix "
                             "the permissions of the keys folder",
                             f"the {needed.what} cannot be read") from exc
    return tuple(data)


def check_keys(keys_dir: Path, *, missing_ok: bool = False) -> None:
    """Read and check every key Loper needs; KeyProblem names the first one that is missing
    (unless `missing_ok`: `broker init` is about to make it), incomplete or unusable, with what
    to do. The files are read each time (a few kilobytes), parsed only when their content is
    new."""
    for needed in _needed(keys_dir):
        data = _contents(needed, missing_ok)
        problem = _unusable(needed.parse, data) if data is not None else None
        if problem is not None:
            index, detail = problem
            raise KeyProblem(f"{needed.files[index]}: the {needed.what} is corrupt or unusable "
                             f"({detail}); {needed.advice}", f"the {needed.what} is corrupt")
