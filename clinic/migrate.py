"""Alembic, driven from code: `upgrade(engine)` brings any database to the newest schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine, schema: str | None = None) -> Config:
    """`schema`: one facility's schema of a network, which keeps its own version table."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["schema"] = schema
    return config


def is_current(engine: Engine, schema: str | None = None) -> bool:
    config = alembic_config(engine, schema)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        # Named, never found on the search_path: a facility's schema must not read public's.
        options = {"version_table_schema": schema} if schema else {}
        return MigrationContext.configure(connection, opts=options).get_current_revision() == head


def upgrade(engine: Engine, schema: str | None = None) -> None:
    """Bring the database (or one facility's schema of a network) to the newest schema."""
    if not is_current(engine, schema):
        command.upgrade(alembic_config(engine, schema), "head")
