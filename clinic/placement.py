"""The hard checks every appointment passes, wherever it comes from (a booking, a move, a load).

`place` asks, in the order a person would: is the facility open, is the start on its grid, does
each clinician work then and is nobody away or double-booked, does a room of the right kind and
size stand free. It returns where the appointment goes or raises the first reason it cannot.
It reads the session as it is, so a caller that inserts appointments one by one (the booking
service, the facility file's loader) sees each earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import network
from clinic.changes import BookingRequest
from clinic.errors import BookingConflict, InvalidInput, NotFound
from clinic.models import (
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    Facility,
    FacilityClosure,
    Group,
    Patient,
    Room,
    RoomUnavailability,
    SessionType,
    Staff,
    StaffUnavailability,
)
from clinic.timeutil import (
    local_iso,
    opening_hours,
    parse_weekly,
    week_bounds,
    within_weekly,
    zone,
)

Row = TypeVar("Row")

# Statuses only a session that has started can have (late cancellation can come before).
AFTER_START = frozenset({"attended", "no_show"})


@dataclass(frozen=True)
class Placement:
    session_type: SessionType
    start: datetime
    end: datetime
    staff: list[Staff]
    patients: list[Patient]
    room: Room | None
    group: Group | None


def check_outcome_time(appointment_id: str, status: str, start: datetime, now: datetime) -> None:
    """An appointment is attended or a no-show only once it has started."""
    if status in AFTER_START and now < start:
        raise InvalidInput(
            f"appointment {appointment_id} has not started yet; it cannot be {status}"
        )


def place(session: Session, request: BookingRequest, exclude_id: str | None) -> Placement:
    """Every hard check, in the order a person would ask; returns the placement or raises."""
    facility = session.scalar(select(Facility).limit(1))
    if facility is None:
        raise InvalidInput("no facility is loaded: run `rota load FILE` or `rota demo --load`")
    tz = zone(facility.timezone)
    session_type = session.get(SessionType, request.session_type)
    if session_type is None:
        known = ", ".join(session.scalars(select(SessionType.id).order_by(SessionType.position)))
        raise NotFound(f"unknown session type {request.session_type!r} (known: {known})")
    if request.start.tzinfo is None:
        raise InvalidInput("the start time needs a timezone (internal error: naive datetime)")
    minutes = request.minutes if request.minutes is not None else session_type.minutes
    if minutes < 5:
        raise InvalidInput(f"a session lasts at least 5 minutes, not {minutes}")
    start = request.start.astimezone(tz)
    end = start + timedelta(minutes=minutes)
    local = start.astimezone(tz)
    if (local.hour * 60 + local.minute) % facility.slot_minutes or local.second:
        raise InvalidInput(
            f"{local_iso(start, tz)} is not on the facility's {facility.slot_minutes}-minute "
            "grid; pick a start such as :00, :15, :30 or :45"
        )
    if not request.staff:
        raise InvalidInput("an appointment needs at least one staff member")
    staff = [load_row(session, Staff, sid, "staff member") for sid in request.staff]
    patients = [load_row(session, Patient, pid, "patient") for pid in request.patients]
    if len(set(request.staff)) != len(request.staff) or len(set(request.patients)) != len(
        request.patients
    ):
        raise InvalidInput("the same person is listed twice in one appointment")
    group = load_row(session, Group, request.group, "group") if request.group else None
    if not (session_type.min_patients <= len(patients) <= session_type.max_patients):
        raise InvalidInput(
            f"a {session_type.id} session takes {session_type.min_patients}"
            f"–{session_type.max_patients} patients, not {len(patients)}"
        )
    when = f"{local_iso(start, tz)}–{end.astimezone(tz).strftime('%H:%M')}"

    # Facility hours and open days.
    hours = opening_hours(facility.open_days, facility.open, facility.close)
    if not within_weekly(hours, start, end, tz):
        raise BookingConflict(
            f"{when} is outside facility hours ({', '.join(facility.open_days)} "
            f"{facility.open}–{facility.close} {tz.key})"
        )
    # Facility-wide closures (holidays).
    closed = session.scalar(
        select(FacilityClosure)
        .where(FacilityClosure.start < end, FacilityClosure.end > start)
        .limit(1)
    )
    if closed is not None:
        raise BookingConflict(
            f"the facility is closed at {when}" + (f" ({closed.reason})" if closed.reason else "")
        )
    # Staff: weekly availability, unavailability, existing appointments; for someone who
    # also works at other sites of a network, their sessions there and the travel between
    # (under a lock on the person, so two sites cannot book them at once).
    network.lock_people(session, request.staff)
    other_sites = network.elsewhere(session, request.staff, start, end)
    for member in staff:
        if not within_weekly(parse_weekly(member.availability), start, end, tz):
            raise BookingConflict(f"{member.name} ({member.id}) does not work at {when}")
        away = _away(
            session, StaffUnavailability, StaffUnavailability.staff_id, member.id, start, end
        )
        if away is not None:
            why = f" ({away.reason})" if away.reason else ""
            raise BookingConflict(f"{member.name} ({member.id}) is unavailable at {when}{why}")
        clash = _clash(
            session, AppointmentStaff, AppointmentStaff.staff_id, member.id, start, end, exclude_id
        )
        if clash is not None:
            raise BookingConflict(
                f"{member.name} ({member.id}) already has appointment {clash.id} at "
                f"{local_iso(clash.start, tz)}"
            )
        for there in other_sites.get(member.id, []):
            travel = f", with {there.travel} minutes' travel between" if there.travel else ""
            raise BookingConflict(
                f"{member.name} ({member.id}) works at facility {there.facility!r} too and "
                f"is busy there from {local_iso(there.start, tz)} to "
                f"{there.end.astimezone(tz):%H:%M}{travel}"
            )
        over = _over_weekly_hours(session, member, start, end, exclude_id, tz)
        if over is not None:
            raise BookingConflict(over)
    for patient in patients:
        clash = _clash(
            session,
            AppointmentPatient,
            AppointmentPatient.patient_id,
            patient.id,
            start,
            end,
            exclude_id,
        )
        if clash is not None:
            raise BookingConflict(
                f"patient {patient.id} already has appointment {clash.id} at "
                f"{local_iso(clash.start, tz)}"
            )
    room = _choose_room(
        session,
        request.room,
        session_type,
        start,
        end,
        len(staff) + len(patients),
        exclude_id,
        when,
    )
    return Placement(session_type, start.astimezone(end.tzinfo), end, staff, patients, room, group)


def _over_weekly_hours(
    session: Session,
    member: Staff,
    start: datetime,
    end: datetime,
    exclude_id: str | None,
    tz: ZoneInfo,
) -> str | None:
    """Why a clinician who also works at other sites of a network would go over their weekly
    hours (this facility's max_minutes_per_week, counting every site's sessions that week), or
    None. Read under `network.lock_people`, so two sites cannot both take the last hour. A
    move that adds no minutes to the week is never refused for hours already over."""
    cap = member.max_minutes_per_week
    if cap is None:
        return None
    week = week_bounds(start, tz)
    held = network.held_elsewhere(session, [member.id], *week).get(member.id, [])
    if not held:
        return None  # one site's hours: the plan and slot offers keep to them, as before
    rows = session.execute(
        select(AppointmentStaff.appointment_id, AppointmentStaff.start, AppointmentStaff.end).where(
            AppointmentStaff.staff_id == member.id,
            AppointmentStaff.active,
            AppointmentStaff.start >= week[0],
            AppointmentStaff.start < week[1],
        )
    ).all()
    here_before = sum(_minutes(r.start, r.end) for r in rows)
    here_after = sum(_minutes(r.start, r.end) for r in rows if r.appointment_id != exclude_id)
    there = sum(h.minutes for h in held)
    minutes = _minutes(start, end)
    after = here_after + there + minutes
    if after <= cap or after <= here_before + there:
        return None
    sites = network.facility_names(
        session, [network.here(session) or ""] + [h.facility for h in held]
    )
    names = " and ".join(sorted(sites.values()))
    monday = week[0].astimezone(tz)
    return (
        f"{member.name} ({member.id}) already has {_hours(here_after + there)} of "
        f"{_hours(cap)} hours the week of {monday.day} {monday:%b} across {names}; "
        f"this {minutes}-minute session would make {_hours(after)}"
    )


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".removesuffix(".0")


def _choose_room(
    session: Session,
    room_id: str | None,
    session_type: SessionType,
    start: datetime,
    end: datetime,
    people: int,
    exclude_id: str | None,
    when: str,
) -> Room | None:
    kinds = session_type.room_kinds or []
    if room_id is not None:
        room = load_row(session, Room, room_id, "room")
        problem = _room_problem(session, room, session_type, start, end, people, exclude_id)
        if problem:
            raise BookingConflict(f"{room.name} ({room.id}) {problem} at {when}")
        return room
    if not kinds:
        return None
    candidates = session.scalars(
        select(Room).where(Room.kind.in_(kinds)).order_by(Room.position)
    ).all()
    # Prefer the first kind the session type lists (in-person before telehealth).
    candidates = sorted(candidates, key=lambda r: (kinds.index(r.kind), r.position))
    for room in candidates:
        if not _room_problem(session, room, session_type, start, end, people, exclude_id):
            return room
    raise BookingConflict(f"no {' or '.join(kinds)} room for {people} people is free at {when}")


def _room_problem(
    session: Session,
    room: Room,
    session_type: SessionType,
    start: datetime,
    end: datetime,
    people: int,
    exclude_id: str | None,
) -> str | None:
    kinds = session_type.room_kinds or []
    if kinds and room.kind not in kinds:
        return f"is a {room.kind} room; this session needs {' or '.join(kinds)}"
    lacking = [f for f in session_type.room_features or [] if f not in (room.features or [])]
    if lacking:
        return f"has no {' or '.join(lacking)}; this session needs it"
    if room.capacity < people:
        return f"holds {room.capacity} people, not {people}"
    closed = _away(session, RoomUnavailability, RoomUnavailability.room_id, room.id, start, end)
    if closed is not None:
        return "is closed" + (f" ({closed.reason})" if closed.reason else "")
    query = select(Appointment).where(
        Appointment.room_id == room.id,
        Appointment.active,
        Appointment.start < end,
        Appointment.end > start,
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    taken = session.scalar(query.limit(1))
    if taken is not None:
        return f"is taken by appointment {taken.id}"
    return None


def _away(
    session: Session, model: Any, column: Any, key: str, start: datetime, end: datetime
) -> Any:
    """A period when a person is away or a room is closed, overlapping [start, end)."""
    return session.scalar(
        select(model).where(column == key, model.start < end, model.end > start).limit(1)
    )


def _clash(
    session: Session,
    link: Any,
    column: Any,
    key: str,
    start: datetime,
    end: datetime,
    exclude_id: str | None,
) -> Appointment | None:
    query = (
        select(Appointment)
        .join(link, link.appointment_id == Appointment.id)
        .where(column == key, link.active, link.start < end, link.end > start)
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return session.scalar(query.limit(1))


def load_row(session: Session, model: type[Row], key: str, what: str) -> Row:
    """The row with this id, or NotFound saying "no {what} with id ..." (every door's wording)."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"no {what} with id {key!r}")
    return found
