"""Reminders due at `now`: 48 h and 2 h before each booked appointment (also 24 h when the
patient's no-show probability for it is at least no_show.EXTRA_REMINDER_FROM), never at night in the
facility's timezone.

"Due" means the window has opened and its reminder was not sent: an appointment 25 hours after
`now` has its 48-hour reminder due now. Only the narrowest open window is sent, so a reminder
held back overnight does not arrive together with a later one. Each reminder is claimed in the
outbox by (appointment, patient, start, window), so running the job twice, on two workers or
after a crash, queues it once; a moved appointment has a new start and is reminded afresh.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant import messages, no_show
from assistant.jobs import job
from clinic.db import Database
from clinic.models import Appointment, Patient
from clinic.queries import facility_zone_name
from clinic.timeutil import zone

WINDOWS = (48, 2)  # hours before the appointment
HIGH_RISK_WINDOWS = (48, 24, 2)
NIGHT_FROM, NIGHT_UNTIL = time(21, 0), time(8, 0)


@job("reminders", every_minutes=15)
def run(db: Database, now: datetime) -> dict[str, Any]:
    """Queue every reminder due at `now` (the outbox job sends them)."""
    with db.session() as session:
        tz = zone(facility_zone_name(session))
        local = now.astimezone(tz)
        if is_night(local.time()):
            return {"night": True, "queued": 0}
        horizon = now + timedelta(hours=max(HIGH_RISK_WINDOWS))
        appointments = list(
            session.scalars(
                select(Appointment)
                .where(
                    Appointment.active,
                    Appointment.status == "booked",
                    Appointment.start > now,
                    Appointment.start <= horizon,
                )
                .options(
                    selectinload(Appointment.patient_links), selectinload(Appointment.staff_links)
                )
                .order_by(Appointment.start, Appointment.id)
            )
        )
        pids = sorted({pid for a in appointments for pid in _expected(a)})
        patients = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(pids)))}
        risky = high_risk(session, appointments, now)
        counts: Counter[str] = Counter()
        for appointment in appointments:
            for pid in _expected(appointment):
                window = due_window(appointment.start, now, (appointment.id, pid) in risky)
                if window is None or pid not in patients:
                    continue
                counts[remind(session, patients[pid], appointment, window, now, tz)] += 1
        return {"night": False, "appointments": len(appointments), **dict(sorted(counts.items()))}


def _expected(appointment: Appointment) -> list[str]:
    """The patients still expected at a session (a group member who cancelled is not)."""
    return [
        link.patient_id
        for link in appointment.patient_links
        if link.active and link.status == "booked"
    ]


def is_night(local: time) -> bool:
    return local >= NIGHT_FROM or local < NIGHT_UNTIL


def due_window(start: datetime, now: datetime, risky: bool) -> int | None:
    """The narrowest window (hours) open at `now`, if any."""
    opened = [
        w for w in (HIGH_RISK_WINDOWS if risky else WINDOWS) if start - timedelta(hours=w) <= now
    ]
    return min(opened) if opened else None


def high_risk(
    session: Session, appointments: Sequence[Appointment], now: datetime
) -> set[tuple[str, str]]:
    """(appointment, patient) pairs whose no-show probability is at least
    no_show.EXTRA_REMINDER_FROM (the stored model's, else the patient's smoothed own rate)."""
    return {
        (aid, pid)
        for aid, risks in no_show.appointment_risks(session, appointments, now).items()
        for pid, p in risks.items()
        if no_show.needs_extra_reminder(p)
    }


def remind(
    session: Session,
    patient: Patient,
    appointment: Appointment,
    window: int,
    now: datetime,
    tz: Any,
) -> str:
    return messages.to_patient(
        session,
        patient,
        template="reminder",
        context={"when": messages.when(appointment.start, tz)},
        key=f"reminder:{appointment.id}:{patient.id}:{appointment.start.isoformat()}:{window}h",
        appointment_ids=[appointment.id],
        now=now,
        purpose=f"appointment reminder, {window} h before",
    )
