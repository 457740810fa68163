"""Holidays: the whole facility closed for whole days (`FacilityClosure`). The facility file
has no holidays, so a facility-wide closure is the holiday: the booking service's hard checks
(clinic.placement) refuse any session in one, with its reason, whichever door booked it, and a
weekly series names the week it falls in. Sessions already booked then are not moved (list
them with `rota agenda`, or close the rooms one by one to get a repair proposal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from assistant.access import authorize
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import FacilityClosure
from clinic.timeutil import day_bounds, local_iso, now_utc
from clinic.tokens import Caller

MANAGE = "manage_rooms"
"""A holiday closes every room: whoever may close a room may close them all."""


@dataclass(frozen=True)
class CloseFacility:
    first_day: date
    last_day: date
    reason: str


def close_facility(db: Database, caller: Caller, cmd: CloseFacility) -> dict[str, Any]:
    """Record a closure from the start of `first_day` to the end of `last_day` (local days)."""
    authorize(db, caller, MANAGE)
    if cmd.last_day < cmd.first_day:
        raise InvalidInput(
            "the last day is before the first", ["last_day: must not be before first_day"]
        )
    if not cmd.reason.strip():
        raise InvalidInput("a closure needs a reason (e.g. 'Christmas Day')", ["reason: empty"])
    tz = db.facility_tz()
    start, end = day_bounds(cmd.first_day, tz)[0], day_bounds(cmd.last_day, tz)[1]
    with db.session() as session:
        row = FacilityClosure(start=start, end=end, reason=cmd.reason.strip())
        session.add(row)
        session.flush()
        record = _record(row, tz)
        append_event(
            session,
            actor=caller.staff_id,
            action="facility.closure",
            entity_type="facility",
            entity_id=str(row.id),
            after=record,
            reason=cmd.reason,
            at=now_utc(),
        )
    return record


def closures(db: Database, caller: Caller) -> list[dict[str, Any]]:
    """Every closure still to come or under way, in order."""
    authorize(db, caller, "view_schedule")
    tz = db.facility_tz()
    with db.read() as session:
        rows = session.scalars(
            select(FacilityClosure)
            .where(FacilityClosure.end > now_utc())
            .order_by(FacilityClosure.start)
        )
        return [_record(r, tz) for r in rows]


def _record(row: FacilityClosure, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "start": local_iso(row.start, tz),
        "end": local_iso(row.end, tz),
        "reason": row.reason,
    }
