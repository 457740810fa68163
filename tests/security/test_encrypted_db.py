"""At rest: with ROTA_DB_KEY the embedded database is a SQLCipher file that gives nothing away
without the key, still behaves as Rota's database (WAL, foreign keys, the append-only audit
log), refuses a wrong or missing key in one line, and a plain file converts safely.

These run in every suite; ROTA_TEST_SQLITE=sqlcipher runs the rest of it encrypted too."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from clinic import encryption
from clinic.db import Database, encrypt_database, open_database
from clinic.errors import RotaError
from clinic.facility_file import load_facility
from integrations.cli.main import run
from tests.clinic.helpers import small_facility

KEY = "correct horse 'battery' \"staple\""  # quotes of both kinds reach PRAGMA key intact
NAME = "Wilhelmina Zabriskie-Okonkwo"  # a patient name that cannot occur by chance


def _facility() -> dict:
    data = small_facility()
    data["patients"][0]["name"] = NAME
    return data


def _loaded(path: Path) -> None:
    database = open_database(f"sqlite:///{path}")
    load_facility(database, _facility(), actor="test")
    database.dispose()  # the last connection checkpoints the WAL into the main file


def _on_disk(path: Path) -> bytes:
    """Every byte Rota left for this database: the file and any WAL or shared-memory file."""
    files = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


@pytest.fixture()
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(encryption.DB_KEY_ENV, KEY)
    return KEY


@pytest.fixture()
def unkeyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(encryption.DB_KEY_ENV, raising=False)


def test_the_file_on_disk_gives_nothing_away(tmp_path: Path, keyed: str) -> None:
    path = tmp_path / "rota.sqlite3"
    _loaded(path)
    assert path.read_bytes()[:16] != b"SQLite format 3\x00"
    assert NAME.encode() not in _on_disk(path)
    assert b"Tara Quinn" not in _on_disk(path)  # staff names too
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()
    database = open_database(f"sqlite:///{path}")  # while the key opens it
    with database.read() as session:
        names = session.execute(text("SELECT name FROM patient")).scalars().all()
    database.dispose()
    assert NAME in names


def test_without_a_key_the_same_load_is_readable(tmp_path: Path, unkeyed: None) -> None:
    """The control: the scan above would see the name if the file were plain."""
    path = tmp_path / "rota.sqlite3"
    _loaded(path)
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert NAME.encode() in _on_disk(path)


def test_wal_foreign_keys_and_the_append_only_audit_log_still_hold(
    tmp_path: Path, keyed: str
) -> None:
    path = tmp_path / "rota.sqlite3"
    _loaded(path)
    database = open_database(f"sqlite:///{path}")
    try:
        with database.session() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(text("PRAGMA cipher_version")).scalar()
        for statement in ("UPDATE audit_event SET reason = 'edited'", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError, match="audit_append_only"), database.session() as s:
                s.execute(text(statement))
        with pytest.raises(DBAPIError, match="FOREIGN KEY"), database.session() as session:
            session.execute(
                text(
                    "INSERT INTO room_unavailability (room_id, start, \"end\", reason) VALUES ('nowhere', '2027-01-01', '2027-01-02', 'x')"
                )
            )
    finally:
        database.dispose()


def test_a_wrong_key_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, keyed: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    """capfd: SQLCipher's own log of the failed decryption (C code, on fd 2) is silenced too."""
    path = tmp_path / "rota.sqlite3"
    _loaded(path)
    monkeypatch.setenv(encryption.DB_KEY_ENV, "not the key")
    with pytest.raises(RotaError) as refused:
        open_database(f"sqlite:///{path}")
    assert str(refused.value) == f"the database key does not open {path}: check ROTA_DB_KEY"
    monkeypatch.setenv("ROTA_DATABASE_URL", f"sqlite:///{path}")
    capfd.readouterr()
    assert run(["agenda"]) == 1
    captured = capfd.readouterr()
    assert captured.err == f"rota: the database key does not open {path}: check ROTA_DB_KEY\n"


def test_a_key_for_a_plain_file_and_no_key_for_an_encrypted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, sealed = tmp_path / "plain.sqlite3", tmp_path / "sealed.sqlite3"
    monkeypatch.delenv(encryption.DB_KEY_ENV, raising=False)
    _loaded(plain)
    monkeypatch.setenv(encryption.DB_KEY_ENV, KEY)
    _loaded(sealed)
    with pytest.raises(RotaError, match=r"plain.sqlite3 is a plain \(unencrypted\) database but"):
        open_database(f"sqlite:///{plain}")
    monkeypatch.delenv(encryption.DB_KEY_ENV)
    with pytest.raises(RotaError, match=r"sealed.sqlite3 is encrypted .*: set ROTA_DB_KEY"):
        open_database(f"sqlite:///{sealed}")


def test_rota_db_encrypt_converts_a_plain_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "rota.sqlite3"
    monkeypatch.delenv(encryption.DB_KEY_ENV, raising=False)
    _loaded(path)
    before = _rows(open_database(f"sqlite:///{path}"))
    monkeypatch.setenv("ROTA_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv(encryption.DB_KEY_ENV, KEY)
    capsys.readouterr()
    assert run(["db", "encrypt"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"encrypted {path}" in out and "rota.sqlite3.plain" in out
    assert NAME.encode() not in _on_disk(path)
    assert not (tmp_path / "rota.sqlite3.encrypting").exists()
    assert _rows(open_database(f"sqlite:///{path}")) == before  # same rows, opened with the key
    assert (tmp_path / "rota.sqlite3.plain").read_bytes()[:16] == b"SQLite format 3\x00"
    assert run(["db", "encrypt"]) == 2
    assert "already encrypted" in capsys.readouterr().err


def test_a_failed_conversion_leaves_the_original_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rota.sqlite3"
    monkeypatch.delenv(encryption.DB_KEY_ENV, raising=False)
    _loaded(path)
    before = _rows(open_database(f"sqlite:///{path}"))

    def broken(*_args: object) -> None:
        raise RotaError("the encrypted copy did not verify (simulated); nothing changed")

    monkeypatch.setattr(encryption, "_verify", broken)
    monkeypatch.setenv(encryption.DB_KEY_ENV, KEY)
    with pytest.raises(RotaError, match="nothing changed"):
        encrypt_database(f"sqlite:///{path}")
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    monkeypatch.delenv(encryption.DB_KEY_ENV)
    assert _rows(open_database(f"sqlite:///{path}")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rota.sqlite3"]


def test_a_database_in_use_is_not_converted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running Rota (another process holding the file open) is reported, not raced."""
    path = tmp_path / "rota.sqlite3"
    monkeypatch.delenv(encryption.DB_KEY_ENV, raising=False)
    _loaded(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        monkeypatch.setenv(encryption.DB_KEY_ENV, KEY)
        with pytest.raises(RotaError, match=r"is in use.*stop every Rota process"):
            encrypt_database(f"sqlite:///{path}")
    finally:
        holder.kill()
        holder.wait()
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert not (tmp_path / "rota.sqlite3.encrypting").exists()


HOLD = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1])
connection.execute("PRAGMA journal_mode=WAL").fetchone()
connection.execute("SELECT count(*) FROM patient").fetchone()
print("open", flush=True)
time.sleep(60)
"""


def _rows(database: Database) -> dict[str, int]:
    try:
        with database.read() as session:
            return {
                table: session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                for table in ("patient", "staff", "room", "appointment", "audit_event")
            }
    finally:
        database.dispose()


def test_the_key_is_never_in_the_url_people_see(tmp_path: Path, keyed: str) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'rota.sqlite3'}")
    try:
        assert "battery" not in database.url and "battery" not in database.describe()
        assert (
            database.url == f"sqlite:///{tmp_path / 'rota.sqlite3'}"
        )  # the same file, keyed or not
    finally:
        database.dispose()
