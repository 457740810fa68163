"""Schedule use cases shared by every door: look up, book, cancel (authorized per caller)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.access import authorize, redact_for
from assistant.wiring import booking_service
from clinic.booking import AppointmentView, BookingRequest
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.queries import appointments_between
from clinic.tokens import Caller

MAX_RANGE = timedelta(days=62)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput("'to' must be after 'from'")
        if self.end - self.start > MAX_RANGE:
            raise InvalidInput("ask for at most 62 days at a time")


def list_appointments(
    db: Database,
    caller: Caller,
    period: Period,
    *,
    staff: str | None = None,
    patient: str | None = None,
    room: str | None = None,
) -> list[dict]:
    authorize(db, caller, "view_schedule", patient_id=patient, staff_id=staff)
    with db.read() as session:
        rows = appointments_between(
            session, period.start, period.end, staff=staff, patient=patient, room=room
        )
    tz = db.facility_tz()
    return [redact_for(db, caller, row, tz) for row in rows]


def book(
    db: Database,
    caller: Caller,
    request: BookingRequest,
    *,
    reason: str | None = None,
    override_reason: str | None = None,
) -> AppointmentView:
    for patient in request.patients:
        authorize(db, caller, "book", patient_id=patient)
    return booking_service(db).book(
        caller.staff_id, request, reason=reason, override_reason=override_reason
    )


def cancel(
    db: Database,
    caller: Caller,
    appointment_id: str,
    *,
    reason: str,
    late: bool = False,
    override_reason: str | None = None,
) -> AppointmentView:
    service = booking_service(db)
    current = service.get(appointment_id)
    for patient in current.patients:
        authorize(db, caller, "cancel", patient_id=patient)
    return service.cancel(
        caller.staff_id, appointment_id, reason=reason, late=late, override_reason=override_reason
    )
