"""Pairwise identifiers; nothing else in Loper derives one.

anchor    = HMAC-SHA256(anchor key, school id | upstream subject): a person inside Loper,
            revealing nothing of the school's own id for them (aliases may redirect it).
pseudonym = "v<version>-" + base32(HMAC-SHA256(key_v, sector | anchor)), lowercase:
            per supplier sector, unlinkable across sectors (OIDC Core 8.1 pairwise).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from broker.keys import PseudonymKeys

_SEP = b"\x1f"  # unit separator: neither part can forge the boundary with the other


def _mac(key: bytes, *parts: str) -> bytes:
    return hmac.new(key, _SEP.join(p.encode("utf-8") for p in parts), hashlib.sha256).digest()


def anchor(keys: PseudonymKeys, school_id: str, subject: str) -> str:
    """The person's anchor before aliases are applied."""
    return _mac(keys.anchor, school_id, subject).hex()


def pseudonym(keys: PseudonymKeys, version: int, sector: str, person_anchor: str) -> str:
    """The supplier-facing identifier: stable per (key version, sector, anchor)."""
    try:
        key = keys.versions[version]
    except KeyError:
        raise KeyError(f"pseudonym key version {version} is not in the key file") from None
    digest = base64.b32encode(_mac(key, sector, person_anchor)).decode("ascii")
    return f"v{version}-{digest.rstrip('=').lower()}"
