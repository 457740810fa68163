"""Book, cancel, move and record what happened: one authorization step, one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from assistant.access import authorize, permits
from assistant.usecases import waitlist
from assistant.usecases.notices import tell_patients
from assistant.wiring import booking_service
from clinic.booking import AppointmentView, BookingRequest, require_known_status, view_of
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import APPOINTMENT_STATUSES, OUTCOME_STATUSES, Appointment
from clinic.tokens import Caller

STATUSES = APPOINTMENT_STATUSES
"""Every status SetStatus names (the booking service says which may follow which)."""

MARK_ATTENDANCE = "mark_attendance"
ATTENDANCE_STATUSES = frozenset({"checked_in", *OUTCOME_STATUSES})
"""Statuses that record what happened to a session: the clinician who held it, or someone
whose role may for any session (the front desk, directors), records them."""
FREES_TIME = frozenset({"cancelled", "late_cancelled"})
"""Statuses that leave the session's time free for someone on the waitlist."""


@dataclass(frozen=True)
class Book:
    session_type: str
    start: datetime
    staff: tuple[str, ...]
    patients: tuple[str, ...]
    room: str | None = None
    minutes: int | None = None
    group: str | None = None
    note: str | None = None
    pinned: bool = False
    reason: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class Cancel:
    appointment_id: str
    reason: str
    late: bool = False
    override_reason: str | None = None


@dataclass(frozen=True)
class Move:
    appointment_id: str
    reason: str
    start: datetime | None = None
    staff: tuple[str, ...] = field(default_factory=tuple)
    room: str | None = None
    minutes: int | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class SetStatus:
    appointment_id: str
    status: str
    reason: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class SetParticipantStatus:
    """One participant's outcome: in a group, that member's alone (the others and the session
    keep theirs); for a one-patient session, the session's status."""

    appointment_id: str
    patient: str
    status: str
    reason: str | None = None
    override_reason: str | None = None


def authorize_for_patients(
    db: Database, caller: Caller, action: str, patients: Iterable[str]
) -> None:
    """The one authorization step of a change: the caller may do it for every patient in it
    (an appointment without patients, such as a staff meeting, needs the role alone)."""
    named = list(dict.fromkeys(patients))
    for patient in named or [None]:
        authorize(db, caller, action, patient_id=patient)


def permits_for_patients(
    db: Database, caller: Caller, action: str, patients: Iterable[str]
) -> bool:
    """Whether `authorize_for_patients` would let this through (for what to offer: nothing is
    logged as an attempt)."""
    named = list(dict.fromkeys(patients))
    return all(permits(db, caller, action, patient_id=p) for p in named or [None])


def current(db: Database, appointment_id: str) -> AppointmentView:
    """An appointment as it is now (its patients never change, so it may be read before the
    change's transaction)."""
    with db.read() as session:
        row = session.get(Appointment, appointment_id)
        if row is None:
            raise NotFound(f"no appointment {appointment_id!r}")
        return view_of(row)


def book(db: Database, caller: Caller, cmd: Book) -> AppointmentView:
    authorize_for_patients(db, caller, "book", cmd.patients)
    request = BookingRequest(
        session_type=cmd.session_type,
        start=cmd.start,
        staff=list(cmd.staff),
        patients=list(cmd.patients),
        room=cmd.room,
        minutes=cmd.minutes,
        group=cmd.group,
        note=cmd.note,
        pinned=cmd.pinned,
    )
    with db.session() as session:
        return booking_service(db, session).book(
            caller.staff_id, request, reason=cmd.reason, override_reason=cmd.override_reason
        )


def cancel(db: Database, caller: Caller, cmd: Cancel) -> AppointmentView:
    appointment = current(db, cmd.appointment_id)
    authorize_for_patients(db, caller, "cancel", appointment.patients)
    if cmd.late:  # a late cancellation is attendance: recorded for the session's own clinician
        authorize(db, caller, MARK_ATTENDANCE, appointment=appointment)
    with db.session() as session:
        after = booking_service(db, session).cancel(
            caller.staff_id,
            cmd.appointment_id,
            reason=cmd.reason,
            late=cmd.late,
            override_reason=cmd.override_reason,
        )
        if not cmd.late:  # a late cancellation is the patient's own: nobody to tell
            _tell(session, appointment, None)
        waitlist.offer_freed(db, session, [waitlist.slot_of(appointment)], actor=caller.staff_id)
        return after


def move(db: Database, caller: Caller, cmd: Move) -> AppointmentView:
    before = current(db, cmd.appointment_id)
    authorize_for_patients(db, caller, "move", before.patients)
    with db.session() as session:
        after = booking_service(db, session).move(
            caller.staff_id,
            cmd.appointment_id,
            start=cmd.start,
            staff=list(cmd.staff) or None,
            room=cmd.room,
            minutes=cmd.minutes,
            reason=cmd.reason,
            override_reason=cmd.override_reason,
        )
        _tell(session, before, after.start)
        if after.start != before.start or after.staff != before.staff:
            waitlist.offer_freed(db, session, [waitlist.slot_of(before)], actor=caller.staff_id)
        return after


def _tell(session: Session, before: AppointmentView, start: datetime | None) -> None:
    """The patients of a moved or cancelled session get one notice (keyed by the change)."""
    change = f"{before.id}:{before.start.isoformat()}>{start.isoformat() if start else 'cancelled'}"
    move = {
        "appointment": before.id,
        "before": {"staff": before.staff, "start": before.start, "patients": before.patients},
        "after": {"staff": [], "start": start},
    }
    tell_patients(session, [move], change=change)


def set_status(db: Database, caller: Caller, cmd: SetStatus) -> AppointmentView:
    require_known_status(cmd.status)  # bad input is told as such, whoever asks
    appointment = current(db, cmd.appointment_id)
    authorize_for_patients(db, caller, "set_status", appointment.patients)
    if cmd.status in ATTENDANCE_STATUSES:
        authorize(db, caller, MARK_ATTENDANCE, appointment=appointment)
    with db.session() as session:
        after = booking_service(db, session).set_status(
            caller.staff_id,
            cmd.appointment_id,
            cmd.status,
            reason=cmd.reason,
            override_reason=cmd.override_reason,
        )
        if cmd.status in FREES_TIME:
            waitlist.offer_freed(
                db, session, [waitlist.slot_of(appointment)], actor=caller.staff_id
            )
        return after


def set_participant_status(
    db: Database, caller: Caller, cmd: SetParticipantStatus
) -> AppointmentView:
    require_known_status(cmd.status)
    appointment = current(db, cmd.appointment_id)
    if cmd.patient not in appointment.patients:  # said first: whom the caller may mark is moot
        raise InvalidInput(
            f"patient: {cmd.patient!r} is not in appointment {cmd.appointment_id} "
            f"(its patients: {', '.join(appointment.patients) or 'none'})",
            [f"patient: {cmd.patient!r} is not in appointment {cmd.appointment_id}"],
        )
    cancelling = cmd.status in {"cancelled", "late_cancelled"}
    authorize_for_patients(db, caller, "cancel" if cancelling else "set_status", [cmd.patient])
    if cmd.status in ATTENDANCE_STATUSES:  # the group's facilitators, or a role for any session
        authorize(db, caller, MARK_ATTENDANCE, appointment=appointment.for_patient(cmd.patient))
    with db.session() as session:
        return booking_service(db, session).set_participant_status(
            caller.staff_id,
            cmd.appointment_id,
            cmd.patient,
            cmd.status,
            reason=cmd.reason,
            override_reason=cmd.override_reason,
        )
