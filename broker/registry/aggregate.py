"""A signed SAML metadata aggregate (an EntitiesDescriptor): verified, then split per entity.

A document is accepted only if all of this holds: at most MAX_BYTES, well-formed XML without a
DTD (the hardened parser), an EntitiesDescriptor with an ID at the root, its enveloped
signature over that ID verifying with the source's pinned certificate (the in-process xmlsec
backend of broker/saml/crypto.py, with its algorithm allow-list: no SHA-1), a validUntil that
has not passed, and no entity id twice. Anything else raises MetadataError saying why; the
caller keeps the last good copy.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree  # type: ignore[import-untyped]

from broker.registry.metadata import MD, MetadataError, as_text, parse

DS = "http://www.w3.org/2000/09/xmldsig#"
NODE = f"{MD}:EntitiesDescriptor"
"""The signed element, as pysaml2 (and so the in-process backend) names it."""
ENTITY_NODE = f"{MD}:EntityDescriptor"
"""The signed element of an MDQ answer (one entity)."""
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
                       r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


@dataclass(frozen=True)
class Aggregate:
    """A verified aggregate."""

    xml: str
    """The whole document as fetched (the last good copy to keep)."""
    entities: Mapping[str, str]
    """entityID -> that EntityDescriptor on its own, as XML text."""
    valid_until: datetime | None
    cache_duration: timedelta | None


def duration(text: str) -> timedelta:
    """An xs:duration such as PT6H or P1D (a year as 365 days, a month as 30)."""
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise MetadataError(f'has cacheDuration "{text[:40]}", which is not an xs:duration')
    years, months, days, hours, minutes = (int(g or 0) for g in match.groups()[:5])
    seconds = float(match.group(6) or 0)
    return timedelta(days=365 * years + 30 * months + days, hours=hours, minutes=minutes,
                     seconds=seconds)


def timestamp(text: str) -> datetime:
    """An xs:dateTime; without a zone it is read as UTC (as SAML requires)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise MetadataError(f'has validUntil "{text[:40]}", which is not an xs:dateTime') from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check_signature(xml: bytes, certificate_pem: str, source: str, node: str) -> None:
    from saml2.sigver import SignatureError

    from broker.saml.crypto import InProcessCrypto

    with tempfile.NamedTemporaryFile("w", suffix=".pem", encoding="ascii") as cert:
        cert.write(certificate_pem)
        cert.flush()
        try:
            InProcessCrypto().validate_signature(xml, cert.name, "pem", node, None)
        except SignatureError as exc:
            raise MetadataError(f"has a signature that does not verify with the certificate "
                                f'of source "{source}" ({exc.__cause__ or exc})') from exc


def _entities(root: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for entity in root.iter(f"{{{MD}}}EntityDescriptor"):
        entity_id = str(entity.get("entityID", "")).strip()
        if not entity_id:
            raise MetadataError("has an EntityDescriptor without entityID")
        if entity_id in found:
            raise MetadataError(f'has the entity "{entity_id}" twice; expected each entity once')
        found[entity_id] = etree.tostring(entity, encoding="unicode") + "\n"
    return found


def verify(xml: bytes, certificate_pem: str, *, source: str, now: datetime,
           node: str = NODE) -> Aggregate:
    """The aggregate if it is signed by `certificate_pem` and still valid; else MetadataError.

    node ENTITY_NODE: one signed EntityDescriptor (an MDQ answer) instead of an aggregate."""
    root = parse(xml)
    local = node.rpartition(":")[2]
    if root.tag != f"{{{MD}}}{local}":
        raise MetadataError(f"has the root element {root.tag}, not an {local}")
    if root.find(f"{{{DS}}}Signature") is None:
        raise MetadataError(f"is not signed; expected an enveloped signature on the {local}")
    _check_signature(xml, certificate_pem, source, node)
    until = root.get("validUntil")
    valid_until = timestamp(until) if until else None
    if valid_until is not None and valid_until <= now:
        raise MetadataError(f"expired: its validUntil {valid_until.isoformat()} has passed")
    cache = root.get("cacheDuration")
    return Aggregate(xml=as_text(xml), entities=_entities(root), valid_until=valid_until,
                     cache_duration=duration(cache) if cache else None)
