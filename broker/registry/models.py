"""The registry's tables (SQLAlchemy 2 declarative). Portable: SQLite and PostgreSQL alike.

Rows never leave this package: registry.py turns them into the frozen records of
broker/records.py. The schema itself is created by the Alembic migration in migrations/;
a test checks that these models and the migration agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from broker.jsonvalue import JsonObject

ID = 64
"""Length of school and supplier ids (used in URLs)."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a registry timestamp must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Seq = BigInteger().with_variant(Integer(), "sqlite")


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


Names = list[str]
"""A JSON array of attribute names (a release entry's, a ledger row's)."""
NamesByRole = dict[str, list[str]]
"""A JSON object: role -> attribute names."""
Requests = list[dict[str, str]]
"""A supplier's requests: [{"attribute": ..., "why": ..., "why_nl": ...}, ...] (records.py)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {JsonObject: JSON, Names: JSON, NamesByRole: JSON, Requests: JSON,
                           datetime: UtcDateTime}


class SchoolRow(Base):
    __tablename__ = "schools"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str] = mapped_column(String(8))
    """The name of the school's protocol kind (broker/kinds.py)."""
    place: Mapped[str | None] = mapped_column(String(200))
    entity_id: Mapped[str | None] = mapped_column(String(1024), unique=True)
    """SAML schools: the IdP's entity id (for Scoping/IDPList hints)."""
    config: Mapped[JsonObject]
    """The kind's config fields except those in their own column (ConfigFields.columns)."""
    sso_lifetime: Mapped[int | None]
    link_by_eck_id: Mapped[bool] = mapped_column(default=False, server_default=false())
    privacy_contact: Mapped[str | None] = mapped_column(String(2048))
    guardian_role: Mapped[str | None] = mapped_column(String(200))


class SupplierRow(Base):
    __tablename__ = "suppliers"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str] = mapped_column(String(8))
    """The name of the supplier's protocol kind (broker/kinds.py)."""
    sector: Mapped[str] = mapped_column(String(255))
    key_version: Mapped[int]
    url: Mapped[str | None] = mapped_column(String(2048))
    requests: Mapped[Requests]
    entity_id: Mapped[str | None] = mapped_column(String(1024), unique=True)
    client_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    config: Mapped[JsonObject]
    """The kind's config fields except those in their own columns (ConfigFields.columns)."""


class ReleasePolicyRow(Base):
    __tablename__ = "release_policies"

    school_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True,
        index=True)
    attributes: Mapped[Names]
    by_role: Mapped[NamesByRole]
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[date | None] = mapped_column(Date)
    agreement: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    activated_once: Mapped[bool] = mapped_column(Boolean, server_default=true())
    """Activated by the school at some time (Policy.activated_once); rows from before the
    column count as activated (migration 0010)."""


class RegistryVersionRow(Base):
    """One row (id 1): a number raised by every write that changes a school, a supplier or a
    release policy; each broker process compares it with its cached records' (cache.py)."""

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int]


class AliasRow(Base):
    __tablename__ = "aliases"

    anchor: Mapped[str] = mapped_column(String(128), primary_key=True)
    target_anchor: Mapped[str] = mapped_column(String(128), index=True)


class EckIdRow(Base):
    """An ECK iD seen at a school that links pupils by it: only its keyed hash
    (pseudonym.eck_hash), never the ECK iD, and the anchor it arrived with there."""

    __tablename__ = "eck_ids"

    eck_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    anchor: Mapped[str] = mapped_column(String(128))
    """The anchor before aliases (pseudonym.anchor of the school and upstream subject)."""
    seen_at: Mapped[datetime]


class LedgerEntryRow(Base):
    """One release: who got which attribute names (never values), hash-chained; or, with
    kind "audit", one admin action on a school's data (ledger.py, audit.py)."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_school_at", "school_id", "at"),
                      Index("ix_ledger_pseudonym_at", "pseudonym", "at"),
                      Index("ix_ledger_chain_link", "chain", "link", unique=True))

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    """The row's number, unique in the ledger (ledger_chains.next_seq)."""
    chain: Mapped[int] = mapped_column(Integer, server_default="1")
    """The chain the row belongs to (a LedgerCheckpointRow's id)."""
    link: Mapped[int] = mapped_column(Seq)
    """The row's place in its chain: 1, 2, 3... (equal to seq in chain 1 on SQLite)."""
    at: Mapped[datetime]
    school_id: Mapped[str] = mapped_column(String(ID))
    supplier_id: Mapped[str] = mapped_column(String(ID))
    pseudonym: Mapped[str] = mapped_column(String(255))
    attributes: Mapped[Names]
    protocol: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16), server_default="release")
    """"release" or "audit"."""
    detail: Mapped[JsonObject | None]
    """Audit rows: who, which action, before, after, the reason (audit.py); releases: None."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerCheckpointRow(Base):
    """The row that anchors one chain of the ledger: its head, and where purging cut it off.

    An append locks one chain's row (BEGIN IMMEDIATE on SQLite, which has one chain; on
    PostgreSQL whichever chain no other transaction holds: ledger_chains.py), so writers
    serialise per chain only.
    """

    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_seq: Mapped[int] = mapped_column(Seq)
    head_hash: Mapped[str] = mapped_column(String(64))
    base_seq: Mapped[int] = mapped_column(Seq)
    """The last purged row (0: nothing purged); the chain resumes after it."""
    base_hash: Mapped[str] = mapped_column(String(64))
    purged_at: Mapped[datetime | None]
    head_link: Mapped[int] = mapped_column(Seq)
    """The link of the chain's newest row (0: none yet)."""
    base_link: Mapped[int] = mapped_column(Seq)
    """The link of the chain's last purged row (0: nothing purged)."""


# The admin portal's tables live in their own module; importing it registers them on Base.
from broker.registry import models_admin as _models_admin  # noqa: E402, F401
from broker.registry import models_sources as _models_sources  # noqa: E402, F401
