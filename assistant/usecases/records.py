"""What the operator reads: the agenda, names, the audit log, whether a facility is loaded, and
whether the database answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from assistant.access import authorize
from clinic import access_log
from clinic.audit import ChainReport, iter_events, verify_chain
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import Facility, Patient, Room, Staff
from clinic.queries import appointments_between, next_open_day
from clinic.timeutil import day_bounds, local_iso, now_utc
from clinic.tokens import Caller


def facility_name(db: Database) -> str | None:
    """The loaded facility's name, or None when none is loaded."""
    with db.read() as session:
        return session.scalar(select(Facility.name).limit(1))


def names(db: Database) -> dict[str, str]:
    """Every staff member's, patient's and room's name by id."""
    out: dict[str, str] = {}
    with db.read() as session:
        for model in (Staff, Patient, Room):
            out.update(dict(session.execute(select(model.id, model.name)).tuples().all()))
    return out


@dataclass(frozen=True)
class AgendaQuery:
    staff: str | None = None
    patient: str | None = None
    room: str | None = None
    day: date | None = None
    """None: today, or the next day the facility is open."""
    days: int = 1


@dataclass(frozen=True)
class Agenda:
    first: date
    start: datetime
    end: datetime
    tz: ZoneInfo
    appointments: list[AppointmentView]
    note: str | None
    """Why the agenda starts on another day than asked (the facility is closed today)."""


def agenda(db: Database, caller: Caller, query: AgendaQuery) -> Agenda:
    """The schedule of one person or room, or of the whole facility, for some days."""
    if sum(x is not None for x in (query.staff, query.patient, query.room)) > 1:
        raise InvalidInput("give at most one of --staff, --patient, --room")
    if facility_name(db) is None:
        raise InvalidInput("no facility is loaded: run `rota demo --load` or `rota load FILE`")
    authorize(db, caller, "view_schedule", staff_id=query.staff)
    if query.patient is not None:
        authorize(db, caller, "patient_schedule", patient_id=query.patient)
    tz = db.facility_tz()
    first = query.day or now_utc().astimezone(tz).date()
    note = None
    with db.read() as session:
        if query.day is None:
            opened = next_open_day(session, first)
            if opened != first:
                note = f"the facility is closed on {first:%A %d %b}; showing {opened:%A %d %b}"
                first = opened
        start, _ = day_bounds(first, tz)
        _, end = day_bounds(first + timedelta(days=query.days - 1), tz)
        rows = appointments_between(
            session, start, end, staff=query.staff, patient=query.patient, room=query.room
        )
    shown = dict.fromkeys(p for row in rows for p in row.patients)
    access_log.record_reads(db, caller, access_log.SCHEDULE_VIEW, shown)
    return Agenda(first, start, end, tz, rows, note)


def audit_verify(db: Database, caller: Caller) -> ChainReport:
    authorize(db, caller, "view_audit")
    with db.read() as session:
        return verify_chain(session)


def audit_events(
    db: Database, caller: Caller, entity: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Audit events (about one id, if given), at most `limit`, newest last."""
    authorize(db, caller, "view_audit")
    tz = db.facility_tz()
    with db.read() as session:
        events = list(iter_events(session, entity))[-limit:]
        return [
            {
                "seq": e.seq,
                "at": local_iso(e.at, tz),
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity_id,
                "reason": e.reason,
                "decision": e.decision,
                "before": e.before,
                "after": e.after,
                "hash": e.hash,
            }
            for e in events
        ]


def ping(db: Database) -> str:
    """Ask the database a trivial question; returns its dialect."""
    with db.read() as session:
        session.execute(text("SELECT 1"))
    return db.dialect
