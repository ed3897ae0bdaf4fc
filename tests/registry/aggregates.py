"""Signed SAML metadata aggregates for tests, signed with real RSA keys by the broker's own
in-process signing code (broker/saml/crypto.py)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree  # type: ignore[import-untyped]

from broker.saml.crypto import InProcessCrypto
from tests.registry.metadata_xml import MD

AGGREGATE_ID = "_entree-2026"


@dataclass(frozen=True)
class Signer:
    key: Path
    cert: Path

    @property
    def cert_pem(self) -> str:
        return self.cert.read_text()


@cache
def _pems(name: str) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


def signer(directory: Path, name: str) -> Signer:
    """An RSA key and its certificate (the same per name in this test run) in `directory`."""
    key, cert = _pems(name)
    (directory / f"{name}.key").write_bytes(key)
    (directory / f"{name}.pem").write_bytes(cert)
    return Signer(directory / f"{name}.key", directory / f"{name}.pem")


def _bare(entity: str) -> str:
    """An EntityDescriptor document without its XML declaration."""
    return entity.split("?>", 1)[1] if entity.startswith("<?xml") else entity


def aggregate(*entities: str, valid_for: datetime.timedelta | None = datetime.timedelta(days=7),
              cache_duration: str | None = None) -> str:
    """An unsigned EntitiesDescriptor holding `entities` (EntityDescriptor documents)."""
    attributes = f'ID="{AGGREGATE_ID}"'
    if valid_for is not None:
        until = datetime.datetime.now(datetime.UTC) + valid_for
        attributes += f' validUntil="{until.strftime("%Y-%m-%dT%H:%M:%SZ")}"'
    if cache_duration is not None:
        attributes += f' cacheDuration="{cache_duration}"'
    body = "\n".join(_bare(e).strip() for e in entities)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<md:EntitiesDescriptor xmlns:md="{MD}" {attributes} Name="urn:test:entree">\n'
            f"{body}\n</md:EntitiesDescriptor>\n")


def entity(document: str, *, valid_for: datetime.timedelta = datetime.timedelta(days=1)) -> str:
    """An EntityDescriptor document with an ID and a validUntil, ready to sign (an MDQ answer)."""
    until = (datetime.datetime.now(datetime.UTC) + valid_for).strftime("%Y-%m-%dT%H:%M:%SZ")
    return document.replace("<md:EntityDescriptor ",
                            f'<md:EntityDescriptor ID="{AGGREGATE_ID}" validUntil="{until}" ', 1)


def sign(document: str, by: Signer, *, sha1: bool = False) -> bytes:
    """The aggregate (or entity) with an enveloped signature over its root (RSA-SHA256, or
    RSA-SHA1)."""
    root = etree.fromstring(document.encode())
    method = xmlsec.constants.TransformRsaSha1 if sha1 else xmlsec.constants.TransformRsaSha256
    digest = xmlsec.constants.TransformSha1 if sha1 else xmlsec.constants.TransformSha256
    signature = xmlsec.template.create(root, xmlsec.constants.TransformExclC14N, method)
    root.insert(0, signature)
    reference = xmlsec.template.add_reference(signature, digest, uri=f"#{AGGREGATE_ID}")
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    node = f"{MD}:{etree.QName(root).localname}"
    signed = InProcessCrypto(allow_sha1=sha1).sign_statement(
        etree.tostring(root), node, str(by.key), AGGREGATE_ID)
    return signed.encode()
