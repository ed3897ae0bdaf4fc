"""Signed SAML metadata aggregates for tests, signed with real RSA keys by the broker's own
in-process signing code (broker/saml/crypto.py)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from broker.saml.crypto import InProcessCrypto
from tests.certs import new_key, self_signed
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
    key = new_key()
    cert = self_signed(key, name, days=365)
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
