"""Alembic environment. Registry.upgrade() passes an open connection; the alembic command line
(see broker/registry/alembic.ini, for writing new revisions) connects to BROKER_REGISTRY_URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from broker.registry.models import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given: Connection | None = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = create_engine(os.environ["BROKER_REGISTRY_URL"])
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
