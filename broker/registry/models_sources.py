"""The metadata sources' table: each [[metadata_sources]] entry and its last good aggregate.

Registered on the registry's one `Base` (models.py imports this module). Not a cached table:
recording a refresh does not raise the registry version; the schools and suppliers whose
metadata a refresh changes do (cache.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from broker.registry.models import ID, Base


class MetadataSourceRow(Base):
    __tablename__ = "metadata_sources"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    mdq: Mapped[bool]
    """True: url is the base of a Metadata Query service (each entity fetched on its own)."""
    certificate: Mapped[str] = mapped_column(Text)
    """PEM: the aggregate's signature must verify with it ("" for a source trusted by TLS)."""
    tls: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """True: one entity's own document, trusted through TLS (entity_source.py; migration 0011)."""
    public_only: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """True: fetched from public addresses only (registered from the admin portal's form
    without the operator allowing private ones; migration 0012)."""
    refresh: Mapped[int]
    document: Mapped[str | None] = mapped_column(Text)
    """The last good (verified) aggregate (MDQ: its entities' answers, one after another)."""
    fetched_at: Mapped[datetime | None]
    """When the last good aggregate was fetched (or last found unchanged)."""
    valid_until: Mapped[datetime | None]
    """The last good aggregate's validUntil."""
    checked_at: Mapped[datetime | None]
    """The last attempt, good or not."""
    outcome: Mapped[str | None] = mapped_column(String(16))
    """Of the last attempt: "fetched", "unchanged" or "refused"."""
    message: Mapped[str | None] = mapped_column(Text)
    """Why the last attempt was refused, or what it changed."""
    next_fetch: Mapped[datetime | None]
    """When the source is due; a process that claims it moves this forward first."""
