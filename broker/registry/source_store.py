"""The metadata sources in the registry: their last good aggregate and how each refresh went.

A good aggregate is applied in the same transaction that records it: every school and
supplier with `metadata_source` = the source gets its entity's metadata from it. Those rows
are cached tables, so a changed certificate raises the registry version and every process
drops its cached records (cache.py): a key rollover takes effect at the next login after the
refresh. A refused document changes nothing but the source's outcome and message.

What a refresh says (why it was refused, which schools and suppliers changed) is kept as
Messages, in the row's `message` as a JSON list: the operator page says them in its language,
the command line and the log in English. Other text (an earlier release's English) shows as it is.

A source trusted through TLS (entity_source.py) has no certificate: its row says `tls`.
A source registered from the admin portal's form keeps the rule it was registered under: its
row says `public_only` unless the operator allowed private addresses (sources.py).

Only one process fetches a due source: `claim` moves its next_fetch forward in one UPDATE
that only one process can win; the others see the result through the registry.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from broker import jsonvalue
from broker.messages import Message, from_json, msg
from broker.records import School, Supplier
from broker.registry import convert, metadata
from broker.registry.aggregate import Aggregate
from broker.registry.config_fields import field_values
from broker.registry.db import Database
from broker.registry.models import SchoolRow, SupplierRow
from broker.registry.models_sources import MetadataSourceRow
from broker.registry.sources import Loaded, MetadataSource

RETRY = timedelta(minutes=5)
"""After a refused document, try again after this long (or the source's refresh, if shorter)."""

Note = Message | str
"""What a refresh said: a Message, or the English text of a row an earlier release wrote."""


def english(notes: Sequence[Note]) -> str:
    """The notes as the command line and the log say them."""
    return "; ".join(map(str, notes))


def _stored(notes: Sequence[Message]) -> str:
    return json.dumps([note.as_json() for note in notes])


def _notes(stored: str | None) -> tuple[Note, ...]:
    """The notes a row holds: its JSON list of Messages, else its text as it is."""
    if not stored:
        return ()
    try:
        value = jsonvalue.loads(stored)
        found = [from_json(item) for item in value] if isinstance(value, list) else [None]
        notes = tuple(note for note in found if note is not None)
        if len(notes) == len(found):
            english(notes)  # each one can be said: its placeholders have their values
            return notes
    except (ValueError, KeyError, TypeError):
        pass
    return (stored,)


@dataclass(frozen=True)
class SourceStatus:
    """A source and how its last refresh went, for the operator page and the CLI."""

    source: MetadataSource
    fetched_at: datetime | None
    """When the last good copy was fetched (None: there is none)."""
    valid_until: datetime | None
    checked_at: datetime | None
    outcome: str | None
    notes: tuple[Note, ...]
    next_fetch: datetime | None

    @property
    def message(self) -> str:
        """The notes in English."""
        return english(self.notes)


@dataclass(frozen=True)
class Refreshed:
    """What one refresh of one source did."""

    source_id: str
    outcome: str
    """"fetched", "unchanged" or "refused"."""
    notes: tuple[Message, ...] = ()
    """Refused: why; else the schools and suppliers updated or left as they were."""
    kept: datetime | None = None
    """Refused: when the last good copy that is kept was fetched (None: there is none)."""
    address_kind: str = ""
    """Refused because the host resolves to an address the source may not be fetched from:
    its kind ("loopback", "private"...: broker/outbound/addresses.py)."""

    @property
    def message(self) -> str:
        """The notes in English."""
        return english(self.notes)

    def __str__(self) -> str:
        text = f"{self.source_id}: {self.outcome}"
        if self.notes:
            text += f" ({self.message})"
        if self.outcome == "refused":
            text += (f"; kept last good from {self.kept.isoformat(timespec='seconds')}"
                     if self.kept else "; no good copy yet")
        return text


def _record(row: MetadataSourceRow) -> MetadataSource:
    return MetadataSource(row.id, row.url, row.certificate, row.refresh, mdq=row.mdq,
                          tls=row.tls, public_only=row.public_only)


def _status(row: MetadataSourceRow) -> SourceStatus:
    return SourceStatus(_record(row), row.fetched_at, row.valid_until, row.checked_at,
                        row.outcome, _notes(row.message), row.next_fetch)


def _good(aggregate: Aggregate, source: MetadataSource, now: datetime) -> dict[str, object]:
    return {"document": aggregate.xml, "fetched_at": now, "valid_until": aggregate.valid_until,
            "checked_at": now, "next_fetch": source.next_fetch(aggregate, now)}


@dataclass(frozen=True)
class _Sourced:
    """A school or supplier row whose metadata comes from a source."""

    side: Message
    """What the row is ("school", "supplier"), in the page's language."""
    row: SchoolRow | SupplierRow
    entity_id: str
    role: metadata.Role
    values: Callable[[str], dict[str, object]]
    """The row's values with this metadata document instead of its own."""


Record = TypeVar("Record", School, Supplier)
Row = TypeVar("Row", SchoolRow, SupplierRow)


def _side(session: Session, source_id: str, side: Message, table: type[Row], role: metadata.Role,
          record_of: Callable[[Row], Record],
          values_of: Callable[[Record], dict[str, object]]) -> Iterator[_Sourced]:
    """The rows of `table` whose metadata comes from the source."""
    for row in session.scalars(select(table)):
        record = record_of(row)
        fields = field_values(record.config)
        if fields.get("metadata_source") == source_id:
            yield _Sourced(side, row, str(fields.get("entity_id", "")), role,
                           functools.partial(_with_metadata, record, values_of))


def _with_metadata(record: Record, values_of: Callable[[Record], dict[str, object]],
                   xml: str) -> dict[str, object]:
    config = dataclasses.replace(record.config, **{"metadata_xml": xml})
    return values_of(dataclasses.replace(record, config=config))


def _sourced(session: Session, source_id: str) -> Iterator[_Sourced]:
    yield from _side(session, source_id, msg("admin.refresh_school"), SchoolRow, "idp",
                     convert.school_record, convert.school_values)
    yield from _side(session, source_id, msg("admin.refresh_supplier"), SupplierRow, "sp",
                     convert.supplier_record, convert.supplier_values)


def _apply(session: Session, source_id: str, aggregate: Aggregate,
           failures: Mapping[str, Message]) -> list[Message]:
    """Give every school and supplier of the source its entity's metadata; what happened to
    those that changed or could not be updated (their metadata is then left as it was)."""
    notes: list[Message] = []
    for item in _sourced(session, source_id):
        xml = aggregate.entities.get(item.entity_id)
        try:
            if xml is None:
                raise metadata.MetadataError(failures.get(item.entity_id,
                                                          msg("admin.refresh_entity_gone")))
            metadata.entity_id(xml.encode(), item.role)
        except metadata.MetadataError as exc:
            notes.append(msg("admin.refresh_kept", side=item.side, id=item.row.id,
                             entity=item.entity_id, reason=exc.message))
            continue
        if convert.assign(item.row, item.values(xml)):
            notes.append(msg("admin.refresh_updated", side=item.side, id=item.row.id))
    return notes


def save(session: Session, loaded: Sequence[Loaded], now: datetime) -> None:
    """Inside an import: add or update each source, with the aggregate read with the file."""
    for item in loaded:
        source = item.source
        values: dict[str, object] = {"url": source.url, "mdq": source.mdq,
                                  "certificate": source.certificate_pem, "tls": source.tls,
                                  "public_only": source.public_only,
                                  "refresh": source.refresh}
        if item.aggregate is not None:
            values |= _good(item.aggregate, source, now) | {
                "outcome": "fetched", "message": _stored([msg("admin.refresh_imported")])}
        row = session.get(MetadataSourceRow, source.id)
        if row is None:
            session.add(MetadataSourceRow(id=source.id, **values))
        else:
            convert.assign(row, values)


def export(session: Session) -> tuple[Loaded, ...]:
    rows = session.scalars(select(MetadataSourceRow).order_by(MetadataSourceRow.id))
    return tuple(Loaded(_record(row), None) for row in rows)


class MetadataSources:
    """The registry's metadata sources (Registry.metadata_sources())."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def has(self, source_id: str) -> bool:
        """Whether a source of this id is registered (without reading its document)."""
        with self._db.read() as session:
            return session.scalar(select(MetadataSourceRow.id).where(
                MetadataSourceRow.id == source_id)) is not None

    def all(self) -> list[SourceStatus]:
        with self._db.read() as session:
            return [_status(row) for row in session.scalars(
                select(MetadataSourceRow).order_by(MetadataSourceRow.id))]

    def due(self, now: datetime) -> list[MetadataSource]:
        """The sources whose next fetch has come."""
        table = MetadataSourceRow
        with self._db.read() as session:
            return [_record(row) for row in session.scalars(select(table).where(
                or_(table.next_fetch.is_(None), table.next_fetch <= now)).order_by(table.id))]

    def claim(self, source_id: str, now: datetime, lease: timedelta) -> bool:
        """True for the one caller that moves a due source's next fetch to now + lease."""
        table = MetadataSourceRow
        with self._db.write() as session:
            result = session.connection().execute(update(table).where(
                table.id == source_id,
                or_(table.next_fetch.is_(None), table.next_fetch <= now)).values(
                next_fetch=now + lease))
            return result.rowcount == 1

    def entity_ids(self, source_id: str) -> list[str]:
        """The entities the source's schools and suppliers name (what MDQ is asked for)."""
        return sorted({entity_id for entity_id, _ in self.named(source_id)})

    def named(self, source_id: str) -> list[tuple[str, metadata.Role]]:
        """(entity id, role) of each school and supplier of the source (what an entity's own
        document must be)."""
        with self._db.read() as session:
            return sorted({(item.entity_id, item.role) for item in _sourced(session, source_id)})

    def record_good(self, source: MetadataSource, aggregate: Aggregate, now: datetime,
                    failures: Mapping[str, Message] | None = None) -> Refreshed:
        """Keep a verified aggregate and apply it to the source's schools and suppliers;
        `failures`: entity id -> why it is missing (MDQ), for the message."""
        with self._db.write() as session:
            row = session.get(MetadataSourceRow, source.id)
            if row is None:
                return Refreshed(source.id, "refused", (msg("admin.refresh_source_gone"),))
            outcome = "unchanged" if row.document == aggregate.xml else "fetched"
            notes = tuple(_apply(session, source.id, aggregate, failures or {}))
            convert.assign(row, _good(aggregate, source, now) | {"outcome": outcome,
                                                                 "message": _stored(notes)})
        return Refreshed(source.id, outcome, notes)

    def record_refused(self, source: MetadataSource, why: tuple[Message, ...], now: datetime,
                       address_kind: str = "") -> Refreshed:
        """Note a document that could not be fetched or was refused (`address_kind`: because
        of the address its host resolves to); the last good stays."""
        retry = now + min(RETRY, timedelta(seconds=source.refresh))
        with self._db.write() as session:
            row = session.get(MetadataSourceRow, source.id)
            if row is None:
                return Refreshed(source.id, "refused", why, address_kind=address_kind)
            convert.assign(row, {"checked_at": now, "outcome": "refused",
                                 "message": _stored(why), "next_fetch": retry})
            return Refreshed(source.id, "refused", why, row.fetched_at, address_kind)
