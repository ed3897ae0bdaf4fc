"""Loper's ID token signing keys: read once per process, published as a JWKS.

Each key's `kid` is its RFC 7638 thumbprint, so it never changes while the key does not. The
next keys (rollover) are published before they sign anything.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeyParameters, RSAKey

from broker.errors import ConfigError

ID_TOKEN_ALGS = ("RS256", "ES256")

SigningKey = RSAKey | ECKey


@functools.lru_cache(maxsize=16)
def _import(pem: bytes, alg: str) -> SigningKey:
    """Parse and check one PEM private key (cached by content: parsing RSA costs ~50 ms)."""
    params: KeyParameters = {"use": "sig", "alg": alg}
    key: SigningKey
    try:
        key = RSAKey.import_key(pem, params) if alg == "RS256" else ECKey.import_key(pem, params)
    except (JoseError, ValueError, TypeError) as exc:
        raise ConfigError(f"the OIDC {alg} signing key is not a usable PEM key ({exc})") from exc
    if not key.is_private:
        raise ConfigError(f"the OIDC {alg} signing key is a public key; a private key is needed")
    if isinstance(key, ECKey) and key.curve_name != "P-256":
        raise ConfigError(f"the OIDC ES256 signing key is on {key.curve_name}, not P-256")
    if isinstance(key, RSAKey) and key.raw_value.key_size < 2048:
        raise ConfigError("the OIDC RS256 signing key is shorter than 2048 bits")
    key.ensure_kid()
    return key


def load_key(path: Path, alg: str) -> SigningKey:
    if alg not in ID_TOKEN_ALGS:
        raise ConfigError(f"OIDC signing algorithm {alg!r} is not offered; use one of "
                          f"{', '.join(ID_TOKEN_ALGS)}")
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: the OIDC {alg} signing key cannot be read "
                          f"({exc.strerror}); run `broker init`") from exc
    try:
        return _import(pem, alg)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


class SigningKeys:
    """The current keys sign; current and next keys are published."""

    def __init__(self, current: Mapping[str, Path], upcoming: Mapping[str, Path]) -> None:
        if not current:
            raise ConfigError("the OpenID Provider needs at least one signing key")
        self._current = {alg: load_key(path, alg) for alg, path in current.items()}
        published: dict[str, SigningKey] = {}
        for key in [*self._current.values(),
                    *(load_key(path, alg) for alg, path in upcoming.items())]:
            published.setdefault(str(key.kid), key)
        self._public = [dict(key.as_dict(private=False)) for key in published.values()]

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(alg for alg in ID_TOKEN_ALGS if alg in self._current)

    def jwks(self) -> dict[str, object]:
        return {"keys": [dict(key) for key in self._public]}

    def key(self, alg: str) -> SigningKey:
        """The current key that signs with `alg`."""
        return self._current[alg]
