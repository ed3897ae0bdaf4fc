"""The instance's key material: SAML signing keys, OIDC signing keys, the pseudonym keys, the
cookie secret and the key that seals admins' TOTP secrets. Created once by `broker init`, never
regenerated silently: a new pseudonym key would change every pupil's pseudonym at every
supplier.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from broker.errors import ConfigError
from broker.jsonvalue import loads_object

PSEUDONYM_FILE = "pseudonym.json"
SECRET_FILE = "cookie-secret"
SEAL_FILE = "totp-seal.key"
STAGES = {"current": "", "next": "-next", "previous": "-previous"}
"""Signing keys roll over in stages: `next` is published before it signs; after `promote`,
the old key stays published as `previous` until what it signed has expired."""


@dataclass(frozen=True)
class KeyPair:
    key: Path
    cert: Path


@dataclass(frozen=True)
class PseudonymKeys:
    anchor: bytes
    """Derives anchors; never rotated (an anchor is a person's identity inside Loper)."""
    versions: dict[int, bytes]
    current: int


def _write_private(path: Path, data: bytes) -> None:
    """Create a file readable by the owner only; refuse to overwrite an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def self_signed(key: rsa.RSAPrivateKey, common_name: str, years: int = 10) -> bytes:
    """A self-signed SHA-256 certificate (PEM) for `key`, valid from a day ago for `years`."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def private_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    """`key` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def saml_signing(keys_dir: Path, which: str = "current") -> KeyPair:
    stem = "saml-signing" + STAGES[which]
    return KeyPair(keys_dir / f"{stem}.key", keys_dir / f"{stem}.crt")


def ensure_saml_keypair(keys_dir: Path, common_name: str, which: str = "current") -> bool:
    pair = saml_signing(keys_dir, which)
    if pair.key.exists():
        return False
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_private(pair.key, private_pem(key))
    pair.cert.write_bytes(self_signed(key, common_name))
    return True


def oidc_key_paths(keys_dir: Path, which: str = "current") -> dict[str, Path]:
    suffix = STAGES[which]
    return {"RS256": keys_dir / f"oidc-rs256{suffix}.key",
            "ES256": keys_dir / f"oidc-es256{suffix}.key"}


def published_oidc_keys(keys_dir: Path) -> dict[str, Path]:
    """Keys published in the JWKS besides the current ones: the next, else the previous."""
    for which in ("next", "previous"):
        found = {alg: p for alg, p in oidc_key_paths(keys_dir, which).items() if p.exists()}
        if found:
            return found
    return {}


def staged_saml_signing(keys_dir: Path) -> KeyPair | None:
    """The SAML key published beside the current one (the next), if there is one."""
    pair = saml_signing(keys_dir, "next")
    return pair if pair.key.exists() else None


def _stage_files(keys_dir: Path, which: str) -> list[Path]:
    pair = saml_signing(keys_dir, which)
    return [pair.key, pair.cert, *oidc_key_paths(keys_dir, which).values()]


def promote_next(keys_dir: Path) -> None:
    """next -> current -> previous, file by file; refuses when no complete next set exists."""
    staged = _stage_files(keys_dir, "next")
    missing = [p.name for p in staged if not p.exists()]
    if missing:
        raise ConfigError(f"no complete next key set to promote (missing {', '.join(missing)}); "
                          "run `broker keys next` first and publish it for a while")
    for nxt, cur, prev in zip(staged, _stage_files(keys_dir, "current"),
                              _stage_files(keys_dir, "previous"), strict=True):
        if cur.exists():
            os.replace(cur, prev)
        os.replace(nxt, cur)


def ensure_oidc_keys(keys_dir: Path, which: str = "current") -> bool:
    created = False
    for alg, path in oidc_key_paths(keys_dir, which).items():
        if path.exists():
            continue
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg == "RS256"
            else ec.generate_private_key(ec.SECP256R1()))
        _write_private(path, private_pem(key))
        created = True
    return created


def ensure_pseudonym_keys(keys_dir: Path) -> bool:
    path = keys_dir / PSEUDONYM_FILE
    if path.exists():
        load_pseudonym_keys(keys_dir)  # refuse to go on with a corrupt file
        return False
    doc = {"anchor": secrets.token_hex(32), "current": 1, "keys": {"1": secrets.token_hex(32)}}
    _write_private(path, json.dumps(doc, indent=2).encode() + b"\n")
    return True


def ensure_cookie_secret(keys_dir: Path) -> bool:
    path = keys_dir / SECRET_FILE
    if path.exists():
        return False
    _write_private(path, secrets.token_hex(32).encode())
    return True


def cookie_secret(keys_dir: Path) -> str:
    try:
        return (keys_dir / SECRET_FILE).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{keys_dir / SECRET_FILE}: cannot be read ({exc.strerror}); "
                          "run `broker init`") from exc


def ensure_seal_key(keys_dir: Path) -> bool:
    """The Fernet key sealing TOTP secrets in the registry (broker/sealed.py)."""
    if (keys_dir / SEAL_FILE).exists():
        return False
    try:
        _write_private(keys_dir / SEAL_FILE, Fernet.generate_key())
    except FileExistsError:
        return False  # another process made it just now
    return True


def seal_key(keys_dir: Path) -> bytes:
    """The sealing key, created (0600) on first use. Losing it loses every admin's second
    factor (`broker admin password EMAIL --clear-totp` lets them enrol again)."""
    path = keys_dir / SEAL_FILE
    try:
        ensure_seal_key(keys_dir)
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read or created ({exc.strerror}); run "
                          "`broker init`, or fix the permissions of the keys folder") from exc


def _hex_key(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a hex string")
    try:
        key = bytes.fromhex(value)
    except ValueError as exc:
        raise ValueError(f"{where}: not valid hex") from exc
    if len(key) < 32:
        raise ValueError(f"{where}: too short ({len(key)} bytes; at least 32 expected)")
    return key


PSEUDONYM_ADVICE = "restore it from backup: a new key would change every pseudonym"


def load_pseudonym_keys(keys_dir: Path) -> PseudonymKeys:
    path = keys_dir / PSEUDONYM_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: the pseudonym key is missing; run `broker init` "
                          "(or restore the file from backup if this instance had one)") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: the pseudonym key file cannot be read ({exc.strerror}); "
                          "fix the permissions of the keys folder") from exc
    try:
        return parse_pseudonym_keys(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: the pseudonym key is corrupt or unusable ({exc}); "
                          f"{PSEUDONYM_ADVICE}") from exc


def parse_pseudonym_keys(data: bytes) -> PseudonymKeys:
    """The pseudonym keys in a pseudonym.json; ValueError says what is wrong with it."""
    doc = loads_object(data.decode("utf-8"))  # UnicodeDecodeError, JSONDecodeError: ValueErrors
    keys = doc.get("keys") if doc is not None else None
    if doc is None or not isinstance(keys, dict):
        raise ValueError('expected {"anchor", "current", "keys"}')
    versions: dict[int, bytes] = {}
    for version, value in keys.items():
        if not version.isdigit():
            raise ValueError(f"key version {version!r} is not a whole number")
        versions[int(version)] = _hex_key(value, f"keys.{version}")
    current = doc.get("current")
    if not isinstance(current, int) or current not in versions:
        raise ValueError(f"current={current!r} names no key in keys")
    return PseudonymKeys(_hex_key(doc.get("anchor"), "anchor"), versions, current)
