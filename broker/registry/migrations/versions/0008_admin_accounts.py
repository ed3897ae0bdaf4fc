"""Admin accounts in the portal: one-time links (invitations, password resets), recovery
codes, and room for sealed TOTP secrets (`broker init` seals the plain ones).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admins") as table:
        table.alter_column("totp_secret", type_=sa.String(255), existing_type=sa.String(64),
                           existing_nullable=True)
    op.create_table(
        "admin_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=True),
        sa.Column("admin_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE",
                                name="fk_admin_links_school_id_schools"),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], ondelete="CASCADE",
                                name="fk_admin_links_admin_id_admins"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_admin_links"),
    )
    op.create_index("ix_admin_links_email", "admin_links", ["email"])
    op.create_table(
        "admin_recovery_codes",
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], ondelete="CASCADE",
                                name="fk_admin_recovery_codes_admin_id_admins"),
        sa.PrimaryKeyConstraint("admin_id", "code_hash", name="pk_admin_recovery_codes"),
    )


def downgrade() -> None:
    op.drop_table("admin_recovery_codes")
    op.drop_table("admin_links")
    with op.batch_alter_table("admins") as table:
        table.alter_column("totp_secret", type_=sa.String(64), existing_type=sa.String(255),
                           existing_nullable=True)
