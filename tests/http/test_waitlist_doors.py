"""The waitlist through its doors: /api/waitlist, `rota waitlist …` and the conversation ("put
Robert Long on the waitlist for a Tuesday afternoon with Amanda Diaz", "who is on the
waitlist", "accept offer N"). Demo 's' facility, Mon 30 Nov 2026 08:30 New York; the freed
time is Amanda Diaz's Tue 1 Dec 13:00 (appointment a00214, cancelled)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from litestar.testing import TestClient

from assistant import callers
from assistant.dialogue import Dialogue
from assistant.usecases import appointments
from clinic.db import Database
from clinic.tokens import create_token
from integrations.cli.main import run
from integrations.http.app import create_app
from tests.http.test_chat import NOW, Person

DIRECTOR, CASE_MANAGER, THERAPIST = "s001", "s006", "c004"


@pytest.fixture()
def client(demo_db: Database, set_now: Callable[[datetime], None]) -> Iterator[TestClient]:
    set_now(NOW)
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


def headers(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def cancel_the_slot(db: Database) -> None:
    appointments.cancel(
        db,
        callers.for_staff(db, DIRECTOR),
        appointments.Cancel("a00214", "patient in hospital", override_reason="in hospital"),
    )


def test_the_rest_door_adds_lists_accepts_once_and_withdraws(
    client: TestClient, demo_db: Database
) -> None:
    manager = headers(demo_db, CASE_MANAGER)
    wish = {"session_type": "individual", "days": ["tue"], "time_from": "12:00"}
    for patient in ("p0041", "p0034"):
        added = client.post("/api/waitlist", json={"patient": patient, **wish}, headers=manager)
        assert added.status_code == 201, added.text
        assert added.json()["status"] == "waiting" and added.json()["days"] == ["tue"]
    bad = client.post(
        "/api/waitlist",
        json={"patient": "p0016", "session_type": "individual", "days": ["someday"],
              "time_from": "14:00", "time_until": "09:00"},
        headers=manager,
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        "$.days: 'someday' is not a weekday (mon ... sun)",
        "$.time_until: must be after time_from",
    ]
    again = client.post("/api/waitlist", json={"patient": "p0041", **wish}, headers=manager)
    assert again.status_code == 409 and "already on the waitlist" in again.text
    listed = client.get("/api/waitlist", headers=manager).json()
    assert [e["patient"] for e in listed] == ["p0041", "p0034"]
    assert client.get("/api/waitlist").status_code == 401

    cancel_the_slot(demo_db)
    offers = client.get("/api/waitlist/offers", headers=manager).json()
    assert {o["patient"] for o in offers} == {"p0041", "p0034"}
    assert all(o["reasons"] and o["start"].startswith("2026-12-01T18:00") for o in offers)
    therapist = headers(demo_db, THERAPIST)  # neither patient is on Brian Romero's caseload
    refused = client.post(f"/api/waitlist/offers/{offers[0]['id']}/accept", headers=therapist)
    assert refused.status_code == 403
    first = client.post(f"/api/waitlist/offers/{offers[0]['id']}/accept", headers=manager)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted" and first.json()["appointment"]
    second = client.post(f"/api/waitlist/offers/{offers[1]['id']}/accept", headers=manager)
    assert second.status_code == 409 and "that time was just taken" in second.text
    entries = client.get("/api/waitlist", headers=manager, params={"status": "waiting"}).json()
    [waiting] = entries
    assert waiting["patient"] == offers[1]["patient"]
    gone = client.delete(f"/api/waitlist/{waiting['id']}", headers=manager)
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    assert client.get("/api/waitlist", headers=manager).json() == []
    assert client.delete("/api/waitlist/999", headers=manager).status_code == 404


def test_the_command_line_adds_lists_offers_and_accepts(
    demo_db: Database,
    set_now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_now(NOW)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    assert run(["waitlist", "add", "p0041", "--days", "tue,thu", "--from", "12:00"]) == 0
    assert "p0041 waits for individual" in capsys.readouterr().out
    assert run(["waitlist", "add", "p0041", "--days", "tue"]) == 5
    assert "already on the waitlist" in capsys.readouterr().err
    assert run(["waitlist", "list"]) == 0
    assert "p0041 individual tue,thu 12:00 [waiting]" in capsys.readouterr().out
    cancel_the_slot(demo_db)
    assert run(["waitlist", "offers", "--json"]) == 0
    [offer] = json.loads(capsys.readouterr().out)
    assert offer["patient"] == "p0041" and offer["rank"] == 1
    assert run(["waitlist", "offers"]) == 0
    assert "Tue 01 Dec 13:00 with c003 [open, case_manager] rank 1" in capsys.readouterr().out
    assert run(["waitlist", "accept", str(offer["id"])]) == 0
    assert "Booked p0041 on Tue 01 Dec 13:00" in capsys.readouterr().out
    assert run(["waitlist", "list", "--status", "booked"]) == 0
    assert "[booked]" in capsys.readouterr().out
    assert run(["waitlist", "withdraw", "1"]) == 2  # booked: nothing to withdraw
    assert "only a waiting entry can be withdrawn" in capsys.readouterr().err


def test_the_conversation_puts_a_patient_on_the_list_and_accepts_an_offer(
    client: TestClient, demo_db: Database
) -> None:
    manager = Person(client, demo_db, CASE_MANAGER)
    added = manager.says("put Robert Long on the waitlist for a Tuesday afternoon with Amanda Diaz")
    assert added["frame"]["action"] == "waitlist_add"
    assert added["frame"]["waitlist"]["days"] == ["tue"]
    assert "Robert Long is on the waitlist for individual" in added["reply"]
    assert "with Amanda Diaz, on Tuesdays, 12:00-17:00" in added["reply"]
    listed = manager.says("who is on the waitlist")
    assert listed["frame"]["action"] == "waitlist_list"
    assert "1 on the waitlist" in listed["reply"] and "- Robert Long:" in listed["reply"]
    cancel_the_slot(demo_db)
    [offer] = client.get("/api/waitlist/offers", headers=manager.headers).json()
    booked = manager.says(f"accept offer {offer['id']}")
    assert "Booked Robert Long with Amanda Diaz on Tue 01 Dec at 13:00" in booked["reply"]
    again = manager.says(f"accept offer {offer['id']}")  # the same answer twice: booked once
    assert "Booked Robert Long" in again["reply"]
