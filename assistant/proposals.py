"""What an emergency admission could bump to be seen sooner (the sick-call use cases are in
assistant.usecases.absences; the emergency's stored proposal in assistant.usecases.emergencies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assistant.optimize import interactive_settings
from assistant.problem_builder import build_problem
from clinic import metrics
from clinic.db import Database
from clinic.timeutil import day_bounds
from solver.model import Placement, SlotRequest
from solver.repair import emergency


@dataclass(frozen=True)
class Place:
    """A session in time, as the booking service takes it."""

    start: datetime
    minutes: int
    staff: tuple[str, ...]
    room: str | None


@dataclass(frozen=True)
class Bumped:
    """A lower-priority appointment that would move to make room, and where it would go
    (None: it would have to be cancelled)."""

    appointment: str
    session_type: str
    start: datetime
    staff: tuple[str, ...]
    patients: tuple[str, ...]
    room: str | None
    minutes: int
    group: str | None
    moved_to: Place | None


@dataclass(frozen=True)
class RoomByMoving:
    """An earlier emergency slot that needs `moves` (cheapest first, by the solver's cost)."""

    start: datetime
    minutes: int
    staff: tuple[str, ...]
    room: str | None
    moves: tuple[Bumped, ...]


def emergency_bumps(
    db: Database,
    patient: str,
    session_type: str,
    start: datetime,
    end: datetime,
    now: datetime,
    staff: str | None = None,
) -> list[RoomByMoving]:
    """Which lower-priority appointments could move to make room sooner (at most two ways),
    with `staff` when the request named a clinician."""
    # The problem runs to the end of the window's day: a bumped session moves later that day.
    tz = db.facility_tz()
    until = max(end, day_bounds(end.astimezone(tz).date(), tz)[1])
    with db.read() as session:
        built = build_problem(session, start, until)
    clock = built.clock

    def place(p: Placement) -> Place:
        return Place(clock.moment(p.start), p.minutes, tuple(p.staff), p.room)

    with metrics.solver_time("repair"):  # an emergency is a repair around one admission
        answer = emergency(
            built.problem,
            SlotRequest(
                patients=(patient,),
                session_type=session_type,
                window=(clock.minutes(start), clock.minutes(end)),
                staff=staff,
            ),
            k=1,
            now=clock.minutes(now),
            settings=interactive_settings(),
        )
    return [
        RoomByMoving(
            start=clock.moment(option.start),
            minutes=option.end - option.start,
            staff=tuple(option.staff),
            room=option.room,
            moves=tuple(
                Bumped(
                    appointment=b.appointment.id,
                    session_type=b.appointment.session_type,
                    start=clock.moment(b.appointment.start),
                    staff=tuple(b.appointment.staff),
                    patients=tuple(b.appointment.patients),
                    room=b.appointment.room,
                    minutes=b.appointment.minutes,
                    group=b.appointment.group,
                    moved_to=place(b.moved_to) if b.moved_to else None,
                )
                for b in bumps
            ),
        )
        for option, bumps, _cost in answer.with_bumps[:2]
    ]
