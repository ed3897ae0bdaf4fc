"""Keys and certificates for the in-process SAML backend, parsed once per process.

pysaml2 names keys by file: its own signing key by the configured path, a peer's metadata
certificate by a temporary file it writes just before each verification. A file whose path,
inode, size and mtime are unchanged is not read again; any other file is read (a certificate is
about a kilobyte) and its key is looked up by the SHA-256 of the content, so a metadata
certificate is parsed once however many temporary files pysaml2 writes it to.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_FORMATS = {
    "key": xmlsec.constants.KeyDataFormatPem,
    "pem": xmlsec.constants.KeyDataFormatCertPem,
    "der": xmlsec.constants.KeyDataFormatCertDer,
}
_FileId = tuple[str, str, int, int, int, int]


class KeyCache:
    """Bounded, thread-safe cache of xmlsec keys by file identity and by content hash."""

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._files: OrderedDict[_FileId, str] = OrderedDict()
        self._keys: OrderedDict[tuple[str, str], xmlsec.Key] = OrderedDict()
        self.reads = 0
        """Files read so far (a key file whose identity is unchanged is not read again)."""
        self.parsed = 0
        """Keys parsed so far (content already seen is not parsed again)."""

    def private_key(self, path: str) -> xmlsec.Key:
        """A PEM private key (RSA or EC) from a file."""
        return self._load(path, "key")

    def certificate(self, path: str, cert_type: str = "pem") -> xmlsec.Key:
        """The public key of a certificate file, cert_type 'pem' or 'der' as pysaml2 says."""
        if cert_type not in ("pem", "der"):
            raise ValueError(f"unsupported certificate type {cert_type!r}")
        return self._load(path, cert_type)

    def _load(self, path: str, kind: str) -> xmlsec.Key:
        if not isinstance(path, str) or not path:  # pysaml2 passes None when none is set
            raise ValueError(f"no key file given: {path!r}")
        st = os.stat(path)
        file_id: _FileId = (kind, path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            digest = self._files.get(file_id)
            key = self._keys.get((kind, digest)) if digest is not None else None
            if key is not None:
                self._files.move_to_end(file_id)
                return key
        with open(path, "rb") as handle:
            data = handle.read()
        self.reads += 1
        digest = hashlib.sha256(data).hexdigest()
        key = self._from_content(kind, digest, data)
        with self._lock:
            self._files[file_id] = digest
            self._trim(self._files)
        return key

    def _from_content(self, kind: str, digest: str, data: bytes) -> xmlsec.Key:
        with self._lock:
            key = self._keys.get((kind, digest))
            if key is not None:
                self._keys.move_to_end((kind, digest))
                return key
        key = xmlsec.Key.from_memory(data, _FORMATS[kind])
        with self._lock:
            self.parsed += 1
            self._keys[(kind, digest)] = key
            self._trim(self._keys)
        return key

    def _trim(self, entries: OrderedDict[Any, Any]) -> None:
        while len(entries) > self._size:
            entries.popitem(last=False)


KEYS = KeyCache()
"""The process-wide cache: every attached entity shares it."""


@functools.lru_cache(maxsize=512)
def certificate_key(cert_b64: str) -> xmlsec.Key:
    """The public key of a metadata X509Certificate (base64 DER), parsed once per process;
    ValueError if it is not a certificate.

    The key holds the public key alone, not the certificate: every signature context copies
    its key, and copying one that carries its X509 data costs about 25 us against 3 (a
    pinned key's certificate is never read: the contexts enable no key data)."""
    try:
        der = base64.b64decode("".join(cert_b64.split()), validate=True)
        public = x509.load_der_x509_certificate(der).public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return xmlsec.Key.from_memory(public, xmlsec.constants.KeyDataFormatDer, None)
    except (binascii.Error, ValueError, xmlsec.Error) as exc:
        raise ValueError(f"unusable certificate: {exc}") from exc
