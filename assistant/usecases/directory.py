"""Read the facility's directory (who works here, which rooms, which sessions) and single
appointments, as each caller may see them, in the facility file's shapes: what a standard door
(the FHIR facade) maps to its own resources.

Each patient an appointment read shows is a row of the access log (`fhir.read`); a search goes
through `assistant.schedule.list_appointments`, which records its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant.access import authorize, redact_for
from assistant.usecases.appointments import current
from clinic import access_log
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.facility_file.export import room_record, staff_record
from clinic.models import Facility, Room, SessionType, Staff
from clinic.timeutil import zone
from clinic.tokens import Caller

Record = dict[str, Any]


@dataclass(frozen=True)
class Directory:
    """The facility file's `facility`, `session_types`, `staff` and `rooms` (no patients)."""

    facility: Record
    session_types: list[Record]
    staff: list[Record]
    rooms: list[Record]

    def as_file(self) -> Record:
        return {
            "facility": self.facility,
            "session_types": self.session_types,
            "staff": self.staff,
            "rooms": self.rooms,
        }


def directory(db: Database, caller: Caller | None) -> Directory:
    """The directory (`caller` None: the public publication, which shows rooms, the facility
    and clinicians' names only — the door decides what it publishes)."""
    if caller is not None:
        authorize(db, caller, "view_schedule")
    with db.read() as session:
        facility = session.scalar(select(Facility).limit(1))
        if facility is None:
            raise InvalidInput("there is no facility yet: load one with `rota load FILE`")
        tz = zone(facility.timezone)
        rooms = session.scalars(
            select(Room).options(selectinload(Room.closures)).order_by(Room.position)
        ).all()
        staff = session.scalars(
            select(Staff).options(selectinload(Staff.unavailability)).order_by(Staff.position)
        ).all()
        types = session.scalars(select(SessionType).order_by(SessionType.position)).all()
        return Directory(
            facility={
                "name": facility.name,
                "timezone": facility.timezone,
                "open_days": facility.open_days,
                "open": facility.open,
                "close": facility.close,
                "slot_minutes": facility.slot_minutes,
            },
            session_types=[
                {"id": t.id, "name": t.name or t.id, "minutes": t.minutes}
                | ({"cpt": t.cpt} if t.cpt else {})
                for t in types
            ],
            staff=[staff_record(s, tz) for s in staff],
            rooms=[room_record(r, tz) for r in rooms],
        )


def appointment(db: Database, caller: Caller, appointment_id: str) -> Record:
    """One appointment as the caller may see it (the fields `assistant.access.redact_for`
    leaves), times in the facility's zone."""
    authorize(db, caller, "view_schedule")
    view = current(db, appointment_id)
    record = redact_for(db, caller, view, db.facility_tz())
    access_log.record_reads(
        db,
        caller,
        access_log.FHIR_READ,
        record.get("patients") or (),
        detail={"appointment": appointment_id},
    )
    return record
