"""The embedded database encrypted at rest: SQLCipher, keyed from ROTA_DB_KEY.

With ROTA_DB_KEY set, every SQLite URL opens through SQLAlchemy's `sqlite+pysqlcipher` dialect
(driver: the `sqlcipher3` package, `pip install 'rota[encrypted]'`), which sends `PRAGMA key`
before any other statement on each new connection. The key lives in the environment only; the
URL people see and store (`Database.url`, `rota db where`) never carries it.

A mismatch between the key and the file is told in one line, before any SQL runs: the first 16
bytes of a plain SQLite file are "SQLite format 3\\0", and an encrypted file's are random salt.
`encrypt_file` converts today's plain file: a new file beside it, verified, then swapped in.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from clinic.errors import InvalidInput, RotaError

DB_KEY_ENV = "ROTA_DB_KEY"
PLAIN_HEADER = b"SQLite format 3\x00"
INSTALL_HINT = "install it with: pip install 'rota[encrypted]'"

FileState = Literal["absent", "plain", "encrypted"]


def db_key() -> str | None:
    """The key in force, or None for a plain database (an empty ROTA_DB_KEY counts as unset)."""
    return os.environ.get(DB_KEY_ENV) or None


def sqlcipher() -> ModuleType:
    """The SQLCipher driver, or one line saying how to install it."""
    try:
        import sqlcipher3
    except ImportError:
        raise RotaError(
            f"{DB_KEY_ENV} is set but SQLCipher is not installed: {INSTALL_HINT}"
        ) from None
    return sqlcipher3


def file_state(path: Path) -> FileState:
    """What the file on disk is, from its first 16 bytes (nothing there yet: "absent")."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(PLAIN_HEADER))
    except FileNotFoundError:
        return "absent"
    if not header:
        return "absent"
    return "plain" if header == PLAIN_HEADER else "encrypted"


def check_file(path: Path, keyed: bool) -> None:
    """Refuse, in words, a key for a plain file or no key for an encrypted one."""
    state = file_state(path)
    if keyed and state == "plain":
        raise RotaError(
            f"{path} is a plain (unencrypted) database but {DB_KEY_ENV} is set: "
            "unset it, or convert the file with `rota db encrypt`"
        )
    if not keyed and state == "encrypted":
        raise RotaError(
            f"{path} is encrypted (or is not a SQLite database): set {DB_KEY_ENV} to its key"
        )


def wrong_key(path: Path | str) -> RotaError:
    return RotaError(f"the database key does not open {path}: check {DB_KEY_ENV}")


def verify_key(dbapi_connection: Any, path: Path | str) -> None:
    """Read the schema once, so a wrong key fails here, as one line, and not mid-request.

    SQLCipher logs failed decryption to stderr at its default level; the line we raise says it
    all, so that log is silenced (a process-wide setting of the driver, not of the file)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA cipher_log_level = NONE")
        cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher().DatabaseError as exc:
        raise wrong_key(path) from exc
    finally:
        cursor.close()


@dataclass(frozen=True)
class Encrypted:
    path: Path
    plain_copy: Path | None  # the original, kept until the operator has checked the new file
    tables: int
    rows: int


def encrypt_file(path: Path, key: str, *, keep_plain: bool = True) -> Encrypted:
    """Convert a plain SQLite file to SQLCipher in place, never leaving a half-written database.

    1. Take the file: switch it out of WAL (this fails while any other process has it open, so a
       running `rota serve` is reported, not raced) and hold a lock that keeps writers out.
    2. `sqlcipher_export` into `<name>.encrypting` beside it, keyed.
    3. Verify the new file: it opens with the key, passes integrity checks, its header is not
       plain, and every table holds as many rows as the original.
    4. Keep the original as `<name>.plain` (a hard link: the database path never disappears),
       then atomically rename the new file over the database path.
    """
    if not key:
        raise InvalidInput(f"set {DB_KEY_ENV} to the key the new file should have")
    state = file_state(path)
    if state != "plain":
        raise InvalidInput(
            f"{path} is already encrypted" if state == "encrypted" else f"no database at {path}"
        )
    driver = sqlcipher()
    staging = path.with_name(path.name + ".encrypting")
    plain_copy = path.with_name(path.name + ".plain")
    if plain_copy.exists():
        raise InvalidInput(f"{plain_copy} exists (an earlier conversion?): move it away first")
    staging.unlink(missing_ok=True)  # a crashed earlier attempt; never the database itself
    source = driver.connect(str(path), isolation_level=None, timeout=5)
    try:
        _take(source, path, driver)
        counts = _counts(source, "main")
        source.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(staging), key))
        try:
            source.execute("SELECT sqlcipher_export('encrypted')")
            version = source.execute("PRAGMA main.user_version").fetchone()[0]
            source.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        finally:
            source.execute("DETACH DATABASE encrypted")
        _verify(staging, key, counts, driver)
        _fsync(staging)
        if keep_plain:
            _keep(path, plain_copy)
        os.replace(staging, path)
        _fsync_dir(path.parent)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return Encrypted(path, plain_copy if keep_plain else None, len(counts), sum(counts.values()))


def _take(source: Any, path: Path, driver: ModuleType) -> None:
    try:
        mode = source.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        source.execute("PRAGMA locking_mode = EXCLUSIVE")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the lock, held
    except driver.OperationalError as exc:
        raise RotaError(
            f"{path} is in use ({exc}): stop every Rota process using it, then try again"
        ) from exc
    if str(mode).lower() != "delete":
        raise RotaError(f"{path} is in use: stop every Rota process using it, then try again")


def _counts(connection: Any, schema: str) -> dict[str, int]:
    # `schema` is one of this module's two constant names ("main", the attached copy's) and the
    # table names come from sqlite_master itself: no outside text reaches these statements.
    names = [
        row[0]
        for row in connection.execute(
            f"SELECT name FROM {schema}.sqlite_master "  # nosec B608
            "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {
        name: connection.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0]  # nosec B608
        for name in names
    }


def _verify(staging: Path, key: str, expected: dict[str, int], driver: ModuleType) -> None:
    if file_state(staging) != "encrypted":
        raise RotaError(
            f"the encrypted copy {staging} was not written as expected; nothing changed"
        )
    check = driver.connect(str(staging), isolation_level=None)
    try:
        check.execute("PRAGMA key = " + _quoted(key))
        problems = [row[0] for row in check.execute("PRAGMA cipher_integrity_check")]
        problems += [r[0] for r in check.execute("PRAGMA integrity_check") if r[0] != "ok"]
        found = _counts(check, "main")
    finally:
        check.close()
    if problems or found != expected:
        raise RotaError(
            f"the encrypted copy did not verify ({'; '.join(problems[:3]) or 'row counts differ'}); "
            "nothing changed"
        )


def _keep(path: Path, plain_copy: Path) -> None:
    try:
        os.link(path, plain_copy)
    except OSError:  # a file system without hard links
        shutil.copy2(path, plain_copy)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
