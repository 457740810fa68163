"""Attendance and the end of the day: check-in, attended, no-show, late cancel; which session a
person means; a whole day marked at once; what is still unmarked.

Recording attendance is the permissions pack's `mark_attendance` (PERM-OWN-SESSIONS: clinicians
for the sessions they hold; the front desk, nurses and directors for any), on top of the
booking service's own transitions (clinic.booking.TRANSITIONS) and rules. The statuses it
writes are the ones the unit ledger (rules.units) and the court report already read, so marking
a session attended uses its payer unit and shows in the court's attendance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from assistant.access import authorize
from assistant.usecases import appointments
from assistant.usecases.appointments import MARK_ATTENDANCE
from assistant.wiring import booking_service
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import InvalidInput, PermissionDenied
from clinic.queries import appointments_between
from clinic.timeutil import day_bounds
from clinic.tokens import Caller
from rules import permissions

STATUS_OF = {
    "check_in": "checked_in",
    "attended": "attended",
    "no_show": "no_show",
    "late_cancel": "late_cancelled",
}
"""What a person says happened → the appointment status it records."""
MARKS = tuple(STATUS_OF)
OPEN = ("booked", "checked_in")
"""Statuses of a session whose attendance is not recorded yet."""
FROM: dict[str, tuple[str, ...]] = {
    "check_in": ("booked",),
    "attended": OPEN,
    "no_show": OPEN,
    "late_cancel": ("booked",),
    "running_late": OPEN,
    "running_over": OPEN,
}
"""The statuses a session may be in for each action (clinic.booking.TRANSITIONS allows them)."""


def status_of(action: str) -> str:
    if action not in STATUS_OF:
        raise InvalidInput(f"action: must be one of {', '.join(MARKS)}, not {action!r}")
    return STATUS_OF[action]


# --- which session ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Find:
    """The sessions a message may mean: a patient's, or a clinician's at a time, on one day."""

    action: str
    day: date
    now: datetime
    patient: str | None = None
    staff: str | None = None
    at: time | None = None
    session_type: str | None = None


def find(db: Database, caller: Caller, cmd: Find) -> list[AppointmentView]:
    """Matching sessions the action can apply to, the one nearest `now` first."""
    if cmd.action not in FROM:
        raise InvalidInput(f"action: must be one of {', '.join(FROM)}, not {cmd.action!r}")
    if cmd.patient is None and cmd.staff is None:
        raise InvalidInput("say whose session it is (a patient, or 'my 2pm')")
    authorize(db, caller, "view_schedule")
    tz = db.facility_tz()
    start, end = day_bounds(cmd.day, tz)
    with db.read() as session:
        rows = appointments_between(
            session, start, end, patient=cmd.patient, staff=cmd.staff, include_cancelled=False
        )
    patient = cmd.patient
    # A named patient's own outcome decides (a group may go on while their no-show is recorded).
    rows = [r for r in rows if (r.outcome_of(patient) if patient else r.status) in FROM[cmd.action]]
    if cmd.at is not None:
        rows = [r for r in rows if r.start.astimezone(tz).time() == cmd.at]
    if cmd.session_type is not None:
        typed = [r for r in rows if r.session_type == cmd.session_type]
        rows = typed or rows  # "today's group" when the word names no session type: any
    return sorted(rows, key=lambda r: abs((r.start - cmd.now).total_seconds()))


# --- one session --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    appointment_id: str
    action: str
    """check_in, attended, no_show or late_cancel."""
    reason: str | None = None
    override_reason: str | None = None
    patient: str | None = None
    """Whose outcome: needed for a group session, except to mark every member not yet marked
    attended at once; in a group only that member's outcome changes."""


def mark(db: Database, caller: Caller, cmd: Mark) -> AppointmentView:
    """Record what happened to one session, or to one participant of it (a late cancellation
    cancels it, late: for a group member, only their place)."""
    status = status_of(cmd.action)
    if cmd.patient is not None:
        return appointments.set_participant_status(
            db,
            caller,
            appointments.SetParticipantStatus(
                cmd.appointment_id,
                cmd.patient,
                status,
                reason=cmd.reason or ("late cancellation" if status == "late_cancelled" else None),
                override_reason=cmd.override_reason,
            ),
        )
    if cmd.action != "attended" and len(appointments.current(db, cmd.appointment_id).patients) > 1:
        raise InvalidInput(
            f"patient: required for a group session's {cmd.action.replace('_', ' ')} "
            "(each member's outcome is their own)",
            [f"patient: required for a group session's {cmd.action}"],
        )
    if status == "late_cancelled":
        return appointments.cancel(
            db,
            caller,
            appointments.Cancel(
                cmd.appointment_id,
                cmd.reason or "late cancellation",
                late=True,
                override_reason=cmd.override_reason,
            ),
        )
    return appointments.set_status(
        db,
        caller,
        appointments.SetStatus(
            cmd.appointment_id, status, reason=cmd.reason, override_reason=cmd.override_reason
        ),
    )


# --- a whole day --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkDay:
    """ "All my sessions today were attended except Jamie's": every session of `staff` on
    `day` that has started and is unmarked becomes `action`, except those of `except_patients`,
    which stay unmarked or become `except_action` when one is said."""

    staff: str
    day: date
    now: datetime
    action: str = "attended"
    except_patients: tuple[str, ...] = ()
    except_action: str | None = None
    reason: str | None = None
    only: tuple[str, ...] | None = None
    """The sessions a person agreed to (a preview's marks): nothing beyond them is written,
    even if another session has started since the preview."""


@dataclass(frozen=True)
class DayPlan:
    marks: list[tuple[AppointmentView, str]] = field(default_factory=list)
    """Each session and the action it gets."""
    left: list[tuple[AppointmentView, str]] = field(default_factory=list)
    """Sessions left unmarked, and why."""
    members: list[tuple[AppointmentView, str, str]] = field(default_factory=list)
    """Group sessions with an excepted member, marked member by member: (session, patient,
    action). The excepted member gets `except_action`, or is left out (and then their
    session is also in `left`)."""

    @property
    def sessions(self) -> int:
        """How many sessions the plan writes to."""
        return len(self.marks) + len({a.id for a, _, _ in self.members})


def plan_day(db: Database, caller: Caller, cmd: MarkDay) -> DayPlan:
    """What `mark_day` would write (nothing is written): for the question before it."""
    status_of(cmd.action)
    if cmd.except_action is not None:
        status_of(cmd.except_action)
    excepted = set(cmd.except_patients)
    tz = db.facility_tz()
    start, end = day_bounds(cmd.day, tz)
    with db.read() as session:
        rows = appointments_between(session, start, end, staff=cmd.staff, include_cancelled=False)
    plan = DayPlan()
    for row in rows:
        if row.status not in FROM[cmd.action]:
            continue
        if row.start > cmd.now:
            plan.left.append((row, "not started yet"))
            continue
        authorize(db, caller, MARK_ATTENDANCE, appointment=row)
        named = excepted & set(row.patients)
        if cmd.only is not None and row.id not in cmd.only:
            if named:  # not agreed to: never marked, still told as left out
                plan.left.append((row, "excepted"))
            continue
        if not named:
            plan.marks.append((row, cmd.action))
        elif len(row.patients) > 1:
            # Each member's outcome is their own: the others get the action, the excepted
            # member the one said for them, or stays unmarked.
            for pid in row.patients:
                own = row.outcome_of(pid)
                if pid not in named and own in FROM[cmd.action]:
                    plan.members.append((row, pid, cmd.action))
                elif pid in named and cmd.except_action and own in FROM[cmd.except_action]:
                    plan.members.append((row, pid, cmd.except_action))
            if cmd.except_action is None:
                plan.left.append((row, "excepted"))
        elif cmd.except_action is not None and row.status in FROM[cmd.except_action]:
            plan.marks.append((row, cmd.except_action))
        else:
            plan.left.append((row, "excepted"))
    return plan


def mark_day(db: Database, caller: Caller, cmd: MarkDay) -> DayPlan:
    """Write the plan in one transaction: every session is marked, or none is."""
    plan = plan_day(db, caller, cmd)
    if not plan.sessions:
        raise InvalidInput("there is nothing to mark: no started, unmarked session that day")
    reason = cmd.reason or "day marked at once"
    done: list[tuple[AppointmentView, str]] = []
    members: list[tuple[AppointmentView, str, str]] = []
    with db.session() as session:
        service = booking_service(db, session)
        for row, action in plan.marks:
            status = status_of(action)
            if status == "late_cancelled":
                after = service.cancel(caller.staff_id, row.id, reason=reason, late=True)
            else:
                after = service.set_status(caller.staff_id, row.id, status, reason=reason)
            done.append((after, action))
        for row, patient, action in plan.members:
            after = service.set_participant_status(
                caller.staff_id, row.id, patient, status_of(action), reason=reason
            )
            members.append((after, patient, action))
    return DayPlan(marks=done, left=plan.left, members=members)


# --- what is still unmarked ----------------------------------------------------------------------


@dataclass(frozen=True)
class Unmarked:
    """Sessions of `day` that have started and still have no outcome (booked or checked in):
    a clinician's own, or (for roles that may mark any session) the facility's or one
    staff member's."""

    day: date
    now: datetime
    staff: str | None = None


def sees_every_session(caller: Caller) -> bool:
    """Whether the caller records attendance for any session (not only the ones they hold)."""
    return permissions.scope(caller.roles, MARK_ATTENDANCE) == "all"


def unmarked(db: Database, caller: Caller, cmd: Unmarked) -> list[AppointmentView]:
    authorize(db, caller, MARK_ATTENDANCE)
    staff = cmd.staff
    if not sees_every_session(caller):
        if staff not in (None, caller.staff_id):
            raise PermissionDenied(
                f"The {caller.role.replace('_', ' ')} role sees only its own unmarked sessions "
                "(ask the front desk or a director for another clinician's)"
            )
        staff = caller.staff_id
    elif staff is not None:
        authorize(db, caller, "view_schedule", staff_id=staff)
    tz = db.facility_tz()
    start, end = day_bounds(cmd.day, tz)
    with db.read() as session:
        rows = appointments_between(session, start, end, staff=staff, include_cancelled=False)
    return [r for r in rows if r.start <= cmd.now and _open(r)]


def _open(row: AppointmentView) -> bool:
    """Some participant's outcome is still to be recorded (in a group, each member's own)."""
    if not row.patients:
        return row.status in OPEN
    return any(row.outcome_of(pid) in OPEN for pid in row.patients)
