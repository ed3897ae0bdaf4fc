"""The school as controller: linking pupils by ECK iD (only a keyed hash of it is kept), the
school's privacy contact, and the role that marks a parent at the school's login.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("link_by_eck_id", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("privacy_contact", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("guardian_role", sa.String(200), nullable=True))
    op.create_table(
        "eck_ids",
        sa.Column("eck_hash", sa.String(64), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("anchor", sa.String(128), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE",
                                name="fk_eck_ids_school_id_schools"),
        sa.PrimaryKeyConstraint("eck_hash", "school_id", name="pk_eck_ids"),
    )


def downgrade() -> None:
    op.drop_table("eck_ids")
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("guardian_role")
        batch.drop_column("privacy_contact")
        batch.drop_column("link_by_eck_id")
