"""Alembic environment: the engine comes from clinic.migrate (no alembic.ini, no URL here)."""

from __future__ import annotations

from alembic import context

from clinic.models import Base

engine = context.config.attributes["engine"]
schema = context.config.attributes.get("schema")  # a network's facility (clinic.network)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        version_table_schema=schema,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
