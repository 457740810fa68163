"""Attendance over REST (demo 's', Mon 30 Nov 2026; the 08:00 sessions have started by the
time any test runs): check-in, marks, the unmarked list, a whole day, a delay's knock-on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from datetime import datetime as _datetime
from typing import Any
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfo as _ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from clinic.db import Database
from clinic.models import Appointment, AuditEvent
from clinic.tokens import create_token
from integrations.http.app import create_app
from tests.conftest import pin_clock

demo_clock = pin_clock(_datetime(2026, 11, 30, 18, 0, tzinfo=_ZoneInfo("America/New_York")))
"""The demo's Monday, whatever the wall clock says (the tests read "now" against it)."""

KEVIN_0800, CYNTHIA_1400, ERNEST_1500 = "a00216", "a00267", "a00220"
DIRECTOR, THERAPIST, OTHER_THERAPIST, FRONT_DESK = "s001", "c004", "c003", "s004"


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def token(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def status(db: Database, appointment_id: str) -> str:
    with db.read() as session:
        row = session.get(Appointment, appointment_id)
        assert row is not None
        return row.status


def events(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_the_front_desk_checks_in_and_sees_no_clinical_detail(
    client: TestClient, demo_db: Database
) -> None:
    response = client.post(
        f"/api/appointments/{KEVIN_0800}/check-in", headers=token(demo_db, FRONT_DESK)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "checked_in" and body["patients"] == ["p0002"]
    assert "session_type" not in body and "group" not in body and "note" not in body
    assert status(demo_db, KEVIN_0800) == "checked_in"


def test_a_therapist_marks_their_own_session_and_is_refused_anothers(
    client: TestClient, demo_db: Database
) -> None:
    url = f"/api/appointments/{KEVIN_0800}/attendance"
    before = events(demo_db)
    refused = client.post(url, json={"action": "attended"}, headers=token(demo_db, "c003"))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "only for sessions they hold" in refused.json()["detail"]
    assert status(demo_db, KEVIN_0800) == "booked" and events(demo_db) == before + 1  # token
    own = client.post(url, json={"action": "attended"}, headers=token(demo_db, THERAPIST))
    assert own.status_code == 200, own.text
    assert own.json()["status"] == "attended" and own.json()["session_type"] == "individual"


def test_the_status_route_refuses_bad_input_naming_it(
    client: TestClient, demo_db: Database
) -> None:
    headers = token(demo_db, DIRECTOR)
    before = events(demo_db)
    bad = client.post(
        f"/api/appointments/{KEVIN_0800}/status", json={"status": "present"}, headers=headers
    )
    assert bad.status_code == 422 and "present" in bad.json()["detail"]
    wrong = client.post(
        f"/api/appointments/{KEVIN_0800}/attendance", json={"action": "here"}, headers=headers
    )
    assert wrong.status_code == 400 and "action" in wrong.text
    missing = client.post("/api/appointments/a99999/check-in", headers=headers)
    assert missing.status_code == 404
    too_long = client.post(
        f"/api/appointments/{CYNTHIA_1400}/delay", json={"minutes": 0}, headers=headers
    )
    assert too_long.status_code == 422 and too_long.json()["detail"].startswith("minutes:")
    assert events(demo_db) == before and status(demo_db, KEVIN_0800) == "booked"
    ok = client.post(
        f"/api/appointments/{KEVIN_0800}/status",
        json={"status": "no_show", "reason": "no call"},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["status"] == "no_show"


def test_the_unmarked_list_by_role(client: TestClient, demo_db: Database) -> None:
    desk = client.get("/api/attendance/unmarked?day=2026-11-30", headers=token(demo_db, FRONT_DESK))
    assert desk.status_code == 200, desk.text
    ids = [a["id"] for a in desk.json()["appointments"]]
    assert KEVIN_0800 in ids and "a00305" in ids
    assert all("session_type" not in a for a in desk.json()["appointments"])
    one = client.get("/api/attendance/unmarked?staff=c006", headers=token(demo_db, DIRECTOR))
    assert [a["id"] for a in one.json()["appointments"]][:1] == ["a00305"]
    assert {tuple(a["staff"]) for a in one.json()["appointments"]} == {("c006",)}
    mine = client.get("/api/attendance/unmarked", headers=token(demo_db, THERAPIST))
    assert mine.json()["staff"] == THERAPIST
    assert {tuple(a["staff"]) for a in mine.json()["appointments"]} == {(THERAPIST,)}
    other = client.get("/api/attendance/unmarked?staff=c006", headers=token(demo_db, THERAPIST))
    assert other.status_code == 403
    bad = client.get("/api/attendance/unmarked?day=30/11", headers=token(demo_db, DIRECTOR))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("day:")


def test_a_whole_day_is_previewed_then_written(client: TestClient, demo_db: Database) -> None:
    headers = token(demo_db, THERAPIST)
    body: dict[str, Any] = {"staff": THERAPIST, "day": "2026-11-30"}
    preview = client.post("/api/attendance/day", json=body, headers=headers)
    assert preview.status_code == 200, preview.text
    marks = [m["id"] for m in preview.json()["marks"]]
    assert preview.json()["written"] is False and KEVIN_0800 in marks
    assert status(demo_db, KEVIN_0800) == "booked"
    refused = client.post(
        "/api/attendance/day", json={**body, "confirm": True}, headers=token(demo_db, "c003")
    )
    assert refused.status_code == 403 and status(demo_db, KEVIN_0800) == "booked"
    agreed = {**body, "confirm": True, "appointments": marks}
    done = client.post("/api/attendance/day", json=agreed, headers=headers)
    assert done.status_code == 200 and done.json()["written"] is True
    assert {status(demo_db, m) for m in marks} == {"attended"}
    again = client.post("/api/attendance/day", json={**body, "confirm": True}, headers=headers)
    assert again.status_code == 422 and "nothing to mark" in again.json()["detail"]


def test_a_late_patient_knock_on_is_shown_then_applied(
    client: TestClient, demo_db: Database
) -> None:
    headers = token(demo_db, FRONT_DESK)
    url = f"/api/appointments/{CYNTHIA_1400}/delay"
    before = events(demo_db)
    shown = client.post(url, json={"minutes": 10}, headers=headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["runs"] == {
        "start": "2026-11-30T14:10:00-05:00",
        "end": "2026-11-30T14:55:00-05:00",
    }
    [effect] = body["effects"]
    assert effect["appointment"]["id"] == ERNEST_1500 and effect["shares"] == ["ind-1"]
    assert (effect["gap_before"], effect["gap_after"]) == (15, 5)
    ways = {w["way"]: w for w in body["ways"]}
    assert ways["shorten"]["moves"] == [] and ways["push"]["fits"] is True
    assert [m["start"][11:16] for m in ways["push"]["moves"]] == ["14:00", "15:15", "16:15"]
    assert events(demo_db) == before, "nothing is written before a way is chosen"
    applied = client.post(url, json={"minutes": 10, "way": "push"}, headers=headers)
    assert applied.status_code == 200, applied.text
    moved = {a["id"]: a for a in applied.json()["appointments"]}
    assert moved[CYNTHIA_1400]["end"] == "2026-11-30T14:55-05:00"
    assert moved[ERNEST_1500]["start"] == "2026-11-30T15:15-05:00"


def test_a_push_the_therapist_may_not_make_is_proposed_and_the_front_desk_applies_it(
    client: TestClient, demo_db: Database
) -> None:
    url = f"/api/appointments/{CYNTHIA_1400}/delay"
    mine = token(demo_db, THERAPIST)
    shown = client.post(url, json={"minutes": 20, "kind": "over"}, headers=mine).json()
    [push] = [w for w in shown["ways"] if w["way"] == "push"]
    assert push["fits"] and push["not_yours"], push
    both = client.post(
        url, json={"minutes": 20, "kind": "over", "way": "push", "propose": True}, headers=mine
    )
    assert both.status_code == 422 and both.json()["errors"][0].startswith("$.propose:")
    proposed = client.post(url, json={"minutes": 20, "kind": "over", "propose": True}, headers=mine)
    assert proposed.status_code == 200, proposed.text
    proposal = proposed.json()["proposal"]
    assert proposal["kind"] == "knock_on" and proposal["affected"] == 2
    assert [m["after"]["start"][11:16] for m in proposal["moves"]] == ["19:00", "20:15", "21:15"]
    assert status(demo_db, ERNEST_1500) == "booked"
    with demo_db.read() as session:
        assert session.get(Appointment, ERNEST_1500).start.hour == 20  # type: ignore[union-attr]
    apply = f"/api/proposals/{proposal['id']}/apply"
    assert client.post(apply, headers=mine).status_code == 403
    done = client.post(apply, headers=token(demo_db, FRONT_DESK))
    assert done.status_code == 200, done.text
    assert done.json()["moved"] == 3
    with demo_db.read() as session:
        assert session.get(Appointment, ERNEST_1500).start.hour == 20  # type: ignore[union-attr]
        assert session.get(Appointment, ERNEST_1500).start.minute == 15  # type: ignore[union-attr]
    again = client.post(apply, headers=token(demo_db, DIRECTOR))
    assert again.status_code == 422 and "already applied" in again.json()["detail"]


def test_a_group_members_outcome_names_the_patient(
    client: TestClient, demo_db: Database, set_now: Any
) -> None:
    # Brian Romero's 15:30 group (eight members); at 16:00 it has started.
    set_now(datetime(2026, 11, 30, 16, 0, tzinfo=ZoneInfo("America/New_York")))
    url, me = "/api/appointments/a00012/attendance", token(demo_db, THERAPIST)
    other, desk = token(demo_db, OTHER_THERAPIST), token(demo_db, FRONT_DESK)
    before = events(demo_db)
    missing = client.post(url, json={"action": "no_show"}, headers=me)
    assert missing.status_code == 422 and missing.json()["errors"][0].startswith(
        "patient: required"
    )
    stranger = client.post(url, json={"action": "no_show", "patient": "p0001"}, headers=me)
    assert stranger.status_code == 422 and "patient: 'p0001' is not in appointment" in stranger.text
    refused = client.post(
        url,
        json={"action": "no_show", "patient": "p0017"},
        headers=other,
    )
    assert refused.status_code == 403 and "only for sessions they hold" in refused.text
    assert events(demo_db) == before
    done = client.post(url, json={"action": "no_show", "patient": "p0022"}, headers=me)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "booked" and body["outcomes"] == {"p0022": "no_show"}
    front = client.post(url, json={"action": "no_show", "patient": "p0017"}, headers=desk)
    assert front.status_code == 200, front.text
    assert front.json()["outcomes"] == {"p0022": "no_show", "p0017": "no_show"}
    assert "session_type" not in front.json(), "the desk sees who, never what"
    assert status(demo_db, "a00012") == "booked"
