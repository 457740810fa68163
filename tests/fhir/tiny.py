"""A tiny facility for FHIR import tests: two rooms, two clinicians, three patients, history and
sessions ahead (the week of 2026-11-30, seen from Monday noon)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Monday 12:00 in New York
HOURS = {d: ["08:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def appointment(aid: str, start: str, staff: str, patient: str, room: str, **extra: Any) -> dict:
    return {
        "id": aid,
        "session_type": "individual",
        "start": start,
        "minutes": 60,
        "staff": [staff],
        "patients": [patient],
        "room": room,
        **extra,
    }


def tiny_facility() -> dict[str, Any]:
    return {
        "version": 1,
        "facility": {"name": "Tiny Clinic", "timezone": "America/New_York"},
        "rooms": [
            {"id": "r1", "name": "Room 1", "kind": "individual", "capacity": 3},
            {"id": "r2", "name": "Room 2", "kind": "individual", "capacity": 3},
        ],
        "staff": [
            {
                "id": "c1",
                "name": "Dana Reyes",
                "role": "therapist",
                "credentials": ["LCSW"],
                "specializations": ["trauma"],
                "availability": HOURS,
            },
            {
                "id": "c2",
                "name": "Sam Okafor",
                "role": "counselor",
                "credentials": ["CADC"],
                "availability": HOURS,
            },
        ],
        "patients": [
            {
                "id": "p1",
                "name": "Alex Moreno",
                "dob": "1990-04-02",
                "level_of_care": "1.0",
                "phase": "active_treatment",
                "contact": {"channel": "sms", "phone": "+15555550101"},
            },
            {"id": "p2", "name": "Blair Chen", "dob": "1985-09-17", "phase": "active_treatment"},
            {"id": "p3", "name": "Casey Novak", "dob": "1979-01-30", "phase": "active_treatment"},
        ],
        "appointments": [
            appointment("a1", "2026-11-23T09:00:00-05:00", "c1", "p1", "r1", status="attended"),
            appointment("a2", "2026-12-01T09:00:00-05:00", "c1", "p1", "r1"),
            appointment("a3", "2026-12-01T11:00:00-05:00", "c2", "p2", "r2"),
            appointment("a4", "2026-12-02T10:00:00-05:00", "c1", "p3", "r1"),
            appointment("a5", "2026-12-03T10:00:00-05:00", "c2", "p3", "r2"),
        ],
    }
