"""Rooms as the clinic's day changes them: closed for a period ("Group room B is closed
tomorrow").

A closure is repaired like a sick call (assistant.usecases.absences): the closure is recorded
at once, so nothing new is booked into the room, and the solver's repair (a room out) proposes
where each affected session goes. An approver applies the proposal, all or nothing, with
`absences.apply_proposal`; withdrawing it reopens the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.access import authorize
from assistant.optimize import repair_out
from assistant.usecases.absences import interactive_settings, repair_payload, store_proposal
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.facility_file.export import room_record
from clinic.models import Room, RoomUnavailability
from clinic.placement import load_row
from clinic.tokens import Caller

MANAGE = "manage_rooms"
KIND = "room_closure"


@dataclass(frozen=True)
class CloseRoom:
    room_id: str
    start: datetime
    end: datetime
    now: datetime
    reason: str | None = None


def close_room(db: Database, caller: Caller, cmd: CloseRoom) -> dict[str, Any]:
    """Record the closure and propose where the room's sessions in it go; returns the
    proposal (`room`, `start`, `end`, `moves`, `unplaced`, `affected`)."""
    authorize(db, caller, MANAGE)
    if cmd.end <= cmd.start:
        raise InvalidInput("the closure must end after it starts", ["$.end: must be after $.start"])
    if cmd.end <= cmd.now:
        raise InvalidInput("that closure is already over", ["$.end: is in the past"])
    start = max(cmd.start, cmd.now)
    with db.read() as session:
        load_row(session, Room, cmd.room_id, "room")
    result, built = repair_out(
        db,
        start,
        cmd.end,
        interactive_settings(),
        room=cmd.room_id,
        now=cmd.now,
        reason="room closed",
    )
    reason = cmd.reason or f"closed by {caller.staff_id}"
    payload: dict[str, Any] = {
        "staff": None,
        "room": cmd.room_id,
        "start": start.isoformat(),
        "end": cmd.end.isoformat(),
        "reason": reason,
        **repair_payload(result, built),
    }
    tz = db.facility_tz()
    with db.session() as session:
        room = load_row(session, Room, cmd.room_id, "room")
        closure = RoomUnavailability(room_id=room.id, start=start, end=cmd.end, reason=reason)
        session.add(closure)
        session.flush()
        payload["closure"] = closure.id
        proposal_id = store_proposal(session, caller, KIND, payload, staff=None)
        session.refresh(room)
        append_event(
            session,
            actor=caller.staff_id,
            action="room.close",
            entity_type="room",
            entity_id=room.id,
            after={
                "start": payload["start"],
                "end": payload["end"],
                "proposal": proposal_id,
                "affected": payload["affected"],
            },
            reason=reason,
        )
        record = room_record(room, tz)
    return {"id": proposal_id, **payload, "record": record}
