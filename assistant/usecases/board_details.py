"""One block of the board opened: the session as the caller may see it, and what they may do
with it now (check in, attended, no-show, move).

What is shown is the permissions pack's answer, never the page's: the session's fields through
`assistant.access.redact_for`, each patient's clinical detail (level of care, phase, needs) only
to a caller who may view it for that patient (`view_clinical`, as a patient's record shows it),
and such a look-up is written to the audit log (PERM-AUDIT-ACCESS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from assistant.access import authorize, permits, redact_for
from assistant.usecases import appointments, attendance
from assistant.usecases.patients import CLINICAL, _relation
from clinic import access_log
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import RotaError
from clinic.models import Group, Patient, Room, SessionType, Staff
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from rules import permissions

BOARD_MARKS = ("check_in", "attended", "no_show")
"""The attendance buttons a block offers (a late cancellation is a cancellation: chat or API)."""
AFTER_START = frozenset({"attended", "no_show"})
"""Marks that need the session to have started (clinic.placement.check_outcome_time)."""
MOVABLE = frozenset({"booked"})


@dataclass(frozen=True)
class Member:
    id: str
    name: str | None
    """None when the caller may not see who it is."""
    status: str
    level_of_care: str | None = None
    phase: str | None = None
    needs: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()
    """The attendance marks the caller may record for this member now (a group's members)."""


@dataclass(frozen=True)
class Details:
    id: str
    start: datetime
    end: datetime
    status: str
    session_type: str | None
    group: str | None
    staff: tuple[str, ...]
    room: str | None
    note: str | None
    members: tuple[Member, ...]
    marks: tuple[str, ...]
    """Marks for the whole session (a session with at most one patient)."""
    can_move: bool
    patient: str | None
    """The one patient of a session that may be moved (what the move dialog searches for)."""
    session_type_id: str | None


def details(db: Database, caller: Caller, appointment_id: str) -> Details:
    authorize(db, caller, "view_schedule")
    view = appointments.current(db, appointment_id)
    tz = db.facility_tz()
    record = redact_for(db, caller, view, tz)
    shown_patients = set(record.get("patients") or ())
    clinical = {p: _clinical_fields(db, caller, p) for p in view.patients if p in shown_patients}
    with db.read() as session:
        patients = {
            p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(view.patients)))
        }
        names = {
            s.id: s.name for s in session.scalars(select(Staff).where(Staff.id.in_(view.staff)))
        }
        room = session.get(Room, view.room) if view.room and "room" in record else None
        kind = session.get(SessionType, view.session_type) if "session_type" in record else None
        group = session.get(Group, view.group) if view.group and "group" in record else None
        members = []
        for pid in view.patients:
            p = patients.get(pid)
            seen = clinical.get(pid, set())
            members.append(
                Member(
                    id=pid,
                    name=p.name if p is not None and pid in shown_patients else None,
                    status=view.outcome_of(pid),
                    level_of_care=p.level_of_care if p and "level_of_care" in seen else None,
                    phase=p.phase if p and "phase" in seen else None,
                    needs=tuple(p.needs or ()) if p and "needs" in seen else (),
                )
            )
        room_name = room.name if room else record.get("room")
        type_name = (kind.name or kind.id) if kind else None
        group_name = group.name if group else None
    _log_look_up(db, caller, view.id, shown_patients, clinical)
    group_session = len(view.patients) > 1
    if group_session:
        members = [
            Member(**{**m.__dict__, "marks": _marks(db, caller, view, m.id)}) for m in members
        ]
    return Details(
        id=view.id,
        start=view.start.astimezone(tz),
        end=view.end.astimezone(tz),
        status=view.status,
        session_type=type_name,
        group=group_name,
        staff=tuple(names.get(s, s) for s in record.get("staff") or ()),
        room=room_name,
        note=record.get("note"),
        members=tuple(members),
        marks=() if group_session else _marks(db, caller, view, None),
        can_move=_can_move(db, caller, view),
        patient=view.patients[0] if len(view.patients) == 1 else None,
        session_type_id=view.session_type if "session_type" in record else None,
    )


def _clinical_fields(db: Database, caller: Caller, patient: str) -> set[str]:
    relation = _relation(db, caller, patient)
    return permissions.visible_fields(caller.roles, relation) & CLINICAL


def _log_look_up(
    db: Database,
    caller: Caller,
    appointment_id: str,
    shown: set[str],
    clinical: dict[str, set[str]],
) -> None:
    """Each patient named, in the access log (not the audit log: a read changes nothing, and
    the board's ETag follows the audit log); clinical fields shown are listed per patient."""
    with access_log.batch(db):
        for patient in sorted(shown):
            fields = sorted(clinical.get(patient, ()))
            detail = {"appointment": appointment_id, "clinical": fields}
            access_log.record_reads(db, caller, access_log.PATIENT_VIEW, [patient], detail=detail)


def _marks(
    db: Database, caller: Caller, view: AppointmentView, patient: str | None
) -> tuple[str, ...]:
    """The marks that make sense now and would be accepted: the status allows them, a check-in
    is on the session's day, an outcome once it has started, and the pack lets the caller
    record attendance for it."""
    status = view.outcome_of(patient) if patient else view.status
    now = now_utc()
    started = now >= view.start
    tz = db.facility_tz()
    on_the_day = now.astimezone(tz).date() == view.start.astimezone(tz).date()
    possible = tuple(
        m
        for m in BOARD_MARKS
        if status in attendance.FROM[m]
        and (started or m not in AFTER_START)
        and (on_the_day or m != "check_in")  # people arrive on the day
    )
    if not possible:
        return ()
    about = view.for_patient(patient) if patient else view
    may = appointments.permits_for_patients(db, caller, "set_status", about.patients)
    if not may or not permits(db, caller, appointments.MARK_ATTENDANCE, appointment=about):
        return ()
    return possible


def _can_move(db: Database, caller: Caller, view: AppointmentView) -> bool:
    """One patient's booked session that has not started, and the caller may move it."""
    if len(view.patients) != 1 or view.status not in MOVABLE or now_utc() >= view.start:
        return False
    try:
        return appointments.permits_for_patients(db, caller, "move", view.patients)
    except RotaError:
        return False
