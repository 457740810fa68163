"""Exporting the facility as a facility file: explicit values (defaults filled in, times in the
facility's zone with their offset), so load → export → load → export is a fixpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import (
    Appointment,
    CourtOrder,
    Facility,
    Group,
    Patient,
    Room,
    SessionType,
    Staff,
)
from clinic.timeutil import zone


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """Drop absent (None) fields so the file says only what is known."""
    return {key: value for key, value in record.items() if value is not None}


def _period(start: datetime, end: datetime, reason: str | None, tz: ZoneInfo) -> dict[str, Any]:
    return _clean({"start": _iso(start, tz), "end": _iso(end, tz), "reason": reason})


def _iso(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds")


def export_facility(db: Database) -> dict[str, Any]:
    with db.session() as session:
        return facility_data(session)


def facility_data(
    session: Session, *, appointments: bool = True, patient_details: bool = True
) -> dict[str, Any]:
    """The facility as a facility file (without its appointments when `appointments` is
    False; with each patient as `{"id": ...}` alone when `patient_details` is False: what
    checking one changed record against the rest needs)."""
    facility = session.scalar(select(Facility).limit(1))
    if facility is None:
        raise InvalidInput("there is no facility to export: load one with `rota load FILE`")
    tz = zone(facility.timezone)
    out: dict[str, Any] = {
        "version": 1,
        "facility": {
            "name": facility.name,
            "timezone": facility.timezone,
            "open_days": facility.open_days,
            "open": facility.open,
            "close": facility.close,
            "slot_minutes": facility.slot_minutes,
        },
    }
    if facility.calendar_patient_initials:  # said only when allowed (the default is no)
        out["facility"]["calendar_patient_initials"] = True
    rooms = session.scalars(
        select(Room).options(selectinload(Room.closures)).order_by(Room.position)
    ).all()
    out["rooms"] = [room_record(r, tz) for r in rooms]
    staff = session.scalars(
        select(Staff).options(selectinload(Staff.unavailability)).order_by(Staff.position)
    ).all()
    out["staff"] = [staff_record(s, tz) for s in staff]
    out["session_types"] = [
        _clean(
            {
                "id": t.id,
                "name": t.name,
                "minutes": t.minutes,
                "cpt": t.cpt,
                "room_kinds": t.room_kinds,
                "room_features": t.room_features,
                "staff_roles": t.staff_roles,
                "credentials_any": t.credentials_any,
                "min_patients": t.min_patients,
                "max_patients": t.max_patients,
            }
        )
        for t in session.scalars(select(SessionType).order_by(SessionType.position))
    ]
    if not patient_details:
        # Nothing checks one record against another patient's details, only against their
        # ids; loading 1,600 patients' requirements made every record change on xl take 0.6 s.
        ids = session.scalars(select(Patient.id).order_by(Patient.position))
        out["patients"] = [{"id": pid} for pid in ids]
    else:
        out["patients"] = _patients(session)
    groups = session.scalars(
        select(Group)
        .order_by(Group.position)
        .options(selectinload(Group.facilitators), selectinload(Group.members))
    ).all()
    out["groups"] = [group_record(g) for g in groups]
    if not appointments:
        return out
    rows = session.scalars(
        select(Appointment)
        .options(
            selectinload(Appointment.staff_links),
            selectinload(Appointment.patient_links),
        )
        .order_by(Appointment.position, Appointment.start, Appointment.id)
    ).all()
    out["appointments"] = [appointment_record(a, tz) for a in rows]
    return out


def appointment_record(a: Appointment, tz: ZoneInfo) -> dict[str, Any]:
    """One appointment in the facility file's shape (times in the facility's zone)."""
    return _clean(
        {
            "id": a.id,
            "session_type": a.session_type_id,
            "start": _iso(a.start, tz),
            "minutes": a.minutes,
            "staff": a.staff_ids,
            "patients": a.patient_ids,
            "group": a.group_id,
            "room": a.room_id,
            "status": a.status,
            "pinned": a.pinned,
            "note": a.note,
            "outcomes": a.outcomes or None,  # only members whose outcome is their own
            "booked_at": _iso(a.created_at, tz) if a.created_at else None,
        }
    )


# One row -> its record in the facility file's shape (what the living record's doors return).


def room_record(r: Room, tz: ZoneInfo) -> dict[str, Any]:
    return _clean(
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "capacity": r.capacity,
            "features": r.features,
            "unavailable": [_period(c.start, c.end, c.reason, tz) for c in r.closures] or None,
        }
    )


def staff_record(s: Staff, tz: ZoneInfo) -> dict[str, Any]:
    return _clean(
        {
            "id": s.id,
            "name": s.name,
            "role": s.role,
            "credentials": s.credentials,
            "specializations": s.specializations,
            "supervisor": s.supervisor_id,
            "max_minutes_per_week": s.max_minutes_per_week,
            "availability": s.availability,
            "unavailable": [_period(u.start, u.end, u.reason, tz) for u in s.unavailability]
            or None,
            "slack_user_id": s.slack_user_id,
            "email": s.email,
        }
    )


def group_record(g: Group) -> dict[str, Any]:
    return _clean(
        {
            "id": g.id,
            "name": g.name,
            "session_type": g.session_type_id,
            "facilitators": [s.id for s in g.facilitators],
            "members": [p.id for p in g.members],
            "capacity": g.capacity,
            "closed": g.closed,
            "sessions_per_week": g.sessions_per_week,
            "min_days_apart": g.min_days_apart,
            "schedule": g.schedule,
            "room": g.room_id,
            "availability": g.availability,
        }
    )


def patient_record(p: Patient) -> dict[str, Any]:
    order = p.court_order
    return _clean(
        {
            "id": p.id,
            "name": p.name,
            "dob": p.dob.isoformat() if p.dob else None,
            "mrn": p.mrn,
            "level_of_care": p.level_of_care,
            "phase": p.phase,
            "admitted": p.admitted.isoformat() if p.admitted else None,
            "acuity": p.acuity,
            "needs": p.needs,
            "sex": p.sex,
            "primary_clinician": p.primary_clinician_id,
            "requirements": [
                _clean(
                    {"session_type": r.session_type_id, "per_week": r.per_week, "source": r.source}
                )
                for r in p.requirements
            ]
            or None,
            "court_order": _clean(
                {
                    "case_number": order.case_number,
                    "court": order.court,
                    "start": order.start.isoformat(),
                    "end": order.end.isoformat(),
                    "requirements": [
                        {"session_type": r.session_type_id, "per_week": r.per_week}
                        for r in order.requirements
                    ],
                    "liaison": order.liaison_id,
                    "report_to": order.report_to,
                }
            )
            if order
            else None,
            "authorizations": [
                _clean(
                    {
                        "id": a.id,
                        "payer": a.payer,
                        "session_types": a.session_types,
                        "units": a.units,
                        "used": a.used,
                        "start": a.start.isoformat(),
                        "end": a.end.isoformat(),
                    }
                )
                for a in p.authorizations
            ]
            or None,
            "availability": p.availability,
            "preferences": p.preferences,
            "contact": p.contact,
            "family_contacts": p.family_contacts,
        }
    )


def _patients(session: Session) -> list[dict[str, Any]]:
    patients = session.scalars(
        select(Patient)
        .order_by(Patient.position)
        .options(
            selectinload(Patient.requirements),
            selectinload(Patient.authorizations),
            selectinload(Patient.court_order).selectinload(CourtOrder.requirements),
        )
    ).all()
    return [patient_record(p) for p in patients]
