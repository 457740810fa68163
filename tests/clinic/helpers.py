"""A tiny hand-made facility for booking tests: every rule of thumb is visible in the data."""

from __future__ import annotations

from typing import Any

TZ = "America/New_York"


def small_facility() -> dict[str, Any]:
    return {
        "version": 1,
        "facility": {"name": "Test Clinic", "timezone": TZ, "open": "08:00", "close": "18:00"},
        "rooms": [
            {"id": "ind-1", "name": "Office 1", "kind": "individual", "capacity": 2},
            {
                "id": "ind-2",
                "name": "Office 2",
                "kind": "individual",
                "capacity": 3,
                "unavailable": [
                    {
                        "start": "2026-12-02T08:00:00",
                        "end": "2026-12-02T12:00:00",
                        "reason": "painting",
                    }
                ],
            },
            {"id": "grp-1", "name": "Group room", "kind": "group", "capacity": 6},
            {"id": "med-1", "name": "Exam room", "kind": "medical", "capacity": 3},
        ],
        "staff": [
            {
                "id": "t1",
                "name": "Tara Quinn",
                "role": "therapist",
                "credentials": ["LCSW"],
                "availability": {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                "unavailable": [
                    {
                        "start": "2026-12-03T00:00:00",
                        "end": "2026-12-04T00:00:00",
                        "reason": "training",
                    }
                ],
            },
            {"id": "t2", "name": "Omar Field", "role": "counselor", "credentials": ["CADC"]},
            {"id": "cm1", "name": "Casey Moore", "role": "case_manager"},
            {
                "id": "md1",
                "name": "Dr. Lena Raman",
                "role": "psychiatrist",
                "credentials": ["MD"],
                "availability": {"mon": ["09:00-12:00"], "wed": ["09:00-12:00"]},
            },
        ],
        "patients": [{"id": f"p{i}", "name": f"Patient {i}"} for i in range(1, 9)],
        "groups": [
            {
                "id": "g1",
                "name": "Relapse Prevention",
                "session_type": "group",
                "facilitators": ["t2"],
                "members": ["p5", "p6", "p7"],
                "capacity": 8,
            }
        ],
    }
