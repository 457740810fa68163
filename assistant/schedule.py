"""Look up the schedule, as each caller may see it (the same for every door)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant import no_show
from assistant.access import authorize, redact_for, session_fields
from assistant.break_glass import Emergency
from clinic import access_log
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.queries import appointments_between
from clinic.timeutil import now_utc
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
    action: str = access_log.SCHEDULE_VIEW,
    emergency: Emergency | None = None,
) -> list[dict]:
    """The appointments of the period (of one staff member, patient or room), as the caller
    may see them; every patient shown by name is a row of the access log under `action`.
    One patient's schedule is part of their record (only for those who may see it, or opened
    with an `emergency` reason: then the patient's sessions are shown as to their own
    clinician)."""
    authorize(db, caller, "view_schedule", staff_id=staff)
    opened = False
    if patient is not None:
        opened = authorize(db, caller, "patient_schedule", patient_id=patient, emergency=emergency)
    with db.read() as session:
        rows = appointments_between(
            session, period.start, period.end, staff=staff, patient=patient, room=room
        )
        risks = no_show.upcoming_risks(session, [r.id for r in rows], now_utc())
    tz = db.facility_tz()
    if opened and patient is not None:  # the opened patient only: a group's others stay closed
        rows = [r if caller.staff_id in r.staff else r.for_patient(patient) for r in rows]
    records = [redact_for(db, caller, row, tz, opened=opened) for row in rows]
    for row, record in zip(rows, records, strict=True):
        # each patient's no-show risk, to whoever the pack lets see it (a prediction from
        # treatment attendance: not the front desk's)
        shown = "patients" in record and "no_show_risk" in session_fields(
            caller, row.staff, opened=opened
        )
        if shown and record["id"] in risks:
            record["no_show_risk"] = risks[record["id"]]
    access_log.record_reads(db, caller, action, shown_patients(records))
    return records


def shown_patients(records: list[dict]) -> list[str]:
    """The patients an answer names (those the caller's role lets it show), in order."""
    return list(dict.fromkeys(p for r in records for p in r.get("patients") or ()))
