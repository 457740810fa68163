"""The living record through HTTP: staff added and changed, planned leave, groups enrolled and
ended, rooms closed (demo 's' facility, start Mon 30 Nov 2026). Bad records get a 4xx problem
naming the field, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from assistant import callers
from assistant.usecases import absences
from clinic.db import Database
from clinic.errors import BookingConflict
from clinic.facility_file import export_facility
from clinic.models import Appointment, AuditEvent, Proposal, RoomUnavailability
from clinic.timeutil import now_utc
from clinic.tokens import create_token
from integrations.http.app import create_app
from rules import service as rules_service
from tests.http.test_chat import Person

DIRECTOR, THERAPIST, FRONT_DESK = "s001", "c004", "s004"


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def quick_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROTA_SOLVER_TIME_LIMIT", "2")


@pytest.fixture(autouse=True)
def demo_monday(set_now: Callable[[datetime], None]) -> None:
    """The demo's first morning, whatever the wall clock says (its sessions ahead are that week)."""
    set_now(datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("America/New_York")))


def token(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def events(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def group(db: Database, group_id: str) -> dict[str, Any]:
    return next(g for g in export_facility(db)["groups"] if g["id"] == group_id)


def sessions_of(db: Database, group_id: str) -> dict[str, list[str]]:
    """The group's booked sessions from now on: id -> patients."""
    with db.read() as session:
        rows = session.scalars(
            select(Appointment).where(
                Appointment.group_id == group_id,
                Appointment.status == "booked",
                Appointment.start >= now_utc(),
            )
        ).all()
        return {a.id: a.patient_ids for a in rows}


def is_problem(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert any(e.startswith(field) for e in body.get("errors", [])), body
    return body


# --- staff ---------------------------------------------------------------------------------------


def test_staff_added_with_an_unknown_supervisor_is_refused_naming_the_field(
    client: TestClient, demo_db: Database
) -> None:
    headers = token(demo_db, DIRECTOR)
    before = events(demo_db)
    record = {"id": "c009", "name": "Jamie Park", "role": "intern", "supervisor": "c999"}
    body = is_problem(client.post("/api/staff", json=record, headers=headers), 422, "$.supervisor")
    assert "c999" in " ".join(body["errors"])
    assert events(demo_db) == before
    assert "c009" not in {s["id"] for s in export_facility(demo_db)["staff"]}


def test_staff_added_updated_and_exported_as_sent(client: TestClient, demo_db: Database) -> None:
    headers = token(demo_db, DIRECTOR)
    record = {
        "id": "c009",
        "name": "Jamie Park",
        "role": "intern",
        "credentials": ["CADC-T"],
        "supervisor": "c003",
        "availability": {"mon": ["09:00-17:00"]},
    }
    added = client.post("/api/staff", json=record, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json() == record
    change = {"max_minutes_per_week": 1200, "specializations": ["trauma"], "availability": None}
    updated = client.patch("/api/staff/c009", json=change, headers=headers)
    assert updated.status_code == 200, updated.text
    exported = next(s for s in export_facility(demo_db)["staff"] if s["id"] == "c009")
    assert exported == {
        **{k: v for k, v in record.items() if k != "availability"},
        "max_minutes_per_week": 1200,
        "specializations": ["trauma"],
    }
    is_problem(
        client.patch("/api/staff/c009", json={"max_minutes_per_week": -5}, headers=headers),
        422,
        "$.max_minutes_per_week",
    )
    is_problem(
        client.patch("/api/staff/c009", json={"unavailable": []}, headers=headers),
        422,
        "$.unavailable",
    )
    # A therapist may not change the roster.
    assert (
        client.post("/api/staff", json=record, headers=token(demo_db, THERAPIST)).status_code == 403
    )


def test_planned_leave_is_recorded_and_its_repair_proposed(
    client: TestClient, demo_db: Database
) -> None:
    period = {"start": "2026-12-01T00:00", "end": "2026-12-03T00:00", "reason": "annual leave"}
    response = client.post(
        f"/api/staff/{THERAPIST}/leave", json=period, headers=token(demo_db, THERAPIST)
    )
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["staff"] == THERAPIST and proposal["affected"] > 0
    assert proposal["affected"] == len(proposal["moves"]) + len(proposal["unplaced"])
    with demo_db.read() as session:
        stored = session.get(Proposal, proposal["id"])
        assert stored is not None and stored.status == "pending"
    leave = [
        u
        for u in next(s for s in export_facility(demo_db)["staff"] if s["id"] == THERAPIST)[
            "unavailable"
        ]
    ]
    assert {
        "start": "2026-12-01T00:00:00-05:00",
        "end": "2026-12-03T00:00:00-05:00",
        "reason": "annual leave",
    } in leave
    is_problem(
        client.post(
            f"/api/staff/{THERAPIST}/leave",
            json={"start": "2026-12-01T00:00"},
            headers=token(demo_db, THERAPIST),
        ),
        422,
        "$.end",
    )


def test_a_departure_proposes_cover_and_revokes_the_tokens(
    client: TestClient, demo_db: Database
) -> None:
    leaving = token(demo_db, THERAPIST)
    assert client.get("/api/appointments", headers=leaving).status_code == 200
    response = client.post(
        f"/api/staff/{THERAPIST}/leave",
        json={"start": "2026-12-01T00:00", "for_good": True, "reason": "moved away"},
        headers=token(demo_db, DIRECTOR),
    )
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["departure"] and proposal["tokens_revoked"] >= 1 and proposal["affected"] > 0
    assert "g02" in proposal["facilitates"]
    assert client.get("/api/appointments", headers=leaving).status_code == 401
    # The director sees it waiting in the chat, worded as a departure.
    waiting = Person(client, demo_db, DIRECTOR).says("pending")["reply"]
    assert "Brian Romero leaves the facility from Tue 01 Dec 00:00" in waiting


# --- groups --------------------------------------------------------------------------------------


@pytest.fixture()
def keep_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """p0003 and p0011 (a member of g02) have a no-contact order."""
    directory = tmp_path / "facility-rules"
    directory.mkdir()
    (directory / "keep.yaml").write_text("data:\n  keep_apart: [[p0003, p0011]]\n", "utf-8")
    monkeypatch.setenv("ROTA_RULES_DIR", str(directory))
    monkeypatch.setattr(rules_service, "_DEFAULT", None)


def test_enrolled_member_is_listed_and_can_be_removed(
    client: TestClient, demo_db: Database
) -> None:
    headers = token(demo_db, DIRECTOR)
    response = client.post("/api/groups/g02/members", json={"patient": "p0041"}, headers=headers)
    assert response.status_code == 201, response.text
    enrolled = response.json()
    assert enrolled["group"]["members"][-1] == "p0041"
    # They join the group's booked sessions ahead (each through the booking service).
    ahead = sessions_of(demo_db, "g02")
    assert ahead and set(enrolled["joined"]) | {
        n["appointment"] for n in enrolled["not_joined"]
    } == set(ahead)
    assert all(("p0041" in ahead[a]) == (a in enrolled["joined"]) for a in ahead)
    assert enrolled["joined"], enrolled["not_joined"]
    assert "p0041" in group(demo_db, "g02")["members"]
    again = client.post("/api/groups/g02/members", json={"patient": "p0041"}, headers=headers)
    is_problem(again, 422, "$.patient")
    removed = client.delete("/api/groups/g02/members/p0041", headers=headers)
    assert removed.status_code == 200 and "p0041" not in removed.json()["group"]["members"]
    assert set(removed.json()["left"]) == set(enrolled["joined"])
    assert not any("p0041" in patients for patients in sessions_of(demo_db, "g02").values())
    assert "p0041" not in group(demo_db, "g02")["members"]
    is_problem(client.post("/api/groups/g02/members", json={}, headers=headers), 422, "$.patient")
    assert (
        client.post(
            "/api/groups/g99/members", json={"patient": "p0041"}, headers=headers
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("case", "group_id", "rule"),
    [
        ("closed cohort", "g01", "GRP-CLOSED-COHORT"),
        ("keep-apart pair", "g02", "GRP-KEEP-APART"),
        ("over capacity", "g-small", "GRP-CAPACITY"),
    ],
)
def test_enrolment_the_rules_refuse_names_the_field_and_writes_nothing(
    client: TestClient, demo_db: Database, keep_apart: None, case: str, group_id: str, rule: str
) -> None:
    headers = token(demo_db, DIRECTOR)
    if group_id == "g-small":
        small = {
            "id": "g-small",
            "name": "Small",
            "session_type": "group",
            "facilitators": ["c003"],
            "members": ["p0050", "p0051"],
            "capacity": 2,
        }
        assert client.post("/api/groups", json=small, headers=headers).status_code == 201
    members = group(demo_db, group_id)["members"]
    before = events(demo_db)
    response = client.post(
        f"/api/groups/{group_id}/members", json={"patient": "p0003"}, headers=headers
    )
    body = is_problem(response, 422, "$.patient")
    assert rule in " ".join(body["errors"]), case
    assert group(demo_db, group_id)["members"] == members
    assert events(demo_db) == before


def test_a_group_created_with_a_keep_apart_pair_is_refused_whole(
    client: TestClient, demo_db: Database, keep_apart: None
) -> None:
    record = {
        "id": "g10",
        "name": "Anger Management",
        "session_type": "group",
        "facilitators": ["c003"],
        "members": ["p0011", "p0003"],
    }
    body = is_problem(
        client.post("/api/groups", json=record, headers=token(demo_db, DIRECTOR)),
        422,
        "$.members[1]",
    )
    assert "GRP-KEEP-APART" in body["errors"][0]
    assert "g10" not in {g["id"] for g in export_facility(demo_db)["groups"]}
    bad = {**record, "members": ["p9999"], "facilitators": []}
    is_problem(
        client.post("/api/groups", json=bad, headers=token(demo_db, DIRECTOR)),
        422,
        "$.facilitators",
    )


def test_ending_a_group_cancels_its_future_sessions(client: TestClient, demo_db: Database) -> None:
    with demo_db.read() as session:
        future = session.scalars(
            select(Appointment.id).where(
                Appointment.group_id == "g03",
                Appointment.status == "booked",
                Appointment.start >= func.current_timestamp(),
            )
        ).all()
    headers = token(demo_db, DIRECTOR)
    before = events(demo_db)
    # Its members' weeks drop below their level of care: a clinical override is needed.
    refused = client.post("/api/groups/g03/end", json={"reason": "retiring"}, headers=headers)
    assert refused.status_code == 422 and "LOC-BELOW-BAND" in refused.text
    assert events(demo_db) == before and group(demo_db, "g03")["members"]
    response = client.post(
        "/api/groups/g03/end",
        json={"reason": "retiring", "override_reason": "members move to the DBT II group"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    cancelled = {a["id"] for a in result["cancelled"]}
    assert cancelled and set(future) <= cancelled
    assert all(a["status"] == "cancelled" for a in result["cancelled"])
    ended = group(demo_db, "g03")
    assert ended["members"] == [] and "schedule" not in ended


# --- rooms ---------------------------------------------------------------------------------------


def test_room_closed_tomorrow_is_proposed_and_applied_all_or_nothing(
    client: TestClient, demo_db: Database
) -> None:
    closure = {"start": "2026-12-01T00:00", "end": "2026-12-02T00:00", "reason": "flooding"}
    response = client.post(
        "/api/rooms/ind-1/closures", json=closure, headers=token(demo_db, FRONT_DESK)
    )
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["room"] == "ind-1" and len(proposal["moves"]) >= 2
    closed = (proposal["start"], proposal["end"])
    for move in proposal["moves"]:  # out of the room, or the same room on another day
        assert move["before"]["room"] == "ind-1" and closed[0] <= move["before"]["start"]
        assert (
            move["after"]["room"] != "ind-1" or not closed[0] <= move["after"]["start"] < closed[1]
        )
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(RoomUnavailability)) == 1
    # The room one move goes to closes too before the director applies: nothing moves.
    director = callers.for_staff(demo_db, DIRECTOR)
    target = next(m["after"] for m in proposal["moves"] if m["after"]["room"] != "ind-1")
    second = client.post(
        f"/api/rooms/{target['room']}/closures",
        json={"start": target["start"], "end": target["end"], "reason": "a leak"},
        headers=token(demo_db, FRONT_DESK),
    ).json()
    with pytest.raises(BookingConflict, match="closed"):
        absences.apply_proposal(demo_db, director, absences.ApplyProposal(proposal["id"]))
    with demo_db.read() as session:
        for move in proposal["moves"]:
            row = session.get(Appointment, move["appointment"])
            assert row is not None and row.room_id == "ind-1", "a failed apply moved nothing"
        stored = session.get(Proposal, proposal["id"])
        assert stored is not None and stored.status == "pending"
    # The leak is fixed (the second closure withdrawn: the room reopens); now it applies.
    absences.withdraw_absence(demo_db, director, absences.WithdrawAbsence(second["id"]))
    applied = absences.apply_proposal(demo_db, director, absences.ApplyProposal(proposal["id"]))
    assert applied["moved"] == len(proposal["moves"])
    with demo_db.read() as session:
        for move in proposal["moves"]:
            row = session.get(Appointment, move["appointment"])
            assert row is not None and row.room_id == move["after"]["room"]


def test_bad_closures_are_problems_naming_the_field(client: TestClient, demo_db: Database) -> None:
    headers = token(demo_db, DIRECTOR)
    is_problem(
        client.post(
            "/api/rooms/ind-1/closures",
            json={"start": "tomorrow", "end": "2026-12-02T00:00"},
            headers=headers,
        ),
        422,
        "$.start",
    )
    is_problem(
        client.post(
            "/api/rooms/ind-1/closures",
            json={"start": "2026-12-02T00:00", "end": "2026-12-01T00:00"},
            headers=headers,
        ),
        422,
        "$.end",
    )
    assert (
        client.post(
            "/api/rooms/nope/closures",
            json={"start": "2026-12-01T00:00", "end": "2026-12-02T00:00"},
            headers=headers,
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/rooms/ind-1/closures",
            json={"start": "2026-12-01T00:00", "end": "2026-12-02T00:00"},
            headers=token(demo_db, THERAPIST),
        ).status_code
        == 403
    )
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(RoomUnavailability)) == 0


def test_a_group_with_no_sessions_ahead_ends_without_a_body(
    client: TestClient, demo_db: Database
) -> None:
    headers = token(demo_db, DIRECTOR)
    record = {
        "id": "g10",
        "name": "Family Night",
        "session_type": "group",
        "facilitators": ["c003"],
        "members": ["p0050"],
    }
    assert client.post("/api/groups", json=record, headers=headers).status_code == 201
    ended = client.post("/api/groups/g10/end", headers=headers)
    assert ended.status_code == 200, ended.text
    assert ended.json()["cancelled"] == [] and group(demo_db, "g10")["members"] == []
    assert client.post("/api/groups/g10/end", headers=token(demo_db, THERAPIST)).status_code == 403
