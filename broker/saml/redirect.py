"""HTTP-Redirect binding signatures (SAML bindings 3.4.4.1).

The signature covers the query string exactly as the sender encoded it, so it is verified over
the raw query, never over values re-encoded here (encoders differ in case and in which
characters they escape). SHA-1 is refused. What Loper sends this way (an AuthnRequest to a
school, a logout message) is deflated, encoded and signed by signed_query().
"""

from __future__ import annotations

import base64
import binascii
import functools
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

_DSIG_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
SIGNATURE_ALGORITHMS: Mapping[str, type[hashes.HashAlgorithm]] = {
    _DSIG_MORE + "rsa-sha256": hashes.SHA256,
    _DSIG_MORE + "rsa-sha384": hashes.SHA384,
    _DSIG_MORE + "rsa-sha512": hashes.SHA512,
    _DSIG_MORE + "ecdsa-sha256": hashes.SHA256,
    _DSIG_MORE + "ecdsa-sha384": hashes.SHA384,
    _DSIG_MORE + "ecdsa-sha512": hashes.SHA512,
}
"""Accepted SigAlg values (and XML SignatureMethod algorithms) with their hash."""
RSA_SHA256 = _DSIG_MORE + "rsa-sha256"
_BASE64_QUOTED = str.maketrans({"+": "%2B", "/": "%2F", "=": "%3D"})
"""quote(value, safe="") of base64 text, in one pass: urllib's quote walks a deflated
AuthnRequest character by character in Python (0.2 ms of a login)."""


@functools.cache
def signing_key(path: Path) -> rsa.RSAPrivateKey:
    """Loper's RSA signing key from its PEM file, parsed once per process."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: the SAML signing key is not an RSA key")
    return key


def signed_query(key: rsa.RSAPrivateKey, param: str, message: bytes, relay_state: str) -> str:
    """`message` for the HTTP-Redirect binding: deflated, base64, under `param` (SAMLRequest or
    SAMLResponse), then RelayState (if any) and SigAlg, signed with RSA-SHA256 over the three
    exactly as encoded here, the Signature last."""
    compressor = zlib.compressobj(wbits=-15)
    deflated = compressor.compress(message) + compressor.flush()
    fields = [f"{param}={base64.b64encode(deflated).decode('ascii').translate(_BASE64_QUOTED)}"]
    if relay_state:
        fields.append(f"RelayState={quote(relay_state, safe='')}")
    fields.append(f"SigAlg={quote(RSA_SHA256, safe='')}")
    query = "&".join(fields)
    signature = key.sign(query.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    encoded = base64.b64encode(signature).decode("ascii").translate(_BASE64_QUOTED)
    return f"{query}&Signature={encoded}"


class SignatureRejected(Exception):
    """A signature is missing, malformed, of a refused algorithm (SHA-1) or invalid."""


def _raw_fields(raw_query: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        if name in fields:
            raise SignatureRejected(f"{name} appears twice in the query string")
        fields[name] = value
    return fields


def hash_for(algorithm: str) -> hashes.HashAlgorithm:
    """The hash of an accepted signature algorithm; SHA-1 and unknown ones are refused."""
    if algorithm.lower().endswith("sha1"):
        raise SignatureRejected("SHA-1 signatures are not accepted; sign with RSA-SHA256")
    if algorithm not in SIGNATURE_ALGORITHMS:
        raise SignatureRejected(f"unsupported signature algorithm {algorithm!r}")
    return SIGNATURE_ALGORITHMS[algorithm]()


def _verifies(cert: x509.Certificate, signature: bytes, data: bytes,
              hash_alg: hashes.HashAlgorithm) -> bool:
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_alg))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def verify_query(raw_query: str, message: str,
                 certificates: Iterable[x509.Certificate]) -> dict[str, str]:
    """Check the signature of a Redirect-binding query against the sender's certificates.

    `message` is "SAMLRequest" or "SAMLResponse". Returns the signed fields (the message,
    RelayState when present, SigAlg), URL-decoded: the only values to trust from this query.
    """
    raw = _raw_fields(raw_query)
    if not all(raw.get(name) for name in (message, "SigAlg", "Signature")):
        raise SignatureRejected(f"the query lacks {message}, SigAlg or Signature")
    hash_alg = hash_for(unquote_plus(raw["SigAlg"]))
    names = [name for name in (message, "RelayState", "SigAlg") if name in raw]
    try:
        signed = "&".join(f"{name}={raw[name]}" for name in names).encode("ascii")
        signature = base64.b64decode(unquote_plus(raw["Signature"]), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise SignatureRejected("the query's signature is malformed") from exc
    if not any(_verifies(cert, signature, signed, hash_alg) for cert in certificates):
        raise SignatureRejected("the signature does not match the sender's certificates")
    return {name: unquote_plus(raw[name]) for name in names}
