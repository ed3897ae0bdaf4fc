"""The initial registry: schools, suppliers, release policies, aliases, the release ledger.

Revision ID: 0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("protocol", sa.String(8), nullable=False),
        sa.Column("place", sa.String(200), nullable=True),
        sa.Column("entity_id", sa.String(1024), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("sso_lifetime", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_schools"),
        sa.UniqueConstraint("entity_id", name="uq_schools_entity_id"),
    )
    op.create_table(
        "suppliers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("protocol", sa.String(8), nullable=False),
        sa.Column("sector", sa.String(255), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=True),
        sa.Column("requests", sa.JSON(), nullable=False),
        sa.Column("entity_id", sa.String(1024), nullable=True),
        sa.Column("client_id", sa.String(255), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_suppliers"),
        sa.UniqueConstraint("entity_id", name="uq_suppliers_entity_id"),
        sa.UniqueConstraint("client_id", name="uq_suppliers_client_id"),
    )
    op.create_table(
        "release_policies",
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("supplier_id", sa.String(64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("by_role", sa.JSON(), nullable=False),
        sa.Column("suspended_reason", sa.Text(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE",
                                name="fk_release_policies_school_id_schools"),
        sa.ForeignKeyConstraint(["supplier_id"], ["suppliers.id"], ondelete="CASCADE",
                                name="fk_release_policies_supplier_id_suppliers"),
        sa.PrimaryKeyConstraint("school_id", "supplier_id", name="pk_release_policies"),
    )
    op.create_index("ix_release_policies_supplier_id", "release_policies", ["supplier_id"])
    op.create_table(
        "aliases",
        sa.Column("anchor", sa.String(128), nullable=False),
        sa.Column("target_anchor", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("anchor", name="pk_aliases"),
    )
    op.create_index("ix_aliases_target_anchor", "aliases", ["target_anchor"])
    _create_ledger()


def _create_ledger() -> None:
    op.create_table(
        "ledger",
        sa.Column("seq", Seq, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("supplier_id", sa.String(64), nullable=False),
        sa.Column("pseudonym", sa.String(255), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("protocol", sa.String(8), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger"),
    )
    op.create_index("ix_ledger_school_at", "ledger", ["school_id", "at"])
    checkpoint = op.create_table(
        "ledger_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_seq", Seq, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("base_seq", Seq, nullable=False),
        sa.Column("base_hash", sa.String(64), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_checkpoint"),
    )
    op.bulk_insert(checkpoint, [{"id": 1, "head_seq": 0, "head_hash": GENESIS,
                                 "base_seq": 0, "base_hash": GENESIS, "purged_at": None}])


def downgrade() -> None:
    for table in ("ledger_checkpoint", "ledger", "aliases", "release_policies", "suppliers",
                  "schools"):
        op.drop_table(table)
