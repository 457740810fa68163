"""Read-side queries shared by every door (agenda, appointment lists)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from clinic.booking import AppointmentView, view_of
from clinic.models import (
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    Facility,
    Patient,
    Room,
    Staff,
)
from clinic.placement import load_row
from clinic.timeutil import WEEKDAYS, zone


def appointments_between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    staff: str | None = None,
    patient: str | None = None,
    room: str | None = None,
    include_cancelled: bool = True,
) -> list[AppointmentView]:
    """Appointments starting in [start, end), optionally for one person or room, by start time."""
    query = select(Appointment).where(Appointment.start >= start, Appointment.start < end)
    if staff is not None:
        load_row(session, Staff, staff, "staff member")
        query = query.join(AppointmentStaff).where(AppointmentStaff.staff_id == staff)
    if patient is not None:
        load_row(session, Patient, patient, "patient")
        query = query.join(AppointmentPatient).where(AppointmentPatient.patient_id == patient)
    if room is not None:
        load_row(session, Room, room, "room")
        query = query.where(Appointment.room_id == room)
    if not include_cancelled:
        query = query.where(Appointment.active)
    query = query.options(
        selectinload(Appointment.staff_links), selectinload(Appointment.patient_links)
    )
    return [view_of(a) for a in session.scalars(query.order_by(Appointment.start, Appointment.id))]


def last_booked_end(session: Session, after: datetime) -> datetime | None:
    """When the last active appointment ending after `after` ends (None: nothing booked)."""
    return session.scalar(
        select(func.max(Appointment.end)).where(Appointment.active, Appointment.end > after)
    )


def next_open_day(session: Session, day: date) -> date:
    """`day` itself when the facility is open then, else the next day it opens."""
    facility = session.scalar(select(Facility).limit(1))
    if facility is None or not facility.open_days:
        return day
    for offset in range(7):
        candidate = day + timedelta(days=offset)
        if WEEKDAYS[candidate.weekday()] in facility.open_days:
            return candidate
    return day


def facility_zone_name(session: Session) -> str:
    facility = session.scalar(select(Facility).limit(1))
    return zone(facility.timezone).key if facility else "UTC"
