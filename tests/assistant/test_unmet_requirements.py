"""The unmet weekly requirements say which shortfalls are cancellations nobody rebooked."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from assistant.reports import unmet_requirements
from clinic.booking import BookingService
from clinic.db import Database
from clinic.models import Appointment, Patient

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=NY)
WEEK = (datetime(2026, 11, 30, tzinfo=NY), datetime(2026, 12, 7, tzinfo=NY))


def _one_session_that_meets_a_requirement(db: Database) -> tuple[str, str, str]:
    """(patient, session type, appointment): the only session of a type required once a week."""
    with db.read() as session:
        shown = {(r["patient"], r["session_type"]) for r in unmet_requirements(session, *WEEK)}
        for patient in session.scalars(select(Patient).order_by(Patient.id)):
            for req in patient.requirements:
                if req.per_week != 1 or (patient.id, req.session_type_id) in shown:
                    continue
                found = [
                    a
                    for a in session.scalars(
                        select(Appointment).where(
                            Appointment.start >= WEEK[0],
                            Appointment.start < WEEK[1],
                            Appointment.session_type_id == req.session_type_id,
                            Appointment.status == "booked",
                        )
                    )
                    if a.patient_ids == [patient.id]
                ]
                if len(found) == 1:
                    return patient.id, req.session_type_id, found[0].id
    raise AssertionError("the demo has no single weekly session to cancel")


def test_a_cancelled_session_nobody_rebooked_is_named_as_such(demo_db: Database) -> None:
    patient, session_type, appointment = _one_session_that_meets_a_requirement(demo_db)
    BookingService(demo_db, clock=lambda: NOW).cancel("s001", appointment, reason="patient ill")
    with demo_db.read() as session:
        rows = [
            r
            for r in unmet_requirements(session, *WEEK)
            if (r["patient"], r["session_type"]) == (patient, session_type)
        ]
    assert len(rows) == 1
    assert rows[0]["missing"] == 1
    assert rows[0]["cancelled_not_rebooked"] == 1
