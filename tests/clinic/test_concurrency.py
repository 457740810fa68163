"""Racing bookings: thirty people try to take one clinician's 10:00; exactly one wins."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinic.booking import BookingRequest, BookingService
from clinic.db import Database
from clinic.errors import BookingConflict
from clinic.facility_file import load_facility
from clinic.models import Appointment, AppointmentPatient, AppointmentStaff, AuditEvent

NY = ZoneInfo("America/New_York")
SLOT = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
RACERS = 30


def facility() -> dict:
    return {
        "version": 1,
        "facility": {"name": "Race Clinic", "timezone": "America/New_York"},
        "rooms": [
            {"id": f"r{i}", "name": f"Office {i}", "kind": "individual", "capacity": 2}
            for i in range(RACERS)
        ],
        "staff": [{"id": "t1", "name": "Tara Quinn", "role": "therapist"}],
        "patients": [{"id": f"p{i}", "name": f"Patient {i}"} for i in range(RACERS)],
    }


def test_thirty_threads_one_slot(any_db: Database) -> None:
    load_facility(any_db, facility())
    service = BookingService(any_db)
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        request = BookingRequest(
            session_type="individual", start=SLOT, staff=["t1"], patients=[f"p{i}"], room=f"r{i}"
        )
        barrier.wait()
        try:
            service.book(f"user{i}", request)
            result = "booked"
        except BookingConflict:
            result = "conflict"
        except Exception as exc:  # anything else is a bug the test must show
            result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(set(outcomes)) == ["booked", "conflict"], outcomes
    assert outcomes.count("booked") == 1
    with any_db.session() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1
        # one audit event for the load, one for the single booking
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2


@pytest.mark.parametrize(
    ("staff", "patient", "room", "guard"),
    [
        ("t1", "p1", None, "staff_overlap"),
        ("t2", "p0", None, "patient_overlap"),
        ("t2", "p1", "r0", "room_overlap"),
    ],
)
def test_database_refuses_overlap_even_without_the_service(
    any_db: Database, staff: str, patient: str, room: str | None, guard: str
) -> None:
    """The backstop: a writer that skips the service's checks is still stopped by the database."""
    data = facility()
    data["staff"].append({"id": "t2", "name": "Omar Field", "role": "counselor"})
    load_facility(any_db, data)
    BookingService(any_db).book(
        "u",
        BookingRequest(
            session_type="individual", start=SLOT, staff=["t1"], patients=["p0"], room="r0"
        ),
    )
    start, end = SLOT + timedelta(minutes=15), SLOT + timedelta(minutes=60)
    rogue = Appointment(
        id="rogue",
        session_type_id="individual",
        start=start,
        end=end,
        room_id=room,
        status="booked",
        active=True,
        pinned=False,
        created_at=SLOT,
        created_by="x",
        updated_at=SLOT,
        updated_by="x",
        staff_links=[AppointmentStaff(staff_id=staff, start=start, end=end, active=True)],
        patient_links=[AppointmentPatient(patient_id=patient, start=start, end=end, active=True)],
    )
    with pytest.raises(IntegrityError, match=guard), any_db.session() as session:
        session.add(rogue)
        session.flush()
