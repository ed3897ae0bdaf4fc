"""Whether a school ever activated a supplier: a release saved before activating (the school
decides what a supplier gets, then switches it on) is "new", not "deactivated".

Existing release entries count as activated once. An active one was. An inactive one was
deactivated, or saved before activating: only the audit trail could tell (and it may have
been purged), so each keeps the meaning it had, "not active". Every entry written from now on
gets the marker from the registry (release_entries.write).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("release_policies") as table:
        table.add_column(sa.Column("activated_once", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("release_policies") as table:
        table.drop_column("activated_once")
