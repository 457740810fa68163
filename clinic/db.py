"""One database URL, one engine, migrations on first use.

SQLite (the embedded default) gets WAL, a busy timeout and `BEGIN IMMEDIATE` on every
transaction, so two writers are serialized instead of both passing a check-then-insert.
PostgreSQL gets exclusion constraints (see the first migration) and is the arbiter itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from clinic import versions
from clinic.errors import InvalidInput, RotaError
from clinic.timeutil import zone

DATABASE_URL_ENV = "ROTA_DATABASE_URL"


def default_database_path() -> Path:
    return Path(user_data_dir("rota", appauthor=False)) / "rota.sqlite3"


def database_url(url: str | None = None) -> str:
    """The URL in force: the argument, else ROTA_DATABASE_URL, else the embedded SQLite file."""
    if url:
        return url
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    path = default_database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def shown_url(url: str) -> str:
    """A database URL for people and terminals: its password (from ROTA_DATABASE_URL, a
    secret) replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Writers take the write lock up front (no check-then-insert race); readers never do, so
    # under WAL they run beside a writer instead of queueing behind it.
    if connection.get_execution_options().get("rota_read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)
    raise InvalidInput(
        f"unsupported database URL {url.split(':', 1)[0]!r}: "
        "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


class Database:
    """The engine and its sessions. `session()` commits on success and rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(rota_read_only=True), expire_on_commit=False
        )
        self._tz: ZoneInfo | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        else:
            versions.written(self)  # this request's next version read must see the change
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only: it never takes SQLite's write lock, and never commits."""
        session = self._readers()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def migrate(self) -> None:
        from clinic.migrate import upgrade

        try:
            upgrade(self.engine)
        except OperationalError as exc:  # a missing directory, a server that is down
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
            raise RotaError(f"cannot open the database {self.describe()}: {reason}") from exc

    def facility_tz(self) -> ZoneInfo:
        """The facility's zone (UTC until a facility is loaded)."""
        if self._tz is None:
            from clinic.models import Facility

            with self.read() as session:
                name = session.scalar(select(Facility.timezone).limit(1))
            if name is None:
                return ZoneInfo("UTC")
            self._tz = zone(name)
        return self._tz

    def forget_facility(self) -> None:
        """Drop cached facility facts (after a load replaces the facility)."""
        self._tz = None

    def describe(self) -> str:
        """The URL without any password, for people."""
        return shown_url(self.url)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    db = Database(database_url(url))
    if migrate:
        db.migrate()
    return db
