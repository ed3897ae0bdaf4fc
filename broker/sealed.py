"""Secrets the registry must be able to read back (admins' TOTP secrets), sealed at rest with
a key from the instance folder (Fernet: AES-128-CBC with HMAC-SHA256, from `cryptography`).

A copy of the database alone (a backup, a dump) then gives away no second factor.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:"
"""Marks a sealed value; older rows may hold a plain value until `broker init` seals them."""


class SealBroken(Exception):
    """A sealed value that this instance's key cannot open (another key, or tampered)."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The plain value; a value stored before sealing existed passes unchanged."""
        if not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SealBroken("a sealed secret does not open with this instance's key "
                             "(keys/totp-seal.key); restore the key from backup") from exc


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)
