"""Alembic, driven from code: `upgrade(engine)` brings any database to the newest schema.

Two sets of migrations: a facility's (`migrations/`, in public or in each facility schema of a
network) and a network's own `network` schema (`network_migrations/`, clinic.network). Each
keeps its version table in the schema it versions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
NETWORK_MIGRATIONS = Path(__file__).with_name("network_migrations")
VERSION_TABLE = "alembic_version"


def alembic_config(
    engine: Engine, schema: str | None = None, location: Path = MIGRATIONS
) -> Config:
    """`schema`: one facility's schema of a network (or the network's own, with `location`
    NETWORK_MIGRATIONS), which keeps its own version table."""
    config = Config()
    config.set_main_option("script_location", str(location))
    config.attributes["engine"] = engine
    config.attributes["schema"] = schema
    return config


@cache
def _scripts(location: Path = MIGRATIONS) -> ScriptDirectory:
    """The migrations shipped with this program (read once: they do not change while it runs;
    parsing them costs a readiness probe 0.3 s)."""
    config = Config()
    config.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(config)


def head(location: Path = MIGRATIONS) -> str:
    """The newest migration this program knows."""
    found = _scripts(location).get_current_head()
    assert found is not None  # the migrations directory ships with the program
    return found


def known(revision: str, location: Path = MIGRATIONS) -> bool:
    """Whether this program has the migration (a newer program's is unknown to it)."""
    try:
        return _scripts(location).get_revision(revision) is not None
    except CommandError:
        return False


def current(engine: Engine, schema: str | None = None) -> str | None:
    """The database's migration, or one facility schema's (None: no Rota schema at all). Read
    directly, not through Alembic's context, which logs two lines per call (every readiness
    probe). A facility's version table is named with its schema, never found on the search_path:
    a facility's schema must not read public's."""
    table = f'"{schema}".{VERSION_TABLE}' if schema else VERSION_TABLE
    # rota_read_only: on SQLite a plain BEGIN, never the write lock (clinic/db.py)
    with engine.connect().execution_options(rota_read_only=True) as connection:
        if not inspect(connection).has_table(VERSION_TABLE, schema=schema):
            return None
        found = connection.execute(text(f"SELECT version_num FROM {table}")).scalar()  # nosec B608
        return str(found) if found is not None else None


def is_current(engine: Engine, schema: str | None = None, location: Path = MIGRATIONS) -> bool:
    return current(engine, schema) == head(location)


# One key for every Rota program migrating one PostgreSQL database: servers and workers that
# start together on a new schema otherwise both create its tables and one dies.
_MIGRATION_LOCK = 0x526F74614D6967  # "RotaMig"


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock for migrating (SQLite's writer lock already serializes)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()


def upgrade(engine: Engine, schema: str | None = None, location: Path = MIGRATIONS) -> None:
    """Bring the database (or one facility's schema of a network, or with NETWORK_MIGRATIONS
    the network's own schema) to the newest schema. Run under `migration_lock`."""
    if not is_current(engine, schema, location):
        command.upgrade(alembic_config(engine, schema, location), "head")
