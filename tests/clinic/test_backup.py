"""`rota db backup` / `rota db restore` for the embedded database: a consistent copy while a
writer runs, encrypted stays encrypted, a restore that checks first and changes nothing on a bad
file, an older backup migrated up, and one line for PostgreSQL."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text

from clinic import backup, encryption
from clinic.audit import append_event, verify_chain
from clinic.db import Database, open_database
from clinic.errors import InvalidInput
from clinic.facility_file import load_facility
from clinic.migrate import alembic_config, head
from clinic.models import AuditEvent
from integrations.cli.main import run
from tests.clinic.helpers import small_facility

KEY = "backup test key: not a secret"


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[Database]:
    (tmp_path / "live").mkdir()
    database = open_database(f"sqlite:///{tmp_path / 'live' / 'rota.sqlite3'}")
    load_facility(database, small_facility(), actor="test")
    yield database
    database.dispose()


def events(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def note(db: Database, what: str) -> None:
    with db.session() as session:
        append_event(session, actor="test", action="test.note", entity_type="test", reason=what)


def digest(path: Path) -> str:
    files = [Path(f"{path}{s}") for s in ("", "-wal")]
    return hashlib.sha256(b"".join(p.read_bytes() for p in files if p.exists())).hexdigest()


def test_a_backup_is_one_consistent_snapshot_while_a_writer_runs(
    live: Database, tmp_path: Path
) -> None:
    stop = threading.Event()
    written = []

    def writer() -> None:
        while not stop.is_set():
            note(live, f"write {len(written)}")
            written.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        done = backup.backup(live, tmp_path / "copy.sqlite3", actor="operator")
    finally:
        stop.set()
        thread.join()
    assert done.migration == head() and done.file.exists()
    assert not (tmp_path / "copy.sqlite3.partial").exists()
    copy = Database(f"sqlite:///{done.file}")
    with copy.read() as session:
        report = verify_chain(session)  # every event's hash follows its predecessor's
        copied = session.scalar(select(func.count()).select_from(AuditEvent))
    copy.dispose()
    assert report.ok and 0 < copied <= len(events(live))
    assert "database.backup" in events(live)  # audited in the live database


def test_restore_replaces_the_database_and_keeps_the_old_one(
    live: Database, tmp_path: Path
) -> None:
    saved = backup.backup(live, tmp_path / "saved.sqlite3", actor="operator")
    note(live, "after the backup")
    done = backup.restore(live, saved.file, actor="operator")
    assert done.was_at == done.now_at == head()
    trail = events(live)
    assert "test.note" not in trail  # the change after the backup is gone
    assert trail[-1] == "database.restore" and "database.backup" not in trail
    assert done.kept is not None and done.kept.exists()
    with live.read() as session:
        assert verify_chain(session).ok
    before = Database(f"sqlite:///{done.kept}")
    assert events(before)[-1] == "test.note"
    before.dispose()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_bytes(b"not a database at all, just words"), "not"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE x (y)").connection.commit(),
            "not a Rota database|a plain",
        ),
        (lambda p: None, "no such file"),
    ],
    ids=["junk", "another-sqlite-database", "missing"],
)
def test_a_bad_file_is_refused_and_nothing_changes(
    live: Database, tmp_path: Path, make: object, says: str
) -> None:
    bad = tmp_path / "bad.sqlite3"
    make(bad)  # type: ignore[operator]
    path = Path(live.url.removeprefix("sqlite:///"))
    live.dispose()
    was = digest(path)
    with pytest.raises(InvalidInput, match=says) as refused:
        backup.restore(live, bad, actor="operator")
    if says != "no such file":
        assert "nothing was changed" in str(refused.value)
    assert digest(path) == was
    assert not list(path.parent.glob("*.restoring*"))


def test_a_backup_from_a_newer_program_is_refused(live: Database, tmp_path: Path) -> None:
    saved = backup.backup(live, tmp_path / "newer.sqlite3", actor="operator")
    newer = backup._connect(saved.file, encryption.db_key())  # keyed under ROTA_TEST_SQLITE
    newer.execute("UPDATE alembic_version SET version_num = '0099_future'")
    newer.close()
    with pytest.raises(InvalidInput, match="migration 0099_future, which this program does not"):
        backup.restore(live, saved.file, actor="operator")
    assert events(live)[-1] == "database.backup"


def test_an_older_backup_is_migrated_up(live: Database, tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    database = Database(f"sqlite:///{old}")
    command.upgrade(alembic_config(database.engine), "0018")
    database.dispose()
    done = backup.restore(live, old, actor="operator")
    assert (done.was_at, done.now_at) == ("0018", head())
    with live.read() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()
    assert events(live) == ["database.restore"]


def test_an_encrypted_database_stays_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(encryption.DB_KEY_ENV, KEY)
    keyed = open_database(f"sqlite:///{tmp_path / 'keyed.sqlite3'}")
    load_facility(keyed, small_facility(), actor="test")
    done = backup.backup(keyed, tmp_path / "keyed-copy.sqlite3", actor="operator")
    assert done.encrypted and encryption.file_state(done.file) == "encrypted"
    assert b"Test Clinic" not in done.file.read_bytes()
    note(keyed, "after")
    assert backup.restore(keyed, done.file, actor="operator").encrypted
    assert "test.note" not in events(keyed)
    keyed.dispose()
    monkeypatch.delenv(encryption.DB_KEY_ENV)
    plain = open_database(f"sqlite:///{tmp_path / 'plain.sqlite3'}")
    with pytest.raises(InvalidInput, match="set ROTA_DB_KEY to its key; nothing was changed"):
        backup.restore(plain, done.file, actor="operator")
    plain.dispose()


def test_the_commands_and_postgresql(
    live: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", live.url)
    target = tmp_path / "cli.sqlite3"
    assert run(["db", "backup", str(target)]) == 0
    assert f"backed up to {target}" in capsys.readouterr().out
    assert run(["db", "backup", str(target)]) != 0
    assert "exists" in capsys.readouterr().err
    assert run(["db", "restore", str(target)]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "kept at" in out
    monkeypatch.setenv("ROTA_DATABASE_URL", "postgresql+psycopg://rota@127.0.0.1:9/rota")
    for verb in ("backup", "restore"):
        assert run(["db", verb, str(tmp_path / "pg.dump")]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "pg_dump" in err[0] and "pg_restore" in err[0]
