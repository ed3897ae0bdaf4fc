"""Pairwise identifiers; nothing else in Loper derives one.

anchor    = HMAC-SHA256(anchor key, school id | upstream subject): a person inside Loper,
            revealing nothing of the school's own id for them (aliases may redirect it).
pseudonym = "v<version>-" + base32(HMAC-SHA256(key_v, sector | anchor)), lowercase:
            per supplier sector, unlinkable across sectors (OIDC Core 8.1 pairwise).
eck hash  = HMAC-SHA256(HMAC-SHA256(anchor key, "eck-id"), ECK iD): what Loper keeps of an
            ECK iD to link a pupil's schools (broker/linking.py); the ECK iD itself is never kept.
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


def eck_hash(keys: PseudonymKeys, eck_id: str) -> str:
    """The keyed hash of an ECK iD, with a key of its own derived from the anchor key (which
    is never rotated, so the hash of one ECK iD never changes)."""
    return _mac(_mac(keys.anchor, "eck-id"), eck_id).hex()
