"""Alembic environment of a network's `network` schema (clinic/network.py): what spans the
facilities of one PostgreSQL database. Its version table is `network.alembic_version`, beside
the facilities' own (one per facility schema), driven from clinic.migrate like theirs."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from clinic.network import NETWORK_SCHEMA, NetworkBase

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    # The version table lives in the schema it versions, so the schema comes first.
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {NETWORK_SCHEMA}"))
    context.configure(
        connection=connection,
        target_metadata=NetworkBase.metadata,
        version_table_schema=NETWORK_SCHEMA,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
