from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from demo.keys import ensure_keypair


def test_makes_a_self_signed_rsa_2048_sha256_certificate_for_ten_years(tmp_path: Path) -> None:
    key_path, cert_path = ensure_keypair(tmp_path / "keys", "school")

    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert cert.public_key() == key.public_key()
    assert cert.issuer == cert.subject
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=3649) < lifetime <= timedelta(days=3651)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_reuses_an_existing_pair(tmp_path: Path) -> None:
    first = ensure_keypair(tmp_path, "sp")
    before = [p.read_bytes() for p in first]

    second = ensure_keypair(tmp_path, "sp")

    assert second == first
    assert [p.read_bytes() for p in second] == before
    assert ensure_keypair(tmp_path, "other")[1].read_bytes() != before[1]
