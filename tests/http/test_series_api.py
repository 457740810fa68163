"""Recurring series through the doors: POST/GET/PATCH/DELETE /api/series, and the web chat
("book Jamie with Dana every Tuesday at 2 pm for 8 weeks", "yes", "cancel this and following").
The small series clinic of tests/assistant/test_series.py; the clock is fixed at Mon 30 Nov
2026 08:30 in New York."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.facility_file import load_facility
from clinic.models import Appointment
from clinic.tokens import create_token
from integrations.http.app import create_app
from tests.assistant.test_series import NOW, NY, TUESDAYS, booked_days, facility
from tests.http.test_chat import Person

SERIES = {
    "patient": "jamie",
    "staff": "dana",
    "session_type": "individual",
    "weekday": "tue",
    "time": "14:00",
    "count": 8,
}


@pytest.fixture()
def loaded(db: Database, set_now: Callable[[datetime], None]) -> Callable[..., Database]:
    set_now(NOW)

    def load(**kwargs: Any) -> Database:
        load_facility(db, facility(**kwargs), actor="test")
        return db

    return load


@pytest.fixture()
def client(db: Database) -> Iterator[TestClient]:
    app = create_app(db, dialogue=Dialogue(db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


def headers(db: Database, staff: str = "casey") -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def appointments(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Appointment)) or 0)


def test_book_show_move_and_cancel_over_http(
    loaded: Callable[..., Database], client: TestClient
) -> None:
    db = loaded()
    auth = headers(db)
    made = client.post("/api/series", json=SERIES, headers=auth)
    assert made.status_code == 201, made.text
    body = made.json()
    sid = body["series"]["id"]
    assert len(body["appointments"]) == 8 and body["failed"] == []
    shown = client.get(f"/api/series/{sid}", headers=auth).json()
    assert [o["occurrence"] for o in shown["occurrences"]] == list(range(1, 9))
    moved = client.patch(
        f"/api/series/{sid}",
        json={"scope": "following", "from_occurrence": 5, "time": "15:00", "reason": "new hours"},
        headers=auth,
    )
    assert moved.status_code == 200, moved.text
    assert len(moved.json()["appointments"]) == 4
    assert all(a["start"].endswith("T15:00-05:00") for a in moved.json()["appointments"])
    one = client.delete(
        f"/api/series/{sid}", params={"scope": "this", "from": 2, "reason": "away"}, headers=auth
    )
    assert one.status_code == 200 and len(one.json()["appointments"]) == 1
    rest = client.delete(f"/api/series/{sid}", params={"reason": "discharged"}, headers=auth)
    assert rest.status_code == 200 and len(rest.json()["appointments"]) == 7
    assert rest.json()["series"]["status"] == "cancelled"
    assert booked_days(db) == []


def test_a_refused_series_is_409_naming_each_week(
    loaded: Callable[..., Database], client: TestClient
) -> None:
    db = loaded(units=6)
    refused = client.post("/api/series", json=SERIES, headers=headers(db))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert [f["occurrence"] for f in problem["failed"]] == [7, 8]
    assert [f["day"] for f in problem["failed"]] == ["2027-01-12", "2027-01-19"]
    assert "2 of 8 week(s) cannot be booked; nothing was changed" in problem["detail"]
    assert "Tue 12 Jan" in problem["detail"] and "AUTH-UNITS" in problem["detail"]
    assert appointments(db) == 0


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"count": 0}, "1 to 52"),
        ({"count": 60}, "1 to 52"),
        ({"weekday": "tuseday"}, "did you mean tuesday"),
        ({"time": "25:00"}, "not a time of day"),
        ({"count": None, "until": "31 Jan"}, "not a date"),
    ],
)
def test_bad_input_is_422_with_a_clear_message(
    loaded: Callable[..., Database], client: TestClient, changes: dict[str, Any], words: str
) -> None:
    db = loaded()
    response = client.post("/api/series", json=SERIES | changes, headers=headers(db))
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert "Traceback" not in response.text and appointments(db) == 0


def test_unknown_series_and_scope_are_told(
    loaded: Callable[..., Database], client: TestClient
) -> None:
    db = loaded()
    auth = headers(db)
    assert client.get("/api/series/ser-nope", headers=auth).status_code == 404
    sid = client.post("/api/series", json=SERIES | {"count": 2}, headers=auth).json()["series"][
        "id"
    ]
    bad = client.delete(f"/api/series/{sid}", params={"scope": "some", "reason": "x"}, headers=auth)
    assert bad.status_code == 422 and "this, following, all" in bad.json()["detail"]


def test_a_series_in_the_web_chat(loaded: Callable[..., Database], client: TestClient) -> None:
    db = loaded(leave="2026-12-15")
    casey = Person(client, db, "casey")
    asked = casey.says("book Jamie with Dana every Tuesday at 2 pm for 8 weeks")
    assert asked["frame"]["repeat"] == {
        "every": "week",
        "weekday": "tue",
        "time": "14:00",
        "count": 8,
        "until": None,
    }
    reply = asked["reply"]
    assert "Tue 01 Dec" in reply and "Tue 19 Jan" in reply  # every date before booking
    assert "1 of them cannot be booked" in reply and "Tue 15 Dec: Dana Reyes" in reply
    assert "annual leave" in reply and appointments(db) == 0
    done = casey.says("yes")
    assert "Booked 7 session(s)" in done["reply"] and "Tue 15 Dec" in done["reply"]
    assert booked_days(db) == [d for d in TUESDAYS if d.day != 15]
    asked = casey.says("cancel Jamie's Tuesday session on Jan 5 and all following")
    assert asked["frame"]["scope"] == "following"
    assert "Cancel 3 session(s)" in asked["reply"] and "Tue 05 Jan" in asked["reply"]
    assert "left it as it was" in casey.says("no")["reply"]
    casey.says("cancel this and following")  # the series this conversation booked: from now
    cancelled = casey.says("yes")
    assert "Cancelled 7 session(s)" in cancelled["reply"]
    assert booked_days(db) == []


def test_weekly_until_and_cancel_all_in_the_chat(
    loaded: Callable[..., Database], client: TestClient
) -> None:
    db = loaded()
    casey = Person(client, db, "casey")
    asked = casey.says("book jamie with dana weekly on thursdays at 10 until Jan 31")
    assert asked["frame"]["repeat"]["until"] == "2027-01-31"
    assert "9 session(s)" in asked["reply"] and "Thu 28 Jan" in asked["reply"]
    assert "Booked 9 session(s)" in casey.says("yes")["reply"]
    days = booked_days(db)
    assert len(days) == 9 and all(d.weekday() == 3 for d in days)
    with db.read() as session:
        hours = {a.start.astimezone(NY).hour for a in session.scalars(select(Appointment))}
        assert hours == {10}
    asked = casey.says("move all of Jamie's Thursday sessions with Dana to 3 pm")
    assert asked["frame"]["scope"] == "all" and "Move 9 session(s)" in asked["reply"]
    moved = casey.says("yes")
    assert "Moved 9 session(s) of the series to 15:00" in moved["reply"]
    assert {n.get("staff") or n.get("patient") for n in moved["notify"]} == {"dana", "jamie"}
    with db.read() as session:
        hours = {a.start.astimezone(NY).hour for a in session.scalars(select(Appointment))}
        assert hours == {15}
    asked = casey.says("cancel all of Jamie's Thursday sessions with Dana")
    assert asked["frame"]["scope"] == "all" and "Cancel 9 session(s)" in asked["reply"]
    assert "Cancelled 9" in casey.says("yes")["reply"]
    assert booked_days(db) == []
