"""An index on the ledger by pseudonym, for the pupil's own page (/me): one person's releases
are found by their pseudonyms at the suppliers, without reading the whole school's ledger.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_pseudonym_at", "ledger", ["pseudonym", "at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_pseudonym_at", table_name="ledger")
