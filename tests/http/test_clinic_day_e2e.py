"""A clinic's day for one new patient, through the HTTP doors only (demo 's', Mon 30 Nov 2026):
the intake coordinator admits Maria Lopez with a Medicaid authorization and a court order, finds
and books her assessment in chat, the front desk checks her in, her therapist marks it attended,
a court-required session is booked and attended over REST, the units left and the court report
follow, and her discharge cancels what is left and says who must be told."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from assistant.dialogue import Dialogue
from clinic.db import Database
from integrations.http.app import create_app
from tests.http.test_api import token
from tests.http.test_chat import Person

NY = ZoneInfo("America/New_York")
DIRECTOR, INTAKE, CASE_MANAGER, THERAPIST, FRONT_DESK = "s001", "s002", "s006", "c007", "s004"

MARIA: dict[str, Any] = {
    "name": "Maria Lopez",
    "level_of_care": "1.0",
    "primary_clinician": THERAPIST,
    "contact": {
        "channel": "sms",
        "phone": "+15550100",
        "consents": [{"recipient": "court", "information": "attendance", "until": "2027-06-30"}],
    },
    "authorizations": [
        {
            "payer": "Medicaid",
            "session_types": ["intake_assessment", "individual"],
            "units": 24,
            "start": "2026-11-30",
            "end": "2027-01-31",
        }
    ],
    "court_order": {
        "case_number": "DC-2026-0117",
        "court": "County Drug Court",
        "start": "2026-11-01",
        "end": "2027-05-31",
        "requirements": [{"session_type": "individual", "per_week": 1}],
        "liaison": CASE_MANAGER,
        "report_to": "court",
    },
}


class Clock:
    """One clock for the dialogue and the booking service's "has it started?"."""

    def __init__(self, set_now: Callable[[datetime], None]) -> None:
        self.set_now = set_now
        self.now = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
        set_now(self.now)

    def to(self, hour: int, minute: int = 0) -> None:
        self.now = self.now.replace(hour=hour, minute=minute)
        self.set_now(self.now)


@pytest.fixture()
def clock(set_now: Callable[[datetime], None]) -> Clock:
    return Clock(set_now)


@pytest.fixture()
def client(demo_db: Database, clock: Clock) -> Iterator[TestClient]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: clock.now))
    with TestClient(app) as test_client:
        yield test_client


def units(client: TestClient, pid: str, headers: dict[str, str]) -> dict[str, int]:
    shown = client.get(f"/api/patients/{pid}", headers=headers)
    assert shown.status_code == 200, shown.text
    [auth] = shown.json()["authorizations"]
    return {key: auth[key] for key in ("used", "booked", "left")}


def attended_in_court_report(client: TestClient, pid: str, headers: dict[str, str]) -> int:
    report = client.get(f"/api/patients/{pid}/court-report", headers=headers)
    assert report.status_code == 200, report.text
    return sum(1 for s in report.json()["sessions"] if s["status"] == "attended")


def test_admit_book_check_in_attend_report_and_discharge(
    client: TestClient, demo_db: Database, clock: Clock
) -> None:
    intake, director = token(demo_db, INTAKE), token(demo_db, DIRECTOR)
    admitted = client.post("/api/patients", json=MARIA, headers=intake)
    assert admitted.status_code == 201, admitted.text
    pid = admitted.json()["id"]
    assert units(client, pid, director) == {"used": 0, "booked": 0, "left": 24}

    # The assessment, found and booked in conversation by the intake coordinator.
    coordinator = Person(client, demo_db, INTAKE)
    offered = coordinator.says("find an intake assessment for Maria Lopez today")
    assert offered["options"], offered["reply"]
    first = offered["options"][0]
    assert coordinator.says("book option 1")["reply"].startswith("Booked:")
    assert units(client, pid, director) == {"used": 0, "booked": 1, "left": 23}
    assessment = client.get(f"/api/patients/{pid}/agenda", headers=director).json()
    start = datetime.fromisoformat(first["start"])
    [booked] = [
        a for a in assessment["appointments"] if datetime.fromisoformat(a["start"]) == start
    ]

    # She arrives: the front desk checks her in; her assessor marks it attended.
    clock.to(start.hour, start.minute)
    desk = Person(client, demo_db, FRONT_DESK)
    checked = desk.says("Maria Lopez checked in")
    assert checked["reply"].startswith("Checked in Maria Lopez"), checked["reply"]
    assessor = booked["staff"][0]
    clock.to(start.hour + 1, start.minute)
    marked = client.post(
        f"/api/appointments/{booked['id']}/attendance",
        json={"action": "attended"},
        headers=token(demo_db, assessor),
    )
    assert marked.status_code == 200, marked.text
    assert units(client, pid, director) == {"used": 1, "booked": 0, "left": 23}

    # The court-required individual session: found and booked in chat by her therapist the
    # next day, checked in and marked attended over REST.
    reported_before = attended_in_court_report(client, pid, director)
    therapist_chat = Person(client, demo_db, THERAPIST)
    offered = therapist_chat.says("find an individual session for Maria Lopez tomorrow")
    assert offered["options"], offered["reply"]
    chosen = offered["options"][0]
    assert therapist_chat.says("book option 1")["reply"].startswith("Booked:")
    start = datetime.fromisoformat(chosen["start"])
    agenda = client.get(
        f"/api/patients/{pid}/agenda?from=2026-11-30&to=2026-12-07", headers=director
    ).json()
    [session] = [a for a in agenda["appointments"] if datetime.fromisoformat(a["start"]) == start]
    clock.now = start.astimezone(NY)
    clock.to(start.hour + 1, start.minute)
    holder = token(demo_db, chosen["staff"][0])
    for step, body in (("/check-in", None), ("/attendance", {"action": "attended"})):
        done = client.post(f"/api/appointments/{session['id']}{step}", json=body, headers=holder)
        assert done.status_code == 200, done.text
    assert units(client, pid, director) == {"used": 2, "booked": 0, "left": 22}
    assert attended_in_court_report(client, pid, director) == reported_before + 1

    # Next week's session, then discharge: it is cancelled and the reply says who must know.
    assert therapist_chat.says("find an individual session for Maria Lopez next week")["options"]
    assert therapist_chat.says("book option 1")["reply"].startswith("Booked:")
    assert units(client, pid, director) == {"used": 2, "booked": 1, "left": 21}
    refused = client.post(
        f"/api/patients/{pid}/discharge",
        json={"reason": "moved out of state"},
        headers=token(demo_db, THERAPIST),
    )
    # The court-required session may be cancelled only with the court liaison's override.
    assert refused.status_code == 422, refused.text
    assert "CRT-REQUIRED-CANCEL" in [r["id"] for r in refused.json()["rules"]]
    assert units(client, pid, director) == {"used": 2, "booked": 1, "left": 21}
    discharged = client.post(
        f"/api/patients/{pid}/discharge",
        json={"reason": "moved out of state", "override_reason": "court told of the transfer"},
        headers=token(demo_db, CASE_MANAGER),
    )
    assert discharged.status_code == 200, discharged.text
    outcome = discharged.json()
    assert len(outcome["cancelled"]) == 1, outcome
    assert outcome["notify"], outcome
    assert units(client, pid, director) == {"used": 2, "booked": 0, "left": 22}
