"""Where a metadata source may be fetched from: any address (the operator's federation file,
trusted as every URL in it), or public addresses only (a source registered from the admin
portal's form without the operator allowing private ones: broker/outbound/addresses.py).
Existing sources keep what they had: any address.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metadata_sources") as table:
        table.add_column(sa.Column("public_only", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("metadata_sources") as table:
        table.drop_column("public_only")
