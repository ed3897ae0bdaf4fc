"""The ledger as several hash chains: each row names its chain and its place in it, each
chain has its own checkpoint row, and on PostgreSQL row numbers come from a sequence, so
writers on several machines no longer queue for one checkpoint row.

The existing chain becomes chain 1, unchanged: its rows keep their numbers and hashes (a row
of chain 1 hashes as before), and their place in it is their number.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("ledger") as table:
        table.add_column(sa.Column("chain", sa.Integer(), nullable=False, server_default="1"))
        table.add_column(sa.Column("link", Seq, nullable=True))
    op.execute("UPDATE ledger SET link = seq")
    with op.batch_alter_table("ledger") as table:
        table.alter_column("link", existing_type=Seq, nullable=False)
        table.create_index("ix_ledger_chain_link", ["chain", "link"], unique=True)
    with op.batch_alter_table("ledger_checkpoint") as table:
        table.add_column(sa.Column("head_link", Seq, nullable=True))
        table.add_column(sa.Column("base_link", Seq, nullable=True))
    op.execute("UPDATE ledger_checkpoint SET head_link = head_seq, base_link = base_seq")
    with op.batch_alter_table("ledger_checkpoint") as table:
        table.alter_column("head_link", existing_type=Seq, nullable=False)
        table.alter_column("base_link", existing_type=Seq, nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE ledger_seq AS bigint")
        op.execute("SELECT setval('ledger_seq', greatest(max(head_seq), 1), max(head_seq) > 0) "
                   "FROM ledger_checkpoint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE ledger_seq")
    with op.batch_alter_table("ledger_checkpoint") as table:
        table.drop_column("base_link")
        table.drop_column("head_link")
    with op.batch_alter_table("ledger") as table:
        table.drop_index("ix_ledger_chain_link")
        table.drop_column("link")
        table.drop_column("chain")
