"""One database URL, one engine, migrations on first use.

SQLite (the embedded default) gets WAL, a busy timeout and `BEGIN IMMEDIATE` on every
transaction, so two writers are serialized instead of both passing a check-then-insert.
With ROTA_DB_KEY set, SQLite files are SQLCipher-encrypted (clinic/encryption.py).
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
from sqlalchemy.pool import QueuePool, SingletonThreadPool

from clinic import encryption, network, versions
from clinic.errors import InvalidInput, NotFound, RotaError
from clinic.settings import whole_number
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


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if not url.startswith("sqlite"):
        return None
    name = make_url(url).database
    return Path(name) if name and name != ":memory:" else None


def encrypt_database(url: str | None = None, *, keep_plain: bool = True) -> encryption.Encrypted:
    """`rota db encrypt`: the embedded database in force, converted to SQLCipher with ROTA_DB_KEY."""
    in_force = database_url(url)
    path = sqlite_path(in_force)
    if path is None:
        raise InvalidInput(
            "only an embedded SQLite database can be encrypted by Rota; for PostgreSQL "
            "encrypt the disk or volume it lives on (see the README's Security section)"
        )
    key = encryption.db_key()
    if key is None:
        raise InvalidInput(f"set {encryption.DB_KEY_ENV} to the key the encrypted file should have")
    return encryption.encrypt_file(path, key, keep_plain=keep_plain)


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


def _sqlite_engine(url: str) -> Engine:
    connect_args = {"check_same_thread": False, "timeout": 30}
    key = encryption.db_key()
    parsed = make_url(url)
    path = sqlite_path(url)
    if path is not None:
        encryption.check_file(path, keyed=key is not None)
    if key is None:
        engine = create_engine(url, connect_args=connect_args, hide_parameters=True)
    else:
        encryption.sqlcipher()  # installed, or one line saying how
        # The dialect sends PRAGMA key first on every connection; the key stays out of the
        # URL string (Database.url), in the URL object only.
        keyed = parsed.set(drivername="sqlite+pysqlcipher", password=key)
        # That dialect defaults to one connection per thread, which would hand a nested read
        # the connection of the transaction around it; a file gets a pool, as plain SQLite does.
        pool = QueuePool if path is not None else SingletonThreadPool
        engine = create_engine(
            keyed, connect_args=connect_args, poolclass=pool, hide_parameters=True
        )
        where = path or parsed.database
        event.listen(engine, "connect", lambda conn, _r: encryption.verify_key(conn, where))
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_engine(url: str, schema: str | None = None) -> Engine:
    """The engine; never echoing, and with SQL parameters (patient names, phone numbers) kept
    out of its log lines and exception messages (`hide_parameters`): see integrations/log_policy.

    `schema` (PostgreSQL only) is one facility's schema of a network: every connection starts
    with it first on its search_path (then `public`, where btree_gist's operator classes live),
    so unqualified names, the ORM's and the migrations' raw SQL alike, mean that facility."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        if schema is not None:
            raise InvalidInput(network.SQLITE_REFUSAL)
        return _sqlite_engine(url)
    if url.startswith("postgresql"):
        # Per process: size ROTA_DB_POOL_SIZE + ROTA_DB_MAX_OVERFLOW times the processes
        # (serve and worker) under PostgreSQL's max_connections (README "Running in production").
        # libpq's startup options: the path is the session's default, so even RESET keeps it.
        options = {"options": f"-csearch_path={schema},public"} if schema else {}
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=whole_number("ROTA_DB_POOL_SIZE", 10, most=200),
            max_overflow=_overflow(),
            hide_parameters=True,
            connect_args=options,
        )
    raise InvalidInput(
        f"unsupported database URL {url.split(':', 1)[0]!r}: "
        "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


def _overflow() -> int:
    """ROTA_DB_MAX_OVERFLOW: connections beyond the pool under a burst (0 allowed: a hard cap)."""
    raw = os.environ.get("ROTA_DB_MAX_OVERFLOW", "").strip()
    if not raw:
        return 30
    if not raw.isdigit():
        raise InvalidInput(f"ROTA_DB_MAX_OVERFLOW must be a whole number (0 or more), not {raw!r}")
    return int(raw)


class Database:
    """The engine and its sessions. `session()` commits on success and rolls back on error.

    `facility` (a network on PostgreSQL, clinic.network) opens one facility's schema; `key`
    names the database and facility together, for every per-process cache."""

    def __init__(self, url: str, facility: str | None = None) -> None:
        self.url = url
        self.facility = facility
        self.schema = network.schema_for(facility) if facility else None
        self.key = f"{url}#facility={facility}" if facility else url
        self.engine = make_engine(url, self.schema)
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
        from clinic.migrate import is_current, migration_lock, upgrade

        try:
            if is_current(self.engine, self.schema) and (
                self.schema is None or network.network_is_current(self.engine)
            ):
                return  # the common start: nothing to do, no lock to wait for
            with migration_lock(self.engine):
                if self.schema is not None:
                    network.ensure_network(self.engine)
                    network.ensure_schema(self.engine, self.facility or "")
                upgrade(self.engine, self.schema)
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
        """The URL without any password (nor the SQLCipher driver's name), for people."""
        where = shown_url(self.url)
        return f"{where} (facility {self.facility})" if self.facility else where

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(
    url: str | None = None,
    *,
    migrate: bool = True,
    facility: str | None = None,
    create: bool = False,
) -> Database:
    """The database in force, for `facility` (else ROTA_FACILITY; else the one facility).

    A facility must be one of the network's unless `create` (`rota load --facility`, which
    creates its schema and registers it once the file is loaded)."""
    chosen = network.facility_in_force(facility)
    db = Database(database_url(url), chosen)
    if chosen is not None and not create:
        known_or_refuse(db)
    if migrate:
        db.migrate()
    return db


def known_or_refuse(db: Database) -> None:
    """Refuse a facility the network does not have (or a database with no network)."""
    if db.facility is None:
        return
    try:
        present = network.has_network(db.engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        raise RotaError(f"cannot open the database {db.describe()}: {reason}") from exc
    if not present:
        db.dispose()
        raise NotFound(
            f"the database {shown_url(db.url)} holds no network of facilities yet; "
            f"`rota load FILE --facility {db.facility}` starts one"
        )
    with Session(db.engine) as session:
        try:
            network.known_facility(session, db.facility)
        except NotFound:
            db.dispose()
            raise
