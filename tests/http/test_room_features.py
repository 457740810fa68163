"""A session type that needs a room feature (`room_features`, e.g. step-free access) is booked
only into a room that has it: the booking service refuses another room, names what it lacks, and
picks a room that has it when none is named (demo 's': only Individual room 1 is accessible)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.db import Database
from clinic.facility_file import export_facility, load_facility
from clinic.tokens import create_token
from integrations.http.app import create_app

STEP_FREE = "individual_step_free"


@pytest.fixture()
def step_free_db(db: Database, demo_data: dict[str, Any]) -> Database:
    data = copy.deepcopy(demo_data)
    types = copy.deepcopy(data.get("session_types") or BUILTIN_SESSION_TYPES)
    individual = next(t for t in types if t["id"] == "individual")
    types.append(
        {
            **individual,
            "id": STEP_FREE,
            "name": "Individual (step-free)",
            "room_kinds": ["individual"],
            "room_features": ["accessible"],
        }
    )
    data["session_types"] = types
    for patient in data["patients"]:  # payers cover it as they cover individual sessions
        for authorization in patient.get("authorizations", []):
            if "individual" in authorization["session_types"]:
                authorization["session_types"].append(STEP_FREE)
    load_facility(db, data, actor="test")
    return db


@pytest.fixture()
def client(step_free_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(step_free_db)) as test_client:
        yield test_client


def test_a_room_without_the_feature_is_refused_and_one_with_it_chosen(
    client: TestClient, step_free_db: Database
) -> None:
    with step_free_db.session() as session:
        headers = {"Authorization": f"Bearer {create_token(session, 's001')}"}
    body = {
        "patients": ["p0022"],
        "staff": ["c004"],
        "session_type": STEP_FREE,
        "reason": "wheelchair",
    }
    refused = client.post(
        "/api/appointments",
        json={**body, "start": "2026-12-08T09:00", "room": "ind-2"},
        headers=headers,
    )
    assert refused.status_code == 409, refused.text
    assert "Individual room 2 (ind-2) has no accessible" in refused.json()["detail"]
    chosen = client.post(
        "/api/appointments", json={**body, "start": "2026-12-08T09:00"}, headers=headers
    )
    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["room"] == "ind-1"
    # ind-1 is now taken at 09:00: another step-free session then has no room at all.
    busy = client.post(
        "/api/appointments",
        json={**body, "patients": ["p0010"], "staff": ["c003"], "start": "2026-12-08T09:00"},
        headers=headers,
    )
    assert busy.status_code == 409, busy.text
    assert "no individual room for 2 people is free" in busy.json()["detail"]
    exported = next(
        t for t in export_facility(step_free_db)["session_types"] if t["id"] == STEP_FREE
    )
    assert exported["room_features"] == ["accessible"]


def test_the_solver_offers_only_rooms_with_the_feature(step_free_db: Database) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from assistant import callers
    from assistant.optimize import SlotsQuery, offer_slots
    from assistant.usecases import rooms

    ny = ZoneInfo("America/New_York")
    now = datetime(2026, 11, 30, 8, 30, tzinfo=ny)
    start, end = datetime(2026, 12, 8, 0, 0, tzinfo=ny), datetime(2026, 12, 11, 0, 0, tzinfo=ny)
    # The one accessible room is closed those days: other rooms are free, yet none is offered.
    director = callers.for_staff(step_free_db, "s001")
    rooms.close_room(step_free_db, director, rooms.CloseRoom("ind-1", start, end, now))
    query = SlotsQuery("p0022", STEP_FREE, start, end, k=5)
    answer, built = offer_slots(step_free_db, query, now=now)
    offered = [(built.clock.moment(o.start), o.room) for o in answer.options]
    assert all(room == "ind-1" and not start <= at < end for at, room in offered), offered
