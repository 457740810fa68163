"""Open slots: the free time nobody has asked for yet, clinician by clinician and session type by
session type, as the FHIR facade's Slot search and the SMART Scheduling Links files publish it.

The slot finder's own search with no patient named (solver.slots.SlotFinder.open_slots) on the
cached problem, with the holds for emergency admissions standing (OPS-EMERGENCY-HOLD), as
`assistant.optimize.offer_slots` does. What depends on the patient (caseload, limits, the
payer's units) is checked when a slot is booked, through the booking use case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.access import authorize
from assistant.problem_builder import BuiltProblem
from assistant.problem_cache import cached_problem
from assistant.usecases import capacity
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from solver.slots import SlotFinder

MAX_WINDOW = timedelta(days=31)
"""The longest window one search covers (a month of free time is already thousands of slots)."""


@dataclass(frozen=True)
class OpenSlotsQuery:
    start: datetime
    end: datetime
    staff: tuple[str, ...] = ()
    """Only these clinicians (empty: every one)."""
    session_types: tuple[str, ...] = ()
    """Only these session types (empty: every one that can be booked one to one)."""


@dataclass(frozen=True)
class OpenSlot:
    staff: str
    session_type: str
    start: datetime
    end: datetime
    room: str | None


@dataclass(frozen=True)
class ClinicianSchedule:
    """One clinician's calendar over a horizon: the session types they may provide."""

    staff: str
    name: str
    session_types: tuple[str, ...]


def open_slots(
    db: Database, caller: Caller, query: OpenSlotsQuery, now: datetime | None = None
) -> list[OpenSlot]:
    """The open slots in [start, end), earliest first, for a caller who may see the schedule."""
    authorize(db, caller, "view_schedule")
    return _open(db, query, now)


def published_slots(db: Database, days: int, now: datetime | None = None) -> list[OpenSlot]:
    """The open slots of the next `days` days, for everyone: they name clinicians, rooms and
    times only (a SMART Scheduling Links publication is public by design)."""
    moment = now or now_utc()
    return _open(db, OpenSlotsQuery(moment, moment + timedelta(days=days)), moment)


def clinician_schedules(
    db: Database, caller: Caller | None, start: datetime, end: datetime
) -> list[ClinicianSchedule]:
    """Every clinician who may provide a session that can be booked one to one, with those
    session types (`caller` None: the public publication)."""
    if caller is not None:
        authorize(db, caller, "view_schedule")
    built = _problem(db, start, end)
    types = _bookable(built)
    offered: dict[str, list[str]] = {}
    for session_type in types:
        for staff_id in built.problem.eligibility.qualified.get(session_type, ()):
            offered.setdefault(staff_id, []).append(session_type)
    return [
        ClinicianSchedule(s.id, built.staff_names.get(s.id, s.id), tuple(offered[s.id]))
        for s in built.problem.staff
        if s.id in offered
    ]


def _open(db: Database, query: OpenSlotsQuery, now: datetime | None) -> list[OpenSlot]:
    if query.end <= query.start:
        raise InvalidInput("the window is empty: its end must be after its start")
    if query.end - query.start > MAX_WINDOW:
        raise InvalidInput(f"ask for at most {MAX_WINDOW.days} days of slots at a time")
    moment = now or now_utc()
    if query.end <= moment:
        return []
    built = _problem(db, query.start, query.end)
    index = built.index()
    holds = capacity.standing_holds(db, built, moment, query.end)
    if holds:
        index = index.holding(holds)
    finder = SlotFinder(built.problem, index)
    clock = built.clock
    window = (clock.minutes(query.start), clock.minutes(query.end))
    bookable = _bookable(built)
    types = [t for t in query.session_types if t in bookable] if query.session_types else bookable
    out = [
        OpenSlot(o.staff[0], session_type, clock.moment(o.start), clock.moment(o.end), o.room)
        for session_type in types
        for o in finder.open_slots(
            session_type, window, staff=query.staff or None, now=clock.minutes(moment)
        )
    ]
    out.sort(key=lambda s: (s.start, s.staff, s.session_type))
    return out


def _problem(db: Database, start: datetime, end: datetime) -> BuiltProblem:
    """The cached problem over whole ISO weeks around the window, so a clinician's weekly hours
    count every session of the week."""
    tz = db.facility_tz()
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    sunday = last + timedelta(days=6 - last.weekday())
    lo = datetime.combine(monday, datetime.min.time(), tz)
    hi = datetime.combine(sunday + timedelta(days=1), datetime.min.time(), tz)
    return cached_problem(db, lo, hi)


def _bookable(built: BuiltProblem) -> list[str]:
    """The session types booked one to one (group sessions are joined by enrolment)."""
    return [t for t, kind in built.problem.session_types.items() if not kind.group]
