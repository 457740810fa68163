"""What the operator reads: the agenda, names, the audit log, whether a facility is loaded, and
whether the database answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from assistant.access import authorize, session_fields
from clinic import access_log
from clinic.audit import ChainReport, iter_events, verify_chain
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import AuditEvent, Facility, Patient, Room, Staff
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
    # Only the patients the caller is shown by name were read (the read-only command line sees
    # none: its agenda is times and rooms, no row in the access log).
    shown = dict.fromkeys(
        p for row in rows if "name" in session_fields(caller, row.staff) for p in row.patients
    )
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


@dataclass(frozen=True)
class AccessQuery:
    patient: str
    start: date | None = None
    """First day (the facility's zone), inclusive."""
    end: date | None = None
    """Last day, inclusive."""


def access_events(db: Database, caller: Caller, query: AccessQuery) -> list[dict[str, Any]]:
    """Who saw a patient's information (HIPAA §164.312(b)): every read, refusal and emergency
    access the access log holds for them, newest last."""
    authorize(db, caller, "view_audit")
    if query.start and query.end and query.end < query.start:
        raise InvalidInput("--to must not be before --from")
    tz = db.facility_tz()
    start = day_bounds(query.start, tz)[0] if query.start else None
    end = day_bounds(query.end, tz)[1] if query.end else None
    with db.read() as session:
        _known_patient(session, query.patient)
        rows = access_log.accesses(session, query.patient, start=start, end=end)
        return [
            {
                "at": local_iso(r.at, tz),
                "actor": r.actor,
                "role": r.actor_role,
                "door": r.door,
                "action": r.action,
                "outcome": r.outcome,
                "reason": r.reason,
                "detail": r.detail,
            }
            for r in rows
        ]


def disclosures(db: Database, caller: Caller, patient: str) -> list[dict[str, Any]]:
    """Disclosures about a patient to anyone outside the facility's workforce (42 CFR Part 2
    accounting): each judged message, report or feed, with its recipient, channel and the
    decision, newest last. They are the audit log's `disclosure` events."""
    authorize(db, caller, "view_audit")
    tz = db.facility_tz()
    with db.read() as session:
        _known_patient(session, patient)
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(DISCLOSURE_EVENTS))
            .order_by(AuditEvent.seq)
        )
        out = []
        for e in events:
            after = e.after or {}
            if patient not in (after.get("patients") or ()):
                continue
            recipient = after.get("recipient")
            if recipient == "workforce":
                continue
            out.append(
                {
                    "at": local_iso(e.at, tz),
                    "actor": e.actor,
                    "recipient": recipient or "whoever holds the link",
                    "recipient_name": after.get("recipient_name"),
                    "channel": after.get("channel"),
                    "content": after.get("content"),
                    "decision": "allowed" if e.action == "disclosure" else "refused",
                    "purpose": e.reason,
                }
            )
        return out


DISCLOSURE_EVENTS = ("disclosure", "disclosure.refused")
"""The audit actions of a judged disclosure (assistant.disclosure, assistant.messages)."""


def _known_patient(session: Session, patient: str) -> None:
    if session.get(Patient, patient) is None:
        raise NotFound(f"there is no patient {patient!r}")


def ping(db: Database) -> str:
    """Ask the database a trivial question; returns its dialect."""
    with db.read() as session:
        session.execute(text("SELECT 1"))
    return db.dialect
