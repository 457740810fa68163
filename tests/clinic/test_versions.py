"""The audit log as the caches' version: appointment changes and messages leave the facility's
version alone, anything else moves it; a database made anew is never taken for the old one; a
chat turn reads the log once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from assistant.dialogue import Dialogue
from clinic.audit import append_event
from clinic.db import Database, open_database
from clinic.models import Patient
from clinic.tokens import Caller
from clinic.versions import Versions, read_versions


def _event(db: Database, action: str) -> None:
    with db.session() as session:
        append_event(session, actor="test", action=action, entity_type="x", entity_id="a1")


def test_only_changes_beyond_appointments_move_the_facility_version(db: Database) -> None:
    _event(db, "facility.load")
    loaded = read_versions(db)
    assert loaded.facility == loaded.newest is not None
    for action in (
        "appointment.book",
        "appointment.move",
        "disclosure",
        "slack.message",
        "outbox.sent",  # a message delivered changes no fact a cache holds
        "outbox.dead",
    ):
        _event(db, action)
        now = read_versions(db)
        assert now.newest != loaded.newest and now.facility == loaded.facility, action
    _event(db, "staff.unavailable")
    absent = read_versions(db)
    assert absent.facility == absent.newest != loaded.facility


def test_a_database_made_anew_at_the_same_place_is_a_new_version(tmp_path: Path) -> None:
    def made() -> Versions:
        db = open_database(f"sqlite:///{tmp_path / 'rota.sqlite3'}")
        try:
            _event(db, "facility.load")
            return read_versions(db)
        finally:
            db.dispose()

    first = made()
    for path in tmp_path.iterdir():
        path.unlink()
    second = made()
    assert first.facility is not None and second.facility is not None
    assert first.facility.seq == second.facility.seq
    assert first.facility != second.facility


@contextmanager
def _audit_reads(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "audit_event" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_chat_turn_reads_the_audit_log_once(demo_db: Database) -> None:
    now = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    dialogue = Dialogue(demo_db, clock=lambda: now)
    manager = Caller("s006", "case manager", "case_manager")
    with demo_db.read() as session:
        names = list(session.scalars(select(Patient.name).order_by(Patient.position)))[:2]
    dialogue.handle(manager, f"find a slot for {names[0]} tomorrow")  # caches built
    with _audit_reads(demo_db) as reads:
        reply = dialogue.handle(manager, f"find a slot for {names[1]} tomorrow")
    assert "Options" in reply.reply or "nearest" in reply.reply.lower(), reply.reply
    assert len(reads) == 1, reads
