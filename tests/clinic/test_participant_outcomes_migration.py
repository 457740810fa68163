"""Migration 0008 (each participant's own outcome) on SQLite and PostgreSQL: existing rows take
their appointment's status, and SQLite keeps its overlap triggers (no table rebuild)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from clinic.db import Database
from clinic.migrate import alembic_config, upgrade

TRIGGERS = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"


def test_existing_participants_take_their_sessions_status(any_demo_db: Database) -> None:
    engine = any_demo_db.engine
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        triggers = (
            connection.execute(text(TRIGGERS), {"table": "appointment_patient"}).scalars().all()
            if sqlite
            else []
        )
    command.downgrade(alembic_config(engine), "0007")
    with engine.begin() as connection:
        connection.execute(text("UPDATE appointment SET status = 'no_show' WHERE id = 'a00011'"))
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT ap.status, a.status FROM appointment_patient ap "
                "JOIN appointment a ON a.id = ap.appointment_id"
            )
        ).all()
        assert rows and all(own == session for own, session in rows)
        group = connection.execute(
            text("SELECT status FROM appointment_patient WHERE appointment_id = 'a00011'")
        ).scalars()
        assert set(group) == {"no_show"}
        if sqlite:
            kept = connection.execute(text(TRIGGERS), {"table": "appointment_patient"})
            assert sorted(kept.scalars()) == sorted(triggers) and triggers
