"""How a metadata source is trusted: a pinned certificate (an aggregate, an MDQ service), or
TLS (one entity's own document at its https URL, broker/registry/entity_source.py). Existing
sources all pin a certificate.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metadata_sources") as table:
        table.add_column(sa.Column("tls", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("metadata_sources") as table:
        table.drop_column("tls")
