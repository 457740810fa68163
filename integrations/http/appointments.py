"""REST resources over the appointment use cases: the same as chat and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from assistant import schedule
from assistant.access import redact_for
from assistant.usecases import appointments
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import day_bounds, now_utc, parse_datetime
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.auth import BOOKING
from integrations.http.emergency import REASON, ReasonHeader, emergency
from integrations.http.fields import DateTime, described, read_datetime, when_query


@dataclass
class NewAppointment:
    """POST /api/appointments. Times are facility-local unless they carry an offset."""

    patients: list[str]
    staff: list[str]
    session_type: str
    start: DateTime
    room: str | None = None
    minutes: Annotated[int | None, described("Length (default: the session type's)", ge=5)] = None
    group: str | None = None
    note: str | None = None
    reason: str | None = None
    override_reason: str | None = None
    pinned: bool = False


FROM = when_query("from", "Start (default: today)")
TO = when_query("to", "End, exclusive (default: the day's end)")


def _period(db: NamedDependency[Database], start: str | None, end: str | None) -> schedule.Period:
    tz = db.facility_tz()
    today = now_utc().astimezone(tz).date()
    first = parse_datetime(start, tz) if start else day_bounds(today, tz)[0]
    last = parse_datetime(end, tz) if end else day_bounds(first.astimezone(tz).date(), tz)[1]
    return schedule.Period(first, last)


class AppointmentController(ApiController):
    path = "/api"
    tags = ["appointments"]

    @get("/appointments", sync_to_thread=True)
    def list_appointments(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        start: str | None = FROM,
        end: str | None = TO,
        staff: FromQuery[str | None] = None,
        patient: FromQuery[str | None] = None,
        room: FromQuery[str | None] = None,
        reason: str | None = REASON,
        reason_header: ReasonHeader = None,
    ) -> dict[str, Any]:
        """Appointments starting in [from, to), for one staff member, patient or room (a
        patient outside a clinician's caseload: 403, or an emergency `reason`)."""
        period = _period(db, start, end)
        rows = schedule.list_appointments(
            db,
            caller,
            period,
            staff=staff,
            patient=patient,
            room=room,
            emergency=emergency(reason, reason_header),
        )
        return {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "appointments": rows,
        }

    @get("/staff/{staff_id:str}/agenda", sync_to_thread=True)
    def staff_agenda(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        staff_id: FromPath[str],
        start: str | None = FROM,
        end: str | None = TO,
    ) -> dict[str, Any]:
        """One staff member's agenda (default: today)."""
        period = _period(db, start, end)
        rows = schedule.list_appointments(db, caller, period, staff=staff_id)
        return {
            "staff": staff_id,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "appointments": rows,
        }

    @get("/patients/{patient_id:str}/agenda", sync_to_thread=True)
    def patient_agenda(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        patient_id: FromPath[str],
        start: str | None = FROM,
        end: str | None = TO,
        reason: str | None = REASON,
        reason_header: ReasonHeader = None,
    ) -> dict[str, Any]:
        """One patient's agenda (default: today); outside a clinician's caseload, 403 unless
        an emergency `reason` is given (break the glass)."""
        period = _period(db, start, end)
        rows = schedule.list_appointments(
            db, caller, period, patient=patient_id, emergency=emergency(reason, reason_header)
        )
        return {
            "patient": patient_id,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "appointments": rows,
        }

    @post("/appointments", sync_to_thread=True, status_code=201, opt=BOOKING)
    def create(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        data: JSONBody[NewAppointment],
    ) -> dict[str, Any]:
        """Book through the booking service (every check, the rules, then the audit log)."""
        if data.minutes is not None and data.minutes < 5:
            raise InvalidInput("minutes must be at least 5")
        tz = db.facility_tz()
        booked = appointments.book(
            db,
            caller,
            appointments.Book(
                session_type=data.session_type,
                start=read_datetime(data.start, tz, "start"),
                staff=tuple(data.staff),
                patients=tuple(data.patients),
                room=data.room,
                minutes=data.minutes,
                group=data.group,
                note=data.note,
                pinned=data.pinned,
                reason=data.reason,
                override_reason=data.override_reason,
            ),
        )
        return redact_for(db, caller, booked, tz)

    @delete("/appointments/{appointment_id:str}", sync_to_thread=True, status_code=200, opt=BOOKING)
    def cancel(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        appointment_id: FromPath[str],
        reason: str = QueryParameter(name="reason", description="Why (required)"),
        late: FromQuery[bool] = False,
        override_reason: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Cancel with a reason (the appointment stays in the record as cancelled)."""
        cancelled = appointments.cancel(
            db, caller, appointments.Cancel(appointment_id, reason, late, override_reason)
        )
        return redact_for(db, caller, cancelled, db.facility_tz())
