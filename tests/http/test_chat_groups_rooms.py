"""Groups, rooms and planned leave in the conversation, through POST /api/chat (demo 's'
facility; the clock is fixed at Mon 30 Nov 2026 08:30 New York). Nothing is written before
"yes"; a room's closure and a planned leave end in proposals the director applies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.facility_file import export_facility
from clinic.models import Appointment, AuditEvent, Proposal, RoomUnavailability
from tests.http.test_chat import NOW, Person

DIRECTOR, THERAPIST, FRONT_DESK = "s001", "c004", "s004"


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    from integrations.http.app import create_app

    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def quick_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROTA_SOLVER_TIME_LIMIT", "2")


def members(db: Database, group_id: str) -> list[str]:
    found: list[str] = next(g for g in export_facility(db)["groups"] if g["id"] == group_id)[
        "members"
    ]
    return found


def count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_enrol_and_remove_are_confirmed_before_anything_is_written(
    client: TestClient, demo_db: Database
) -> None:
    director = Person(client, demo_db, DIRECTOR)
    events = count(demo_db, AuditEvent)
    asked = director.says("add Robert Long to the DBT skills group")
    assert asked["frame"]["action"] == "enroll" and asked["frame"]["intent"] == "unknown"
    assert "Add Robert Long to DBT Skills" in asked["reply"]
    assert "p0041" not in members(demo_db, "g03") and count(demo_db, AuditEvent) == events
    done = director.says("yes")
    assert "is now a member of DBT Skills" in done["reply"]
    assert re.search(r"joins its [1-9]\d* booked session\(s\) ahead\.$", done["reply"])
    assert done["appointments"]
    assert members(demo_db, "g03")[-1] == "p0041"
    asked = director.says("remove Robert Long from the DBT group")
    assert asked["frame"]["action"] == "unenroll"
    assert "left it as it was" in director.says("no")["reply"]
    assert "p0041" in members(demo_db, "g03")
    director.says("remove Robert Long from the DBT group")
    assert "no longer in DBT Skills" in director.says("yes")["reply"]
    assert "p0041" not in members(demo_db, "g03")


def test_enrolling_into_a_closed_cohort_is_refused_with_the_rule(
    client: TestClient, demo_db: Database
) -> None:
    director = Person(client, demo_db, DIRECTOR)
    before = members(demo_db, "g01")
    asked = director.says("add Joshua Brown to the Tuesday relapse-prevention group")
    assert "Relapse Prevention" in asked["reply"]
    refused = director.says("yes")
    assert "GRP-CLOSED-COHORT" in refused["reply"] and "closed cohort" in refused["reply"]
    assert members(demo_db, "g01") == before
    # The refusal is final: another "yes" has nothing to confirm.
    assert "nothing to confirm" in director.says("yes")["reply"]
    assert members(demo_db, "g01") == before
    unknown = director.says("add Joshua Brown to the knitting group")
    assert "don't know a group" in unknown["reply"]


def test_a_room_closed_tomorrow_becomes_a_proposal_the_director_applies(
    client: TestClient, demo_db: Database
) -> None:
    desk = Person(client, demo_db, FRONT_DESK)
    asked = desk.says("Individual room 1 is closed tomorrow")
    assert asked["frame"]["action"] == "room_closed"
    assert "Close Individual room 1 on Tue 01 Dec" in asked["reply"]
    assert count(demo_db, RoomUnavailability) == 0
    sent = desk.says("yes")
    assert "Individual room 1 is closed on Tue 01 Dec" in sent["reply"]
    assert "for approval" in sent["reply"] and sent["notify"]
    with demo_db.read() as session:
        proposal = session.scalars(select(Proposal).where(Proposal.kind == "room_closure")).one()
        moves = proposal.payload["moves"]
        pid = proposal.id
    assert moves and count(demo_db, RoomUnavailability) == 1
    director = Person(client, demo_db, DIRECTOR)
    assert pid in director.says("pending")["reply"]
    applied = director.says(f"apply {pid}")
    assert f"Applied proposal {pid}: {len(moves)} appointment(s) changed" in applied["reply"]
    with demo_db.read() as session:
        for move in moves:
            row = session.get(Appointment, move["appointment"])
            assert row is not None and row.room_id == move["after"]["room"]


def test_planned_leave_from_chat_records_the_absence_and_proposes_cover(
    client: TestClient, demo_db: Database
) -> None:
    director = Person(client, demo_db, DIRECTOR)
    answer = director.says("Brian Romero is on leave Dec 1 to Dec 2")
    frame = answer["frame"]
    assert frame["intent"] == "staff_unavailable" and frame["staff"]["id"] == THERAPIST
    assert frame["window"] == {
        "start": "2026-12-01T00:00:00-05:00",
        "end": "2026-12-03T00:00:00-05:00",
    }
    assert "until the end of Wed 02 Dec" in answer["reply"] and "apply" in answer["reply"]
    staff = next(s for s in export_facility(demo_db)["staff"] if s["id"] == THERAPIST)
    assert any(u["start"].startswith("2026-12-01T00:00") for u in staff["unavailable"])
    with demo_db.read() as session:
        proposal = session.scalars(select(Proposal).where(Proposal.kind == "absence")).one()
        assert proposal.payload["affected"] > 0


def test_a_room_closure_withdrawn_in_chat_reopens_the_room(
    client: TestClient, demo_db: Database
) -> None:
    director = Person(client, demo_db, DIRECTOR)
    director.says("Individual room 2 is closed tomorrow")
    proposed = director.says("yes")
    assert "Reply 'apply'" in proposed["reply"]
    assert count(demo_db, RoomUnavailability) == 1
    withdrawn = director.says("withdraw")
    assert "the room is not closed after all" in withdrawn["reply"]
    assert count(demo_db, RoomUnavailability) == 0
