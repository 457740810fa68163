"""The audit log is append-only and any tampering breaks the hash chain at the right event."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from clinic.audit import append_event, verify_chain
from clinic.db import Database
from clinic.models import AuditEvent


def _events(db: Database, n: int) -> None:
    with db.session() as session:
        for i in range(n):
            append_event(
                session,
                actor=f"user{i}",
                action="appointment.book",
                entity_type="appointment",
                entity_id=f"a{i}",
                after={"status": "booked", "i": i},
                reason="test",
                decision={"allowed": True, "fired": []},
            )


def test_chain_verifies(any_db: Database) -> None:
    _events(any_db, 5)
    with any_db.session() as session:
        report = verify_chain(session)
    assert report.ok and report.events == 5


def test_database_refuses_updates_and_deletes(any_db: Database) -> None:
    _events(any_db, 2)
    for statement in ("UPDATE audit_event SET reason = 'edited'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="audit_append_only"), any_db.session() as session:
            session.execute(text(statement))


def _drop_guard(db: Database) -> None:
    """What an attacker with DDL rights would do first."""
    with db.session() as session:
        if db.dialect == "postgresql":
            session.execute(text("DROP TRIGGER audit_append_only ON audit_event"))
        else:
            session.execute(text("DROP TRIGGER audit_append_only_update"))
            session.execute(text("DROP TRIGGER audit_append_only_delete"))


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 3", "content was changed"),
        ("UPDATE audit_event SET actor = 'someone else' WHERE seq = 3", "content was changed"),
        ("DELETE FROM audit_event WHERE seq = 3", "link to the previous event is broken"),
    ],
    ids=["reason-edited", "actor-edited", "event-removed"],
)
def test_tampering_is_detected(any_db: Database, tamper: str, problem: str) -> None:
    _events(any_db, 5)
    _drop_guard(any_db)
    with any_db.session() as session:
        session.execute(text(tamper))
    with any_db.session() as session:
        report = verify_chain(session)
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert not report.ok
    assert problem in (report.problem or "")
    assert report.broken_at == (3 if 3 in seqs else 4)
