"""Alembic environment: the engine comes from clinic.migrate (no alembic.ini, no URL here)."""

from __future__ import annotations

from alembic import context

from clinic.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
