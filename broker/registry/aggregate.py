"""A signed SAML metadata aggregate (an EntitiesDescriptor): verified, then split per entity.

A document is accepted only if all of this holds: at most MAX_BYTES, well-formed XML without a
DTD, an EntitiesDescriptor with an ID at the root, its enveloped signature over that ID
verifying with the source's pinned certificate, a validUntil that has not passed, and no
entity id twice. The XML and the signature are broker/saml/aggregate.py's (the hardened parser
and the in-process xmlsec backend, with its algorithm allow-list: no SHA-1); this module keeps
what the registry stores. Anything wrong raises MetadataError saying why (its Message, as
broker/saml/aggregate.py said it); the caller keeps the last good copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from broker.registry.metadata import MetadataError, as_text, parse
from broker.saml import aggregate as signed
from broker.saml.aggregate import Root

NODE: Root = "EntitiesDescriptor"
"""The signed root of an aggregate."""
ENTITY_NODE: Root = "EntityDescriptor"
"""The signed root of an MDQ answer (one entity)."""


@dataclass(frozen=True)
class Aggregate:
    """A verified aggregate."""

    xml: str
    """The whole document as fetched (the last good copy to keep)."""
    entities: Mapping[str, str]
    """entityID -> that EntityDescriptor on its own, as XML text."""
    valid_until: datetime | None
    cache_duration: timedelta | None


@contextmanager
def _refusals() -> Iterator[None]:
    """signed.Refused inside, raised as MetadataError with the same Message."""
    try:
        yield
    except signed.Refused as exc:
        raise MetadataError(exc.message) from exc


def duration(text: str) -> timedelta:
    """An xs:duration such as PT6H or P1D (a year as 365 days, a month as 30)."""
    with _refusals():
        return signed.duration(text)


def valid_until(text: str | None, now: datetime) -> datetime | None:
    """A validUntil (`text`; None: there is none), read as an xs:dateTime (without a zone: UTC);
    MetadataError if it has passed."""
    with _refusals():
        return signed.valid_until(text, now)


def verify(xml: bytes, certificate_pem: str, *, source: str, now: datetime,
           node: Root = NODE) -> Aggregate:
    """The aggregate if it is signed by `certificate_pem` and still valid; else MetadataError.

    node ENTITY_NODE: one signed EntityDescriptor (an MDQ answer) instead of an aggregate."""
    parse(xml)  # the registry's own refusals first: size, DTD, well-formed
    with _refusals():
        found = signed.verify(xml, certificate_pem, source=source, now=now, root=node)
    return Aggregate(xml=as_text(xml), entities=found.entities, valid_until=found.valid_until,
                     cache_duration=found.cache_duration)
