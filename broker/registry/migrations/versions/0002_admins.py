"""Admin accounts for the admin portal, and the schools each school admin manages.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("supplier_id", sa.String(64), nullable=True),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["supplier_id"], ["suppliers.id"], ondelete="CASCADE",
                                name="fk_admins_supplier_id_suppliers"),
        sa.PrimaryKeyConstraint("id", name="pk_admins"),
        sa.UniqueConstraint("email", name="uq_admins_email"),
    )
    op.create_table(
        "admin_schools",
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], ondelete="CASCADE",
                                name="fk_admin_schools_admin_id_admins"),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE",
                                name="fk_admin_schools_school_id_schools"),
        sa.PrimaryKeyConstraint("admin_id", "school_id", name="pk_admin_schools"),
    )
    op.create_index("ix_admin_schools_school_id", "admin_schools", ["school_id"])


def downgrade() -> None:
    op.drop_table("admin_schools")
    op.drop_table("admins")
