"""Staff members as the clinic's day changes them: added, their hours and specializations
changed, on planned leave, leaving the facility.

A staff record means what it means in the facility file: it is checked by the file's own
validator (clinic.facility_file.records, paths relative to the record: `$.supervisor: ...`) and
written by the file's row builder, so a record added here exports exactly as it was sent.
Planned leave and departures are absences repaired like a sick call (assistant.usecases.absences):
the absence is recorded, and a proposal of cover waits for an approver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.access import authorize
from assistant.usecases import absences
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.facility_file.export import staff_record
from clinic.facility_file.load import staff_row
from clinic.facility_file.records import check_record
from clinic.models import (
    Appointment,
    AppointmentStaff,
    Patient,
    Staff,
    group_facilitator,
)
from clinic.placement import load_row
from clinic.tokens import Caller, revoke_tokens

MANAGE = "manage_staff"
FOR_GOOD = timedelta(days=365 * 100)
"""A departure is an absence with no end: this far ahead stands for "never back"."""
# A record key of the facility file -> the Staff column it sets (the rest share their name).
_COLUMN = {"supervisor": "supervisor_id"}
_SET_ELSEWHERE = {
    "id": "a staff member's id cannot change",
    "unavailable": "absences are recorded as leave (rota staff leave, POST /api/staff/{id}/leave)",
}


@dataclass(frozen=True)
class AddStaff:
    record: dict[str, Any]
    """The facility file's staff object."""


@dataclass(frozen=True)
class UpdateStaff:
    staff_id: str
    changes: dict[str, Any] = field(default_factory=dict)
    """Fields of the facility file's staff object (a JSON merge patch: null removes a field),
    e.g. availability, max_minutes_per_week, specializations."""


@dataclass(frozen=True)
class PlannedLeave:
    staff_id: str
    start: datetime
    end: datetime
    now: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Depart:
    """The staff member leaves the facility from `start`: their later sessions are repaired
    (a proposal), their API tokens revoked."""

    staff_id: str
    start: datetime
    now: datetime
    reason: str | None = None


def add_staff(db: Database, caller: Caller, cmd: AddStaff) -> dict[str, Any]:
    authorize(db, caller, MANAGE)
    tz = db.facility_tz()
    with db.session() as session:
        check_record(session, "staff", cmd.record)
        position = (session.scalar(select(func.max(Staff.position))) or 0) + 1
        row = staff_row(cmd.record, tz, position)
        session.add(row)
        session.flush()
        record = staff_record(row, tz)
        append_event(
            session,
            actor=caller.staff_id,
            action="staff.add",
            entity_type="staff",
            entity_id=row.id,
            after=record,
        )
    return record


def update_staff(db: Database, caller: Caller, cmd: UpdateStaff) -> dict[str, Any]:
    authorize(db, caller, MANAGE, staff_id=cmd.staff_id)
    problems = [
        f"$.{key}: {why.replace('{id}', cmd.staff_id)}"
        for key, why in _SET_ELSEWHERE.items()
        if key in cmd.changes and not (key == "id" and cmd.changes[key] == cmd.staff_id)
    ]
    if problems:
        raise InvalidInput(f"the staff record has {len(problems)} problem(s)", problems)
    tz = db.facility_tz()
    with db.session() as session:
        row = load_row(session, Staff, cmd.staff_id, "staff member")
        before = staff_record(row, tz)
        merged = {**before, **cmd.changes}
        after = {key: value for key, value in merged.items() if value is not None}
        check_record(session, "staff", after, replaces=cmd.staff_id)
        for key in cmd.changes:
            if key not in _SET_ELSEWHERE:
                setattr(row, _COLUMN.get(key, key), after.get(key))
        session.flush()
        record = staff_record(row, tz)
        append_event(
            session,
            actor=caller.staff_id,
            action="staff.update",
            entity_type="staff",
            entity_id=cmd.staff_id,
            before={key: before.get(key) for key in cmd.changes},
            after={key: record.get(key) for key in cmd.changes},
        )
    return record


def planned_leave(db: Database, caller: Caller, cmd: PlannedLeave) -> dict[str, Any]:
    """An absence ahead (leave, a course): recorded now, and its sessions repaired like a sick
    call's, as a proposal an approver applies. Returns the proposal."""
    if cmd.end <= cmd.start:
        raise InvalidInput("$.end must be after $.start", ["$.end: must be after $.start"])
    if cmd.end <= cmd.now:
        raise InvalidInput("that leave is already over", ["$.end: is in the past"])
    return absences.report_absence(
        db,
        caller,
        absences.ReportAbsence(
            cmd.staff_id,
            max(cmd.start, cmd.now),
            cmd.end,
            cmd.now,
            reason=cmd.reason or f"leave, recorded by {caller.staff_id}",
        ),
    )


def depart(db: Database, caller: Caller, cmd: Depart) -> dict[str, Any]:
    """The staff member leaves: unavailable from `start` on, every later session of theirs in a
    repair proposal, their tokens revoked (in the same transaction as the absence). Returns the
    proposal, with the patients whose primary clinician they were (someone must take them on)
    and the groups they facilitate."""
    authorize(db, caller, MANAGE, staff_id=cmd.staff_id)
    start = max(cmd.start, cmd.now)
    with db.read() as session:
        last = _last_session_end(session, cmd.staff_id, start)
    reason = cmd.reason or f"leaves the facility (recorded by {caller.staff_id})"

    def close_the_account(session: Session) -> dict[str, Any]:
        revoked = revoke_tokens(session, cmd.staff_id, actor=caller.staff_id)
        patients = session.scalars(
            select(Patient.id)
            .where(Patient.primary_clinician_id == cmd.staff_id)
            .order_by(Patient.position)
        ).all()
        groups = session.scalars(
            select(group_facilitator.c.group_id).where(group_facilitator.c.staff_id == cmd.staff_id)
        ).all()
        departure = {
            "departure": True,
            "tokens_revoked": revoked,
            "primary_clinician_of": list(patients),
            "facilitates": sorted(groups),
        }
        append_event(
            session,
            actor=caller.staff_id,
            action="staff.depart",
            entity_type="staff",
            entity_id=cmd.staff_id,
            after={"from": start.isoformat(), **departure},
            reason=reason,
        )
        return departure

    return absences.propose_absence(
        db,
        caller,
        cmd.staff_id,
        start,
        start + FOR_GOOD,
        now=cmd.now,
        reason=reason,
        repair_until=max(last or start, start + timedelta(days=1)),
        also=close_the_account,
    )


def _last_session_end(session: Session, staff_id: str, after: datetime) -> datetime | None:
    """When the staff member's last booked session from `after` on ends."""
    return session.scalar(
        select(func.max(Appointment.end))
        .join(AppointmentStaff, AppointmentStaff.appointment_id == Appointment.id)
        .where(
            AppointmentStaff.staff_id == staff_id,
            AppointmentStaff.active,
            Appointment.active,
            Appointment.end > after,
        )
    )
