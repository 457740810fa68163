"""The same walk-in reported twice is not admitted twice: over HTTP a 409 problem names the
patient in care (unless the body says `"duplicate_ok": true`), in chat the walk-in is asked
about ('same' or 'new'), and a walk-in's authorization said in words is recorded."""

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
from clinic.models import AuditEvent, Authorization, Patient
from integrations.http.app import create_app
from tests.http.test_api import token
from tests.http.test_chat import NOW, Person
from tests.http.test_emergency_admission import INTAKE, small_clinic

WALK_IN = (
    "walk-in: new patient maria lopez needs to be seen asap, Medicaid, 24 units through Jan 31"
)


@pytest.fixture()
def clinic(db: Database, set_now: Callable[[datetime], None]) -> Database:
    set_now(NOW)  # the admission's audit time: "admitted today at 08:30"
    load_facility(db, small_clinic())
    return db


@pytest.fixture()
def client(clinic: Database) -> Iterator[TestClient]:
    app = create_app(clinic, dialogue=Dialogue(clinic, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


def marias(db: Database) -> list[str]:
    with db.read() as session:
        query = select(Patient.id).where(func.lower(Patient.name) == "maria lopez")
        return list(session.scalars(query))


def written(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_admitting_the_same_person_twice_over_http_is_a_409_naming_them(
    client: TestClient, clinic: Database
) -> None:
    intake = token(clinic, INTAKE)
    maria: dict[str, Any] = {"name": "Maria Lopez", "dob": "1988-04-02"}
    first = client.post("/api/patients", json=maria, headers=intake)
    assert first.status_code == 201, first.text
    pid = first.json()["id"]
    before = written(clinic)
    again = client.post(
        "/api/patients", json={"name": "maria LOPEZ", "dob": "1988-04-02"}, headers=intake
    )
    assert again.status_code == 409, again.text
    problem = again.json()
    assert problem["existing"]["id"] == pid and pid in problem["detail"]
    assert problem["existing"]["admitted_at"] == "2026-11-30T08:30-05:00"
    assert "duplicate_ok" in problem["detail"]
    assert written(clinic) == before and len(marias(clinic)) == 1, "nothing is written"
    # Another date of birth is another person; the same phone is the same person.
    other = client.post(
        "/api/patients", json={"name": "Maria Lopez", "dob": "1990-01-01"}, headers=intake
    )
    assert other.status_code == 201, other.text
    phoned = {"name": "Ada Stone", "contact": {"phone": "(555) 010-0100"}}
    assert (
        client.post("/api/patients", json={**phoned, "name": "Ana L"}, headers=intake).status_code
        == 201
    )
    by_phone = client.post(
        "/api/patients",
        json={"name": "Ana Lopez", "contact": {"phone": "555.010.0100"}},
        headers=intake,
    )
    assert by_phone.status_code == 409 and by_phone.json()["existing"]["matched_on"] == "phone"
    # Saying so admits another person; a bad flag names the field.
    bad = client.post("/api/patients", json={**maria, "duplicate_ok": "yes"}, headers=intake)
    assert bad.status_code == 422 and bad.json()["errors"] == [
        "$.duplicate_ok: expected true or false"
    ]
    anyway = client.post("/api/patients", json={**maria, "duplicate_ok": True}, headers=intake)
    assert anyway.status_code == 201, anyway.text
    assert "duplicate_ok" not in anyway.json()
    assert len(marias(clinic)) == 3


def test_a_walk_in_reported_twice_in_chat_is_asked_about_not_admitted_twice(
    client: TestClient, clinic: Database
) -> None:
    first = Person(client, clinic, INTAKE).says(WALK_IN)
    reply = first["reply"]
    assert reply.startswith("Admitted Maria Lopez as a new patient"), reply
    assert "Recorded the authorization Medicaid: 24 units" in reply and "to Jan 31" in reply
    # "through Jan 31" is the authorization's end, not the day to see them: today's options
    assert "I found no slot" not in reply and "Mon 30 Nov 12:45" in reply, reply
    # a new patient has no clinician and no preferences yet: no option claims either
    assert "their own clinician" not in reply and "fits their preferences" not in reply
    [maria] = marias(clinic)
    with clinic.read() as session:
        [auth] = session.scalars(select(Authorization).where(Authorization.patient_id == maria))
        assert (auth.payer, auth.units, auth.end.isoformat()) == ("Medicaid", 24, "2027-01-31")

    # The same walk-in, reported again by someone else: asked, nothing written.
    desk = Person(client, clinic, INTAKE)
    before = written(clinic)
    asked = desk.says("new patient Maria Lopez just walked in")["reply"]
    assert asked == (
        f"Is this the Maria Lopez admitted today at 08:30 ({maria})? Reply 'same' to use "
        "their record or 'new' to admit another."
    )
    assert written(clinic) == before and len(marias(clinic)) == 1
    assert desk.says("yes")["reply"] == asked, "only 'same' or 'new' answers it"
    same = desk.says("same")["reply"]
    assert "Admitted" not in same and "Maria Lopez" in same, same
    assert len(marias(clinic)) == 1, "the request went on with her record"

    # 'new': another person with the same name, said knowingly.
    other = Person(client, clinic, INTAKE)
    other.says("walk-in: new patient maria lopez")
    assert other.says("new")["reply"].startswith("Admitted Maria Lopez as a new patient")
    assert len(marias(clinic)) == 2


def test_admitting_in_chat_names_the_patient_in_care_before_the_yes(
    client: TestClient, clinic: Database
) -> None:
    first = client.post(
        "/api/patients", json={"name": "Maria Lopez"}, headers=token(clinic, INTAKE)
    )
    pid = first.json()["id"]
    chat = Person(client, clinic, INTAKE)
    asked = chat.says("admit Maria Lopez to IOP")["reply"]
    assert f"Maria Lopez ({pid}) is already a patient with the same name" in asked, asked
    assert "this admits another person" in asked and len(marias(clinic)) == 1
    assert chat.says("yes")["reply"].startswith("Admitted Maria Lopez")
    assert len(marias(clinic)) == 2, "said knowingly: another person"
