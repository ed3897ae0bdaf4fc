"""The certificates in schools' and suppliers' SAML metadata that expire soon.

A school's or supplier's key rollover is theirs to do; the operator wants to see it coming
(or see that a metadata source has already brought the new key). Read from the metadata the
registry holds, so what is shown is what logins use.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509

from broker.records import School, Supplier
from broker.registry import metadata

DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class PeerCertificate:
    side: str
    """"school" or "supplier"."""
    id: str
    name: str
    subject: str
    not_after: datetime
    days_left: int


def _certificates(xml: str) -> list[x509.Certificate]:
    try:
        root = metadata.parse(xml.encode("utf-8"))
    except metadata.MetadataError:
        return []
    found: dict[bytes, x509.Certificate] = {}
    for element in root.iter(f"{{{DS}}}X509Certificate"):
        try:
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            found.setdefault(der, x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError):
            continue
    return list(found.values())


def expiring(side: str, records: Iterable[School | Supplier], now: datetime,
             days: int) -> list[PeerCertificate]:
    """The metadata certificates of `records` whose end is within `days` (or past), soonest
    first; records without SAML metadata have none."""
    found = []
    for record in records:
        xml = getattr(record.config, "metadata_xml", None)
        for cert in _certificates(xml) if isinstance(xml, str) else ():
            left = cert.not_valid_after_utc - now
            if left < timedelta(days=days):
                found.append(PeerCertificate(side, record.id, record.name,
                                             cert.subject.rfc4514_string(),
                                             cert.not_valid_after_utc, left.days))
    return sorted(found, key=lambda c: (c.not_after, c.side, c.id))
