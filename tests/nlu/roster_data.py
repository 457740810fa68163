"""The plain-data roster the NLU tests use (a facility-file dict, no database)."""

from __future__ import annotations

from typing import Any

from assistant.roster import Roster

FACILITY: dict[str, Any] = {
    "version": 1,
    "facility": {"name": "Harbor Recovery", "timezone": "America/New_York"},
    "rooms": [
        {"id": "r-101", "name": "Room 101", "kind": "individual", "capacity": 3},
        {"id": "r-102", "name": "Room 102", "kind": "individual", "capacity": 3},
        {"id": "r-grp-a", "name": "Group Room A", "kind": "group", "capacity": 14},
        {"id": "r-oak", "name": "Oak Room", "kind": "family", "capacity": 6},
        {"id": "r-tele-1", "name": "Telehealth 1", "kind": "telehealth", "capacity": 2},
        {"id": "r-exam", "name": "Exam Room", "kind": "medical", "capacity": 3},
    ],
    "staff": [
        {"id": "s-raman", "name": "Priya Raman", "role": "psychiatrist", "credentials": ["MD"]},
        {"id": "s-okafor", "name": "Daniel Okafor", "role": "therapist", "credentials": ["LCSW"]},
        {"id": "s-lchen", "name": "Lisa Chen", "role": "counselor", "credentials": ["LCADC"]},
        {"id": "s-patel", "name": "Sam Patel", "role": "therapist", "credentials": ["LPC"]},
        {
            "id": "s-garcia",
            "name": "Elena Garcia",
            "role": "nurse_practitioner",
            "credentials": ["NP"],
        },
        {"id": "s-brooks", "name": "Marcus Brooks", "role": "case_manager"},
        {
            "id": "s-wright",
            "name": "Hannah Wright",
            "role": "clinical_director",
            "credentials": ["PsyD"],
        },
        {"id": "s-obrien", "name": "Tom O'Brien", "role": "intake_coordinator"},
        {"id": "s-nguyen", "name": "Kevin Nguyen", "role": "physician", "credentials": ["DO"]},
    ],
    "patients": [
        {
            "id": "p-rivera",
            "name": "Jamie Rivera",
            "mrn": "4455661",
            "contact": {"phone": "555-201-7788", "email": "jrivera88@example.com"},
            "family_contacts": [{"name": "Carmen Rivera", "relation": "mother"}],
        },
        {
            "id": "p-lopez",
            "name": "Maria Lopez",
            "mrn": "445566",
            "family_contacts": [{"name": "Jose Lopez", "relation": "husband"}],
            "court_order": {
                "case_number": "CR-2024-1193",
                "start": "2026-01-01",
                "end": "2027-01-01",
                "requirements": [{"session_type": "group", "per_week": 2}],
            },
        },
        {"id": "p-turner", "name": "William Turner"},
        {"id": "p-oneil", "name": "Katherine O'Neil"},
        {"id": "p-rchen", "name": "Robert Chen"},
        {"id": "p-kim", "name": "Alex Kim"},
        {"id": "p-morgan", "name": "Alex Morgan"},
        {"id": "p-jackson", "name": "DeShawn Jackson"},
        {"id": "p-enguyen", "name": "Elizabeth Nguyen"},
        {"id": "p-brennan", "name": "Michael Brennan"},
        {"id": "p-martinez", "name": "Sofia Martinez"},
        {"id": "p-johnson", "name": "Tyler Johnson"},
        {"id": "p-reyes", "name": "Samantha Reyes"},
        {
            "id": "p-kowalski",
            "name": "Dorothy Kowalski",
            "family_contacts": [{"name": "Frank Kowalski", "relation": "son"}],
        },
        {"id": "p-castillo", "name": "Luis Castillo"},
    ],
}


def roster() -> Roster:
    return Roster.from_facility_file(FACILITY)
