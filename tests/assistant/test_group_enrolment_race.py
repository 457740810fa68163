"""Two enrolments at once into a group with one place left: one is enrolled, the other is
refused by the group's capacity rule (the group's row is locked while it is judged)."""

from __future__ import annotations

import threading

from assistant import callers
from assistant.usecases import groups
from clinic.db import Database
from clinic.errors import RuleViolation
from tests.assistant.conftest import DIRECTOR


def test_the_last_place_goes_to_one_of_two_at_once(any_demo_db: Database) -> None:
    db = any_demo_db
    director = callers.for_staff(db, DIRECTOR)
    record = {
        "id": "g-last",
        "name": "Last Place",
        "session_type": "group",
        "facilitators": ["c003"],
        "members": ["p0041"],
        "capacity": 2,
    }
    groups.create_group(db, director, groups.CreateGroup(record))
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def enrol(patient: str) -> None:
        start.wait()
        try:
            results[patient] = groups.enrol(db, director, groups.Enrol("g-last", patient))
        except RuleViolation as exc:
            results[patient] = exc

    threads = [threading.Thread(target=enrol, args=(p,)) for p in ("p0042", "p0044")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [r for r in results.values() if isinstance(r, RuleViolation)]
    assert len(refused) == 1 and "GRP-CAPACITY" in refused[0].problems[0]
    members = next(g for g in groups_of(db) if g["id"] == "g-last")["members"]
    assert len(members) == 2 and members[0] == "p0041"


def groups_of(db: Database) -> list[dict[str, object]]:
    from clinic.facility_file import export_facility

    found: list[dict[str, object]] = export_facility(db)["groups"]
    return found
