"""`rota db backup FILE` and `rota db restore FILE` for the embedded SQLite database.

Backup is SQLite's online backup API: one consistent snapshot (one read transaction, so a
server writing meanwhile is neither stopped nor half-copied: WAL lets both proceed), written
to `FILE.partial`, checked, then renamed to FILE. An encrypted (SQLCipher) database is copied
page by page with its key, so the backup is encrypted with the same key.

Restore checks the file before anything is touched: it opens (with ROTA_DB_KEY when it is
encrypted), passes `PRAGMA integrity_check`, is a Rota database (Alembic's table, the audit log)
at a migration this program knows. It is copied beside the database, migrated up there if it is
older, and then copied INTO the database through the same backup API: one write transaction,
so every process that has the database open sees either all of the old or all of the new one,
never a file swapped under its open connections. The database as it was is kept first as
`NAME.before-restore-<UTC time>`. Both commands are audit events (`database.backup`,
`database.restore`); PostgreSQL has pg_dump and pg_restore for this.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinic import encryption, migrate
from clinic.audit import append_event
from clinic.db import Database, sqlite_path
from clinic.errors import InvalidInput, RotaError

POSTGRES_HINT = (
    "this database is PostgreSQL: back it up with pg_dump -Fc and restore with pg_restore "
    "(see the README's 'Running in production'); `rota db backup|restore` is for the embedded "
    "SQLite database"
)
ROTA_TABLES = ("alembic_version", "audit_event")


@dataclass(frozen=True)
class BackedUp:
    file: Path
    encrypted: bool
    migration: str | None
    bytes: int


@dataclass(frozen=True)
class Restored:
    file: Path
    database: Path
    encrypted: bool
    was_at: str
    """The backup's migration."""
    now_at: str
    """The database's migration after the restore (the backup's, migrated up)."""
    kept: Path | None
    """The database as it was before (None: there was none)."""


def backup(db: Database, file: Path, *, actor: str) -> BackedUp:
    live = _embedded(db)
    target = file.expanduser()
    if target.exists():
        raise InvalidInput(f"{target} exists: choose another name, or move it away first")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is not a directory")
    key = encryption.db_key()
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)  # a crashed earlier attempt's, never a backup
    try:
        _copy(live, partial, key)
        migration = _check(partial, key)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    size = target.stat().st_size
    with db.session() as session:
        append_event(
            session,
            actor=actor,
            action="database.backup",
            entity_type="database",
            after={"file": str(target), "migration": migration, "encrypted": key is not None},
        )
    return BackedUp(target, key is not None, migration, size)


def restore(db: Database, file: Path, *, actor: str) -> Restored:
    live = _embedded(db)
    source = file.expanduser()
    if not source.is_file():
        raise InvalidInput(f"{source}: no such file")
    key = encryption.db_key()
    state = encryption.file_state(source)
    if state == "encrypted" and key is None:
        raise InvalidInput(
            f"{source} is encrypted (or is not a SQLite database): set "
            f"{encryption.DB_KEY_ENV} to its key; nothing was changed"
        )
    if state == "plain" and key is not None:
        raise InvalidInput(
            f"{source} is a plain (unencrypted) backup but {encryption.DB_KEY_ENV} is set: "
            "restore it without the key, then `rota db encrypt`; nothing was changed"
        )
    was_at = _check(source, key)
    staging = live.with_name(live.name + ".restoring")
    _remove_sqlite(staging)
    try:
        _copy(source, staging, key)
        copy = Database(f"sqlite:///{staging}")
        try:
            copy.migrate()  # an older backup, brought to this program's schema beside the live one
        finally:
            copy.dispose()
        now_at = _check(staging, key)
        kept = None
        if encryption.file_state(live) != "absent":
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = live.with_name(f"{live.name}.before-restore-{stamp}")
            _copy(live, kept, key)
        _copy(staging, live, key)
    finally:
        _remove_sqlite(staging)
    db.dispose()  # connections opened before the restore hold the old schema's caches
    db.forget_facility()
    with db.session() as session:
        append_event(
            session,
            actor=actor,
            action="database.restore",
            entity_type="database",
            after={
                "file": str(source),
                "backup_migration": was_at,
                "migration": now_at,
                "previous_kept_at": str(kept) if kept else None,
            },
        )
    return Restored(source, live, key is not None, was_at, now_at, kept)


def _embedded(db: Database) -> Path:
    path = sqlite_path(db.url)
    if db.dialect == "postgresql":
        raise InvalidInput(POSTGRES_HINT)
    if path is None:
        raise InvalidInput("an in-memory database has nothing to back up or restore")
    return path


def _connect(path: Path, key: str | None) -> Any:
    """A raw connection (the driver the database uses: sqlite3, or SQLCipher with the key)."""
    if key is None:
        connection = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    else:
        connection = encryption.sqlcipher().connect(str(path), isolation_level=None, timeout=30)
        connection.execute("PRAGMA key = " + _quoted(key))
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def _copy(source: Path, target: Path, key: str | None) -> None:
    """The backup API: `target` becomes a consistent copy of `source` in one step."""
    reading = _connect(source, key)
    try:
        writing = _connect(target, key)
        try:
            reading.backup(writing)
        finally:
            writing.close()
    except (sqlite3.DatabaseError, _sqlcipher_error(key)) as exc:
        raise RotaError(f"cannot copy {source} to {target}: {exc}") from exc
    finally:
        reading.close()


def _check(path: Path, key: str | None) -> str:
    """The file's migration, once it has passed the integrity check and proved to be Rota's."""
    try:
        connection = _connect(path, key)
        try:
            problems = [r[0] for r in connection.execute("PRAGMA integrity_check")]
            tables = {
                r[0]
                for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            missing = [t for t in ROTA_TABLES if t not in tables]
            version = (
                connection.execute("SELECT version_num FROM alembic_version").fetchone()
                if not missing
                else None
            )
        finally:
            connection.close()
    except (sqlite3.DatabaseError, _sqlcipher_error(key)) as exc:
        raise InvalidInput(
            f"{path} is not a readable SQLite database ({exc}); nothing was changed"
        ) from exc
    if problems != ["ok"]:
        raise InvalidInput(
            f"{path} fails the integrity check ({'; '.join(problems[:3])}); nothing was changed"
        )
    if missing:
        raise InvalidInput(
            f"{path} is not a Rota database (no {', '.join(missing)} table); nothing was changed"
        )
    if version is None:
        raise InvalidInput(f"{path} has no migration recorded; nothing was changed")
    at = str(version[0])
    if not migrate.known(at):
        raise InvalidInput(
            f"{path} is at migration {at}, which this program does not know (made by a newer "
            "Rota?): upgrade Rota first; nothing was changed"
        )
    return at


def _sqlcipher_error(key: str | None) -> type[Exception]:
    return encryption.sqlcipher().DatabaseError if key is not None else sqlite3.DatabaseError


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
