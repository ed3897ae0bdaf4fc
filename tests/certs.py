"""The one maker of test keys and self-signed certificates, and of their PEM files."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
LOOPBACK = "127.0.0.1"


def new_key(curve: ec.EllipticCurve | None = None) -> PrivateKey:
    """RSA-2048, or an EC key on `curve`."""
    if curve is not None:
        return ec.generate_private_key(curve)
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed(key: PrivateKey, common_name: str, *, days: int = 30,
                loopback_ca: bool = False) -> x509.Certificate:
    """A certificate for `key`, valid from a day ago. loopback_ca: its own CA, for a TLS server
    on 127.0.0.1 (an IP SAN, and the name localhost), so a client can trust it as its CA
    bundle."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=days)))
    if loopback_ca:
        builder = (builder
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
                        x509.DNSName("localhost")]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  critical=False))
    return builder.sign(key, hashes.SHA256())


def cert_b64(cert: x509.Certificate) -> str:
    """The certificate's DER in base64, as in KeyInfo, metadata and x5c."""
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def write_pair(folder: Path, name: str, key: PrivateKey | None = None, *,
               loopback_ca: bool = False) -> tuple[Path, Path]:
    """A key (a fresh RSA-2048 one unless given) and its self-signed certificate, written as
    folder/name.key (PKCS#8) and folder/name.crt (PEM); returns (key path, cert path)."""
    key = key if key is not None else new_key()
    cert = self_signed(key, LOOPBACK if loopback_ca else name, loopback_ca=loopback_ca)
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
