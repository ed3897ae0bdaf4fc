"""Signed SAML metadata (an EntitiesDescriptor aggregate, or one EntityDescriptor answered by a
Metadata Query service): verified with a pinned certificate, then split per entity.

The registry (broker/registry/aggregate.py) hands over the bytes it fetched and the
certificate its [[metadata_sources]] entry pins, and gets back text and dates; the XML trees
and the signature check stay here, behind the hardened parser (xmlparse.py) and the
in-process xmlsec backend with its algorithm allow-list (crypto.py: no SHA-1).

A document is accepted only if all of this holds: well-formed XML without a DTD, the expected
root element with an enveloped signature over its ID that verifies with the certificate, a
validUntil that has not passed, a cacheDuration that is an xs:duration, and every
EntityDescriptor with an entityID, none twice. Anything else raises Refused saying why, as a
Message (broker/messages.py): the registry keeps it so, and a page says it in its language.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from broker.messages import Message, msg
from broker.saml.compat import SignatureError
from broker.saml.crypto import InProcessCrypto
from broker.saml.xmlparse import Element, NotXml, parse, to_text

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
Root = Literal["EntitiesDescriptor", "EntityDescriptor"]
"""EntitiesDescriptor: an aggregate; EntityDescriptor: one entity (an MDQ answer)."""
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
                       r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


class Refused(ValueError):
    """The document cannot be trusted or used; `message` says why (it reads after "the
    aggregate at URL", e.g. "is not signed; ..."; str(): in English)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.key)
        self.message = message

    def __str__(self) -> str:  # rendered when read, not when raised (the catalogue may load)
        return str(self.message)


@dataclass(frozen=True)
class Verified:
    """What a verified document holds."""

    entities: dict[str, str]
    """entityID -> that EntityDescriptor on its own, as XML text, in document order."""
    valid_until: datetime | None
    cache_duration: timedelta | None


def duration(text: str) -> timedelta:
    """An xs:duration such as PT6H or P1D (a year as 365 days, a month as 30)."""
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise Refused(msg("problem.bad_cache_duration", value=text[:40]))
    years, months, days, hours, minutes = (int(g or 0) for g in match.groups()[:5])
    seconds = float(match.group(6) or 0)
    return timedelta(days=365 * years + 30 * months + days, hours=hours, minutes=minutes,
                     seconds=seconds)


def timestamp(text: str) -> datetime:
    """An xs:dateTime; without a zone it is read as UTC (as SAML requires)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise Refused(msg("problem.bad_valid_until", value=text[:40])) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def valid_until(text: str | None, now: datetime) -> datetime | None:
    """A document's validUntil (`text`; None: it has none); Refused if it has passed."""
    until = timestamp(text) if text else None
    if until is not None and until <= now:
        raise Refused(msg("problem.expired", until=until.isoformat()))
    return until


def _check_signature(xml: bytes, certificate_pem: str, source: str, root: Root) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".pem", encoding="ascii") as cert:
        cert.write(certificate_pem)
        cert.flush()
        try:
            InProcessCrypto().validate_signature(xml, cert.name, "pem", f"{MD}:{root}", None)
        except SignatureError as exc:
            raise Refused(msg("problem.signature_not_verified", source=source,
                              detail=str(exc.__cause__ or exc))) from exc


def _not_xml(exc: NotXml) -> Message:
    """What the parser refused: not well-formed (the parser's own words as detail), or a DTD."""
    if exc.__cause__ is None:
        return msg("problem.signed_dtd")
    return msg("problem.signed_not_xml", detail=str(exc.__cause__))


def _entities(root: Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for entity in root.iter(f"{{{MD}}}EntityDescriptor"):
        entity_id = str(entity.get("entityID", "")).strip()
        if not entity_id:
            raise Refused(msg("problem.metadata_no_entity_id"))
        if entity_id in found:
            raise Refused(msg("problem.entity_twice", entity=entity_id))
        found[entity_id] = to_text(entity) + "\n"
    return found


def verify(xml: bytes, certificate_pem: str, *, source: str, now: datetime,
           root: Root = "EntitiesDescriptor") -> Verified:
    """The entities of `xml` if its `root` is signed with `certificate_pem` (the pinned
    certificate of metadata source `source`) and still valid at `now`; else Refused."""
    try:
        top = parse(xml)
    except NotXml as exc:
        raise Refused(_not_xml(exc)) from exc
    if top.tag != f"{{{MD}}}{root}":
        raise Refused(msg("problem.signed_root", tag=top.tag, root=root))
    if top.find(f"{{{DS}}}Signature") is None:
        raise Refused(msg("problem.not_signed", root=root))
    _check_signature(xml, certificate_pem, source, root)
    until = valid_until(top.get("validUntil"), now)
    entities = _entities(top)
    cache = top.get("cacheDuration")
    return Verified(entities, until, duration(cache) if cache else None)
