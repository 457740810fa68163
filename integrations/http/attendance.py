"""Attendance over REST: the same use cases as chat and the CLI (assistant.usecases.attendance,
.knock_on, and appointments.set_status for any status change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from assistant.access import redact_for
from assistant.usecases import AppointmentView, appointments, attendance, knock_on
from assistant.usecases.knock_on import MAX_DELAY
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_date
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.auth import BOOKING
from integrations.http.fields import Day, date_query, described

Mark = Literal["check_in", "attended", "no_show", "late_cancel"]


@dataclass
class StatusChange:
    """POST /api/appointments/{id}/status: any status the booking service allows next."""

    status: Annotated[str, described(enum=appointments.STATUSES)]
    reason: str | None = None
    override_reason: str | None = None


@dataclass
class AttendanceMark:
    """POST /api/appointments/{id}/attendance. `patient`: whose outcome (required for a group
    session, except `attended` for every member not yet marked)."""

    action: Mark
    reason: str | None = None
    override_reason: str | None = None
    patient: str | None = None


@dataclass
class CheckIn:
    reason: str | None = None
    patient: str | None = None
    """Who arrived (required for a group session)."""


@dataclass
class DelayBody:
    """POST /api/appointments/{id}/delay: late = the patient arrives `minutes` late; over = the
    session ends `minutes` later. With `way`, that way is applied; without, nothing is written.
    With `"propose": true` (and no `way`), the push is stored as a proposal (kind "knock_on")
    for the front desk or a director to apply with POST /api/proposals/{id}/apply: what a
    caller whose push is `not_yours` does."""

    minutes: Annotated[int, described(ge=1, le=MAX_DELAY)]
    kind: Literal["late", "over"] = "late"
    way: Literal["shorten", "push"] | None = None
    propose: bool = False


@dataclass
class DayMarks:
    """POST /api/attendance/day: every started, unmarked session of `staff` on `day` becomes
    `action`, but those of `except_patients` (left unmarked, or `except_action`). Without
    `confirm: true` this only says what would be written; `appointments` (a preview's marks)
    limits the write to what the person saw."""

    staff: str
    day: Day
    action: Mark = "attended"
    except_patients: list[str] = field(default_factory=list)
    except_action: Mark | None = None
    confirm: bool = False
    appointments: list[str] | None = None


def _day(db: Database, text: str | None, name: str = "day") -> date:
    if text is None:
        return now_utc().astimezone(db.facility_tz()).date()
    try:
        return parse_date(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}") from exc


class AttendanceController(ApiController):
    path = "/api"
    tags = ["attendance"]

    @post(
        "/appointments/{appointment_id:str}/status",
        sync_to_thread=True,
        status_code=200,
        opt=BOOKING,
    )
    def set_status(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        appointment_id: FromPath[str],
        data: JSONBody[StatusChange],
    ) -> dict[str, Any]:
        """Record a status (checked_in, attended, no_show, late_cancelled, cancelled, booked)."""
        changed = appointments.set_status(
            db,
            caller,
            appointments.SetStatus(appointment_id, data.status, data.reason, data.override_reason),
        )
        return redact_for(db, caller, changed, db.facility_tz())

    @post(
        "/appointments/{appointment_id:str}/attendance",
        sync_to_thread=True,
        status_code=200,
        opt=BOOKING,
    )
    def mark(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        appointment_id: FromPath[str],
        data: JSONBody[AttendanceMark],
    ) -> dict[str, Any]:
        """Check-in, attended, no-show or late cancel (clinicians: their own sessions)."""
        changed = attendance.mark(
            db,
            caller,
            attendance.Mark(
                appointment_id, data.action, data.reason, data.override_reason, data.patient
            ),
        )
        return redact_for(db, caller, changed, db.facility_tz())

    @post(
        "/appointments/{appointment_id:str}/check-in",
        sync_to_thread=True,
        status_code=200,
        opt=BOOKING,
    )
    def check_in(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        appointment_id: FromPath[str],
        data: JSONBody[CheckIn | None] = None,
    ) -> dict[str, Any]:
        """The patient has arrived."""
        reason, patient = (data.reason, data.patient) if data else (None, None)
        changed = attendance.mark(
            db, caller, attendance.Mark(appointment_id, "check_in", reason=reason, patient=patient)
        )
        return redact_for(db, caller, changed, db.facility_tz())

    @post(
        "/appointments/{appointment_id:str}/delay",
        sync_to_thread=True,
        status_code=200,
        opt=BOOKING,
    )
    def delay(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        appointment_id: FromPath[str],
        data: JSONBody[DelayBody],
    ) -> dict[str, Any]:
        """A late patient or an overrunning session: its effect on the rest of the clinician's
        and room's day, and the ways to absorb it; with `way`, apply that way (all or nothing)."""
        tz = db.facility_tz()
        cmd = knock_on.Delay(appointment_id, data.minutes, data.kind)
        if data.propose:
            if data.way is not None:
                problem = "$.propose: propose stores the push for approval; leave out way"
                raise InvalidInput(f"the request has a problem: {problem}", [problem])
            return {"proposal": knock_on.propose_push(db, caller, knock_on.ProposePush(cmd))}
        if data.way is not None:
            moved = knock_on.absorb(db, caller, knock_on.Absorb(cmd, data.way))
            return {"way": data.way, "appointments": [redact_for(db, caller, a, tz) for a in moved]}
        result = knock_on.knock_on(db, caller, cmd)
        return {
            "appointment": redact_for(db, caller, result.appointment, tz),
            "runs": {
                "start": result.start.astimezone(tz).isoformat(),
                "end": result.end.astimezone(tz).isoformat(),
            },
            "effects": [
                {
                    "appointment": redact_for(db, caller, e.appointment, tz),
                    "shares": list(e.shares),
                    "gap_before": e.gap_before,
                    "gap_after": e.gap_after,
                }
                for e in result.effects
            ],
            "ways": [
                {
                    "way": w.key,
                    "fits": w.fits,
                    "problem": w.problem,
                    "not_yours": w.not_yours,
                    "moves": [
                        {"appointment": i, "start": s.astimezone(tz).isoformat(), "minutes": m}
                        for i, s, m in w.moves
                    ],
                }
                for w in result.ways
            ],
        }

    @get("/attendance/unmarked", sync_to_thread=True)
    def unmarked(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        day: str | None = date_query("day", "The day (default: today)"),
        staff: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Sessions of the day (default today) that have started and have no outcome yet: a
        clinician's own; the facility's, or one staff member's, for the front desk and directors."""
        on = _day(db, day)
        rows = attendance.unmarked(db, caller, attendance.Unmarked(on, now_utc(), staff=staff))
        tz = db.facility_tz()
        return {
            "day": on.isoformat(),
            "staff": staff if attendance.sees_every_session(caller) else caller.staff_id,
            "appointments": [redact_for(db, caller, r, tz) for r in rows],
        }

    @post("/attendance/day", sync_to_thread=True, status_code=200, opt=BOOKING)
    def mark_day(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        data: JSONBody[DayMarks],
    ) -> dict[str, Any]:
        """A whole day marked at once, in one transaction (or, without confirm, a preview)."""
        cmd = attendance.MarkDay(
            staff=data.staff,
            day=_day(db, data.day),
            now=now_utc(),
            action=data.action,
            except_patients=tuple(data.except_patients),
            except_action=data.except_action,
            only=tuple(data.appointments) if data.appointments is not None else None,
        )
        plan = (attendance.mark_day if data.confirm else attendance.plan_day)(db, caller, cmd)
        tz = db.facility_tz()

        def row(a: AppointmentView, what: str, key: str) -> dict[str, Any]:
            return {**redact_for(db, caller, a, tz), key: what}

        def member(a: AppointmentView, patient: str, action: str) -> dict[str, Any]:
            """A group member's mark; who it is, only to a caller who may see patients."""
            shown = row(a, action, "action")
            return {**shown, "patient": patient} if "patients" in shown else shown

        return {
            "written": data.confirm,
            "marks": [row(a, act, "action") for a, act in plan.marks],
            "members": [member(a, pid, act) for a, pid, act in plan.members],
            "left": [row(a, why, "why") for a, why in plan.left],
        }
