"""A clinician working at two sites of a network is never planned, offered or booked at both at
once, nor without the travel minutes between them (PostgreSQL; skipped when unreachable)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from assistant import tenancy
from assistant.optimize import SlotsQuery, offer_slots
from assistant.problem_builder import build_problem
from assistant.usecases import appointments
from assistant.usecases.appointments import Book
from clinic.db import Database
from clinic.errors import BookingConflict, RotaError
from clinic.models import AppointmentPatient, AppointmentStaff, Patient
from clinic.timeutil import day_bounds, use_clock, zone
from tests.conftest import PgNetwork

NY = zone("America/New_York")
TRAVEL = 30
SHARED = "c005"  # north's c005 (10-14, 14:30-19) is south's c005 (8-12, 12:30-17)


@pytest.fixture()
def shared(pg_network: PgNetwork) -> Iterator[PgNetwork]:
    use_clock(lambda: datetime(2026, 11, 30, 12, tzinfo=UTC))
    tenancy.link_person(pg_network.north, "benjamin", {"north": SHARED, "south": SHARED})
    tenancy.set_travel(pg_network.north, "north", "south", TRAVEL)
    yield pg_network
    use_clock(None)


def _sessions(db: Database, staff: str, day: int) -> list[tuple[datetime, datetime]]:
    lo, hi = day_bounds(datetime(2026, 12, day).date(), NY)
    with db.read() as session:
        rows = session.scalars(
            select(AppointmentStaff).where(
                AppointmentStaff.staff_id == staff,
                AppointmentStaff.active.is_(True),
                AppointmentStaff.start >= lo,
                AppointmentStaff.start < hi,
            )
        )
        return sorted((r.start, r.end) for r in rows)


def _widened(busy: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    gap = timedelta(minutes=TRAVEL)
    return [(a - gap, b + gap) for a, b in busy]


def _overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_the_plan_and_the_slots_leave_out_the_other_site_and_the_travel(
    shared: PgNetwork,
) -> None:
    south_busy = _widened(_sessions(shared.south, SHARED, 2))
    assert south_busy, "the demo books south's c005 on Wednesday"
    lo, hi = day_bounds(datetime(2026, 12, 2).date(), NY)
    with shared.north.read() as session:
        built = build_problem(session, lo, hi)
    clock = built.clock
    free = next(s for s in built.problem.staff if s.id == SHARED).available
    for window in south_busy:
        minutes = (clock.minutes(window[0]), clock.minutes(window[1]))
        assert not any(a < minutes[1] and minutes[0] < b for a, b in free), window
    # Slots offered at north with c005 avoid south's sessions and the travel around them.
    with shared.north.read() as session:
        patient = session.scalar(
            select(Patient.id).where(Patient.primary_clinician_id == SHARED).limit(1)
        )
    assert patient is not None
    answer, built = offer_slots(
        shared.north,
        SlotsQuery(patient, "individual", lo, hi, staff=SHARED, k=10),
    )
    for option in answer.options:
        offered = (built.clock.moment(option.start), built.clock.moment(option.end))
        assert not any(_overlaps(offered, busy) for busy in south_busy), offered


def _free_patient(db: Database, day: int) -> str:
    """A patient of the shared clinician with nothing booked that day."""
    lo, hi = day_bounds(datetime(2026, 12, day).date(), NY)
    with db.read() as session:
        busy = set(
            session.scalars(
                select(AppointmentPatient.patient_id).where(
                    AppointmentPatient.start >= lo, AppointmentPatient.start < hi
                )
            )
        )
        mine = session.scalars(
            select(Patient.id).where(Patient.primary_clinician_id == SHARED).order_by(Patient.id)
        )
        return next(p for p in mine if p not in busy)


def _free_at_both(shared: PgNetwork, day: int) -> datetime:
    """A start (10:00-11:30, when c005 works at both sites) with two free hours around it at
    both sites."""
    for hour, minute in ((10, 0), (10, 30), (11, 0), (11, 30)):
        at = datetime(2026, 12, day, hour, minute, tzinfo=NY)
        around = (at - timedelta(hours=2), at + timedelta(hours=2))
        if not any(
            _overlaps(around, b)
            for db in (shared.north, shared.south)
            for b in _sessions(db, SHARED, day)
        ):
            return at
    raise AssertionError(f"c005 is busy every morning of 2026-12-{day:02} at one site")


def _book(db: Database, facility: str, patient: str, at: datetime) -> None:
    caller = tenancy.caller_at(db, tenancy.Home(facility, "s001"))
    appointments.book(
        db,
        caller,
        Book(patients=(patient,), staff=(SHARED,), session_type="individual", start=at),
    )


def test_booking_refuses_the_other_sites_time_and_the_travel(shared: PgNetwork) -> None:
    at = _free_at_both(shared, 8)
    _book(shared.south, "south", _free_patient(shared.south, 8), at)
    ((_start, end),) = [b for b in _sessions(shared.south, SHARED, 8) if b[0] == at]
    patient = _free_patient(shared.north, 8)
    # At the same time, and within the travel minutes after it: refused, saying why.
    for when in (at, end + timedelta(minutes=TRAVEL - 15)):
        with pytest.raises(BookingConflict, match=r"works at facility 'south' too.*30 minutes"):
            _book(shared.north, "north", patient, when)
    # Once the travel is over, north may book them.
    _book(shared.north, "north", patient, end + timedelta(minutes=TRAVEL))


def test_two_sites_booking_the_same_person_at_once_leave_one_booking(
    shared: PgNetwork,
) -> None:
    # A week after the demo's bookings, both sites try the same moment at once; the advisory lock on the person queues
    # them, and the second sees the first's session.
    at = _free_at_both(shared, 9)
    patients = {
        "north": _free_patient(shared.north, 9),
        "south": _free_patient(shared.south, 9),
    }
    results: list[str] = []
    barrier = threading.Barrier(2)

    def book(db: Database, facility: str) -> None:
        barrier.wait()
        try:
            _book(db, facility, patients[facility], at)
            results.append(f"{facility}: booked")
        except RotaError as exc:
            results.append(f"{facility}: {exc}")

    threads = [
        threading.Thread(target=book, args=(shared.north, "north")),
        threading.Thread(target=book, args=(shared.south, "south")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    booked = [r for r in results if r.endswith("booked")]
    assert len(booked) == 1, results
    refused = next(r for r in results if not r.endswith("booked"))
    assert "works at facility" in refused, refused
