"""Reading SAML metadata named in a federation file: fetch or read it, check it, find its entity id.

Only what the registry needs: the entity id and that the entity plays the expected role
(a school is an IdP, a supplier an SP). The SAML adapters read the rest with pysaml2.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

from broker.messages import Message, msg
from broker.outbound import addresses
from broker.outbound.errors import OutboundError, OutboundTooLarge
from broker.outbound.fetch import Fetcher
from broker.registry.checks import Entry, url_problem
from broker.registry.config_fields import ConfigFields, non_default

MAX_BYTES = 5 * 1024 * 1024
ACCEPT = "application/samlmetadata+xml, application/xml, text/xml"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
Role = Literal["idp", "sp"]
_DESCRIPTOR = {"idp": "IDPSSODescriptor", "sp": "SPSSODescriptor"}
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_EXPECTED = {"idp": msg("problem.expect_idp_metadata"), "sp": msg("problem.expect_sp_metadata")}
FIELDS = frozenset({"metadata", "metadata_xml", "entity_id", "metadata_source"})
"""The federation-file fields `from_entry` reads."""
Lookup = Callable[[str], str]
"""entity id -> its metadata in a source; MetadataError says why there is none."""
_SOURCES: ContextVar[Mapping[str, Lookup | None]] = ContextVar("metadata_sources")


class MetadataError(ValueError):
    """The metadata cannot be used; `message` says why, a catalogue key with its values, so
    that a page says it in its reader's language (str(): in English)."""

    def __init__(self, message: Message, *, address_kind: str = "",
                 reached: bool = True) -> None:
        self.message = message
        self.address_kind = address_kind
        """Not fetched because the host resolves to an address it may not be fetched from
        (a `public_only` fetch): that address's kind ("loopback", "private"...:
        addresses.AddressRefused.kind); "" for any other reason."""
        self.reached = reached
        """False: the server gave no answer at all (not reached in time, refused, or not to
        be asked), so another URL on it would fare no better."""
        super().__init__(str(self.message))

    @property
    def reasons(self) -> tuple[Message, ...]:
        """Every reason, for the registry to keep (one, unless a subclass gathers several)."""
        return (self.message,)


_FETCHER = Fetcher(max_bytes=MAX_BYTES, failure_ttl=0)
"""An import reads each URL once: nothing to gain from remembering a host that timed out."""


def fetch(url: str, *, public_only: bool = False) -> bytes:
    """GET metadata from an https URL (http only on loopback), at most MAX_BYTES, within
    the outbound deadline (the outbound_timeout setting on the command line). `public_only`:
    every address of the host must be public, and the call goes to the one checked
    (broker/outbound/addresses.py), the lookup within the same deadline; a refused address
    is MetadataError.address_kind."""
    wrong = url_problem(url)
    if wrong:
        raise MetadataError(wrong)
    try:
        answer = _FETCHER.get(url, accept=ACCEPT, public_only=public_only)
    except OutboundTooLarge as exc:
        raise MetadataError(msg("problem.too_large", what=url[:200],
                                mb=MAX_BYTES // (1024 * 1024))) from exc
    except OutboundError as exc:
        kind = exc.kind if isinstance(exc, addresses.AddressRefused) else ""
        raise MetadataError(msg("problem.cannot_fetch", url=url[:200], detail=exc.reason),
                            address_kind=kind, reached=False) from exc
    if answer.location:
        raise MetadataError(msg("problem.fetch_redirect", url=url[:200],
                                location=answer.location[:200]))
    if answer.status != 200:
        raise MetadataError(msg("problem.fetch_status", url=url[:200], status=answer.status))
    return answer.body


def read(reference: str, base_dir: Path) -> bytes:
    """Metadata from an https URL or a path relative to `base_dir` (the federation file's)."""
    if "://" in reference:
        return fetch(reference)
    path = base_dir / reference
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MetadataError(msg("problem.too_large", what=str(path),
                                    mb=MAX_BYTES // (1024 * 1024)))
        return path.read_bytes()
    except OSError as exc:
        raise MetadataError(msg("problem.cannot_read", path=str(path),
                                detail=str(exc.strerror or exc))) from exc


def as_text(xml: bytes) -> str:
    """The metadata as text to store: UTF-8, line ends normalised as XML itself does."""
    try:
        text = xml.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError(msg("problem.metadata_not_utf8")) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(xml: bytes) -> ET.Element:
    """The document's root: at most MAX_BYTES, no DTD (refused before parsing), read with the
    standard library (no lxml outside broker/saml: docs/architecture.md). For reading text and
    attributes only; signatures are checked on the bytes, by broker/saml/aggregate.py."""
    if len(xml) > MAX_BYTES:
        raise MetadataError(msg("problem.metadata_too_large", mb=MAX_BYTES // (1024 * 1024)))
    if _DTD.search(xml):
        raise MetadataError(msg("problem.metadata_doctype"))
    try:
        root = ET.fromstring(xml)  # no DTD (refused above), so no entities
    except (ET.ParseError, ValueError) as exc:  # ValueError: an encoding expat cannot read
        raise MetadataError(msg("problem.metadata_not_xml", detail=str(exc)[:200])) from exc
    return root


def entity(xml: bytes) -> tuple[ET.Element, str]:
    """The root of a document that is one EntityDescriptor, and its entityID."""
    root = parse(xml)
    if root.tag != f"{{{MD}}}EntityDescriptor":
        raise MetadataError(msg("problem.metadata_root", tag=root.tag[:200]))
    found = str(root.get("entityID", "")).strip()
    if not found:
        raise MetadataError(msg("problem.metadata_no_entity_id"))
    return root, found


def entity_id(xml: bytes, role: Role) -> str:
    """The entityID of an EntityDescriptor that has the descriptor for `role`."""
    return plays(*entity(xml), role)


def plays(root: ET.Element, name: str, role: Role) -> str:
    """`name` (its entityID) if the EntityDescriptor `root` has the descriptor for `role`."""
    descriptor = _DESCRIPTOR[role]
    if root.find(f"{{{MD}}}{descriptor}") is None:
        raise MetadataError(msg("problem.metadata_no_descriptor", entity=name[:200],
                                descriptor=descriptor))
    return name


class Found(NamedTuple):
    xml: str
    entity_id: str
    source: str | None = None
    """The [[metadata_sources]] id the metadata came from (None: from the entry itself)."""


@contextmanager
def sources(lookups: Mapping[str, Lookup | None]) -> Iterator[None]:
    """Inside the block, `from_entry` finds `metadata_source = ID` entries with `lookups`:
    source id -> its Lookup, or None for a source that could not be read (its own problem is
    reported on the source)."""
    token = _SOURCES.set(lookups)
    try:
        yield
    finally:
        _SOURCES.reset(token)


def _from_source(entry: Entry, role: Role) -> Found | None:
    source = entry.text("metadata_source", msg("problem.expect_source"))
    wanted = entry.text("entity_id", msg("problem.expect_entity_id"), required=True)
    if "metadata" in entry.table or "metadata_xml" in entry.table:
        entry.problem("metadata_source", msg("problem.source_and_metadata"))
        return None
    known = _SOURCES.get({})
    if source is not None and source not in known:
        entry.problem("metadata_source", msg("problem.unknown_source", source=source[:80]))
        return None
    find = known.get(source) if source is not None else None
    if find is None or wanted is None:
        return None
    try:
        xml = find(wanted)
    except MetadataError as exc:
        entry.problem("entity_id", exc.message)
        return None
    try:
        return Found(xml, entity_id(xml.encode(), role), source)
    except MetadataError as exc:
        entry.problem("entity_id", msg("problem.source_metadata", source=str(source),
                                       problem=exc.message, expected=_EXPECTED[role]))
        return None


def from_entry(entry: Entry, base_dir: Path, role: Role) -> Found | None:
    """The metadata and its entity id from `metadata` (path or URL), `metadata_xml` (inline)
    or `entity_id` in `metadata_source` (see `sources`)."""
    if "metadata_source" in entry.table:
        return _from_source(entry, role)
    if "entity_id" in entry.table:
        entry.problem("entity_id", msg("problem.entity_id_without_source"))
        return None
    where = msg("problem.expect_metadata")
    reference = entry.text("metadata", where)
    inline = entry.text("metadata_xml", _EXPECTED[role])
    if reference is not None and inline is not None:
        entry.problem("metadata", msg("problem.one_of_two", other="metadata_xml"))
        return None
    field = "metadata" if inline is None else "metadata_xml"
    if reference is None and inline is None:
        if "metadata" not in entry.table and "metadata_xml" not in entry.table:
            entry.problem("metadata", msg("problem.missing", expected=where))
        return None
    wrong = url_problem(reference) if reference and "://" in reference else None
    if wrong:
        entry.problem(field, wrong)
        return None
    try:
        xml = inline.encode() if inline is not None else read(str(reference), base_dir)
    except MetadataError as exc:
        entry.problem(field, msg("problem.and_expected", problem=exc.message, expected=where))
        return None
    try:
        return Found(as_text(xml), entity_id(xml, role))
    except MetadataError as exc:
        entry.problem(field, msg("problem.the_metadata", problem=exc.message,
                                 expected=_EXPECTED[role]))
        return None


C = TypeVar("C")


@dataclass(frozen=True)
class MetadataFields(ConfigFields[C]):
    """A SAML kind's fields: an entry read from a metadata source is written back as its
    `entity_id` and `metadata_source`, not as its metadata (which the source keeps fresh)."""

    def export(self, config: C) -> dict[str, Any]:
        if getattr(config, "metadata_source", None) is None:
            return super().export(config)
        return non_default(config, ("metadata_xml",))
