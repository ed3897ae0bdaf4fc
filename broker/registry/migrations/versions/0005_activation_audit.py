"""Activation and the audit trail: a release entry is the school's activation of a supplier
(with the reference of the processing agreement), and admin actions join the ledger's chain.

Existing release entries stay active: they were the schools' decisions before activation
existed. Existing ledger rows are releases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("release_policies") as table:
        table.add_column(sa.Column("agreement", sa.Text(), nullable=True))
        table.add_column(sa.Column("active", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    with op.batch_alter_table("ledger") as table:
        table.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                   server_default="release"))
        table.add_column(sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger") as table:
        table.drop_column("detail")
        table.drop_column("kind")
    with op.batch_alter_table("release_policies") as table:
        table.drop_column("active")
        table.drop_column("agreement")
