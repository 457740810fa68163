"""What an emergency admission could bump to be seen sooner (the sick-call use cases are in
assistant.usecases.absences; their wording in assistant.dialogue.wording)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assistant.problem_builder import build_problem
from assistant.usecases import absences
from clinic.db import Database
from solver.model import SlotRequest
from solver.repair import emergency


@dataclass(frozen=True)
class Bumped:
    """A lower-priority appointment that would move to make room, and where it would go."""

    session_type: str
    start: datetime
    staff: tuple[str, ...]
    moved_to: datetime | None


@dataclass(frozen=True)
class RoomByMoving:
    """An earlier emergency slot that needs `moves` (cheapest first, by the solver's cost)."""

    start: datetime
    staff: tuple[str, ...]
    moves: tuple[Bumped, ...]


def emergency_bumps(
    db: Database, patient: str, session_type: str, start: datetime, end: datetime, now: datetime
) -> list[RoomByMoving]:
    """Which lower-priority appointments could move to make room sooner (at most two ways)."""
    with db.read() as session:
        built = build_problem(session, start, end)
    clock = built.clock
    answer = emergency(
        built.problem,
        SlotRequest(
            patients=(patient,),
            session_type=session_type,
            window=(clock.minutes(start), clock.minutes(end)),
        ),
        k=1,
        now=clock.minutes(now),
        settings=absences.interactive_settings(),
    )
    return [
        RoomByMoving(
            start=clock.moment(option.start),
            staff=tuple(option.staff),
            moves=tuple(
                Bumped(
                    session_type=b.appointment.session_type,
                    start=clock.moment(b.appointment.start),
                    staff=tuple(b.appointment.staff),
                    moved_to=clock.moment(b.moved_to.start) if b.moved_to else None,
                )
                for b in bumps
            ),
        )
        for option, bumps, _cost in answer.with_bumps[:2]
    ]
