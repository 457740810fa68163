"""The board's "find a slot" and "move" dialogs: what to choose from, and the slot finder's
ranked options for one patient on one day, each with the reasons for its rank.

The same search as the conversation's (`assistant.optimize.offer_slots`, with the holds for
emergencies standing) and the same words for its reasons (`assistant.dialogue.wording.why`);
booking or moving the chosen option goes through `assistant.usecases.appointments`, which
checks the rules and conflicts again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from assistant.access import authorize
from assistant.dialogue.wording import why
from assistant.optimize import SlotsQuery, offer_slots
from assistant.usecases import appointments
from clinic import access_log
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import Patient, Room, SessionType, Staff
from clinic.timeutil import day_bounds, now_utc
from clinic.tokens import Caller
from rules import permissions

OPTIONS = 5
"""How many options a dialog shows."""


@dataclass(frozen=True)
class Choice:
    id: str
    name: str


@dataclass(frozen=True)
class Choices:
    """What the find-a-slot dialog offers: the patients the caller may see by name, and the
    session types booked one to one."""

    patients: tuple[Choice, ...]
    session_types: tuple[Choice, ...]


@dataclass(frozen=True)
class FindSlots:
    day: date
    patient: str | None = None
    session_type: str | None = None
    move_of: str | None = None
    """Options to move this appointment to (its patient and session type)."""


@dataclass(frozen=True)
class SlotOption:
    start: datetime
    """Facility-local."""
    end: datetime
    staff: tuple[str, ...]
    staff_names: tuple[str, ...]
    room: str | None
    room_name: str | None
    score: float
    why: str
    """Why it ranks where it does, in words."""
    other_day: bool
    """A nearest option outside the day asked for (nothing fitted on it)."""


@dataclass(frozen=True)
class SlotOptions:
    patient: str
    session_type: str
    move_of: str | None
    options: tuple[SlotOption, ...]
    reason: str | None
    """Why nothing (or only another day) fits, in the slot finder's words."""


def choices(db: Database, caller: Caller) -> Choices:
    authorize(db, caller, "find_slot")
    # A role that sees every patient's name picks from everyone; one that sees names only on
    # its own caseload picks from the patients it is primary clinician for.
    everyone = "name" in permissions.visible_fields(caller.roles, "other")
    with db.read() as session:
        query = select(Patient.id, Patient.name).where(Patient.phase != "discharged")
        if not everyone:
            query = query.where(Patient.primary_clinician_id == caller.staff_id)
        patients = [Choice(i, n) for i, n in session.execute(query.order_by(Patient.name))]
        types = [
            Choice(t.id, t.name or t.id)
            for t in session.scalars(
                select(SessionType)
                .where(SessionType.max_patients == 1)
                .order_by(SessionType.position)
            )
        ]
    return Choices(tuple(patients), tuple(types))


def find_slots(db: Database, caller: Caller, cmd: FindSlots) -> SlotOptions:
    if cmd.move_of is not None:
        before = appointments.current(db, cmd.move_of)
        if len(before.patients) != 1:
            raise InvalidInput(
                "only a one-patient session moves through this dialog; a group session moves "
                "with its group (ask in chat or use the API)"
            )
        patient, session_type = before.patients[0], before.session_type
        authorize(db, caller, "reschedule", patient_id=patient)
    else:
        if not cmd.patient:
            raise InvalidInput("choose a patient to find a slot for")
        if not cmd.session_type:
            raise InvalidInput("choose the kind of session to find a slot for")
        patient, session_type = cmd.patient, cmd.session_type
        authorize(db, caller, "find_slot", patient_id=patient)
    access_log.record_reads(db, caller, access_log.SLOTS_SEARCH, [patient])
    tz = db.facility_tz()
    start, end = day_bounds(cmd.day, tz)
    now = now_utc()
    if end <= now:
        raise InvalidInput(
            f"{cmd.day:%A %-d %B} has passed: pick today or a later day to find a slot"
        )
    answer, built = offer_slots(
        db,
        SlotsQuery(
            patient=patient, session_type=session_type, start=max(start, now), end=end, k=OPTIONS
        ),
        now=now,
    )
    found = list(answer.options) or list(answer.nearest)[:OPTIONS]
    clock = built.clock
    with db.read() as session:  # names for ids, in the options and in the finder's reason
        labels = {i: n for i, n in session.execute(select(Staff.id, Staff.name))}
        labels |= {i: n for i, n in session.execute(select(Room.id, Room.name))}
    options = []
    for o in found:
        begins = clock.moment(o.start).astimezone(tz)
        options.append(
            SlotOption(
                start=begins,
                end=clock.moment(o.end).astimezone(tz),
                staff=tuple(o.staff),
                staff_names=tuple(labels.get(s, s) for s in o.staff),
                room=o.room,
                room_name=labels.get(o.room, o.room) if o.room else None,
                score=round(o.score, 2),
                why=why(o.why),
                other_day=begins.date() != cmd.day,
            )
        )
    reason = answer.reason
    if reason:
        reason = re.sub(r"[\w-]+", lambda m: labels.get(m.group(0), m.group(0)), reason)
    return SlotOptions(patient, session_type, cmd.move_of, tuple(options), reason)
