"""HIPAA §164.312(b): every read of a patient's information, through every door, is in the
access log with who, which door, what, and whether it was allowed; refusals too; the log cannot
be edited; and reading never moves the board's version (reads are not changes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from assistant.dialogue import Dialogue
from assistant.usecases import board, board_details
from clinic import access_log
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import AuditEvent
from clinic.tokens import Caller, create_token
from integrations.http.app import create_app
from integrations.web.session import SESSION_COOKIE
from tests.conftest import pin_clock
from tests.security.conftest import AccessRows
from tests.slack.conftest import Slack
from tests.web.browser import sign_in

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
demo_clock = pin_clock(NOW)

KEVIN, LAURA = "p0002", "p0008"  # Kevin Fowler (c004's caseload), Laura Fox (c007's)
DIRECTOR, CASE_MANAGER, FRONT_DESK, THERAPIST, OUTSIDER = "s001", "s006", "s004", "c004", "c005"
KEVINS_SESSION = "a00025"


@pytest.fixture()
def app(demo_db: Database) -> Litestar:
    return create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))


@pytest.fixture()
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


def bearer(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def seen(rows: list[dict], **want: str) -> list[dict]:
    return [r for r in rows if all(r[k] == v for k, v in want.items())]


def test_an_http_patient_read_is_logged_with_actor_and_door(
    client: TestClient[Litestar], demo_db: Database, audit_access: AccessRows
) -> None:
    assert audit_access(KEVIN) == []
    got = client.get(f"/api/patients/{KEVIN}", headers=bearer(demo_db, THERAPIST))
    assert got.status_code == 200, got.text
    [row] = audit_access(KEVIN)
    assert row["actor"] == THERAPIST and row["role"] == "therapist"
    assert (row["door"], row["action"], row["outcome"]) == ("http", "patient.view", "allowed")
    # The clinical fields shown are named (never their values).
    assert "level_of_care" in row["detail"]["clinical"]


def test_the_web_patient_page_is_logged_as_the_web_door(
    app: Litestar, demo_db: Database, audit_access: AccessRows
) -> None:
    cookie, _ = sign_in(demo_db, THERAPIST)
    browser = TestClient(app)
    browser.cookies.set(SESSION_COOKIE, cookie)
    page = browser.get(f"/patients/{KEVIN}")
    assert page.status_code == 200 and "Kevin Fowler" in page.text
    rows = audit_access(KEVIN)
    assert {(r["actor"], r["door"], r["action"]) for r in rows} == {
        (THERAPIST, "web", "patient.view"),
        (THERAPIST, "web", "schedule.view"),
    }


def test_a_chat_schedule_question_and_a_slot_search_are_logged(
    client: TestClient[Litestar], demo_db: Database, audit_access: AccessRows
) -> None:
    headers = bearer(demo_db, CASE_MANAGER)
    asked = client.post(
        "/api/chat", json={"message": "when is Laura Fox's next appointment?"}, headers=headers
    )
    assert asked.status_code == 200, asked.text
    searched = client.post(
        "/api/chat", json={"message": "find a slot for Laura Fox tomorrow"}, headers=headers
    )
    assert searched.status_code == 200 and searched.json()["options"], searched.text
    rows = audit_access(LAURA)
    assert seen(rows, actor=CASE_MANAGER, door="http", action="schedule.view")
    assert seen(rows, actor=CASE_MANAGER, door="http", action="slots.search")


def test_a_fhir_appointment_read_and_search_are_logged_as_fhir(
    client: TestClient[Litestar], demo_db: Database, audit_access: AccessRows
) -> None:
    headers = {**bearer(demo_db, DIRECTOR), "Accept": "application/fhir+json"}
    read = client.get(f"/fhir/r4/Appointment/{KEVINS_SESSION}", headers=headers)
    assert read.status_code == 200, read.text
    search = client.get(
        "/fhir/r4/Appointment",
        params={"patient": f"Patient/{KEVIN}", "date": "2026-11-17"},
        headers=headers,
    )
    assert search.status_code == 200, search.text
    rows = seen(audit_access(KEVIN), actor=DIRECTOR, door="fhir", action="fhir.read")
    assert len(rows) == 2
    assert {"appointment": KEVINS_SESSION} in [r["detail"] for r in rows]


def test_refused_reads_are_logged_as_denied_with_the_rule(
    client: TestClient[Litestar], demo_db: Database, audit_access: AccessRows
) -> None:
    headers = bearer(demo_db, OUTSIDER)  # a therapist whose caseload Kevin is not in
    assert client.get(f"/api/patients/{KEVIN}/agenda", headers=headers).status_code == 403
    by_fhir = client.get(
        "/fhir/r4/Appointment",
        params={"patient": f"Patient/{KEVIN}"},
        headers={**headers, "Accept": "application/fhir+json"},
    )
    assert by_fhir.status_code == 403
    rows = audit_access(KEVIN)
    assert rows and all(r["outcome"] == "denied" and r["actor"] == OUTSIDER for r in rows)
    assert {r["door"] for r in rows} == {"http", "fhir"}
    assert all("caseload" in (r["reason"] or "") for r in rows)


def test_a_slack_dm_answer_names_its_reader(slack: Slack, audit_access: AccessRows) -> None:
    slack.dm(FRONT_DESK, "when is Laura Fox's next appointment?")
    slack.wait()
    assert any("Laura Fox" in c.texts() for c in slack.dm_to(FRONT_DESK))
    rows = audit_access(LAURA)
    assert seen(rows, actor=FRONT_DESK, door="slack", action="schedule.view")
    assert seen(rows, actor=FRONT_DESK, door="slack", action="slack.dm")


def test_the_access_log_refuses_updates_and_deletes(any_db: Database) -> None:
    caller = Caller(DIRECTOR, "Director", "clinical_director", door="http")
    access_log.record_reads(any_db, caller, access_log.PATIENT_VIEW, ["p1", "p2"])
    for statement in ("UPDATE access_event SET actor = 'nobody'", "DELETE FROM access_event"):
        with pytest.raises(DBAPIError, match="access_append_only"), any_db.session() as session:
            session.execute(text(statement))
    with any_db.read() as session:
        assert [r.actor for r in access_log.accesses(session, "p1")] == [DIRECTOR]


def test_one_batch_is_one_row_per_read_and_patient(db: Database) -> None:
    caller = Caller("s001", "Director", "clinical_director", door="web")
    with access_log.batch(db):
        access_log.record_reads(db, caller, access_log.SCHEDULE_VIEW, ["p1", "p2", "p1"])
        access_log.record_reads(db, caller, access_log.SCHEDULE_VIEW, ["p2"])
        access_log.record_reads(db, caller, access_log.PATIENT_VIEW, ["p1"])
        with db.read() as session:  # nothing written before the batch ends
            assert access_log.accesses(session, "p1") == []
    with db.read() as session:
        assert [r.action for r in access_log.accesses(session, "p1")] == [
            "schedule.view",
            "patient.view",
        ]
        assert len(access_log.accesses(session, "p2")) == 1


def test_break_the_glass_needs_a_reason_and_keeps_it(db: Database) -> None:
    caller = Caller(OUTSIDER, "Therapist", "therapist", door="web")
    with pytest.raises(InvalidInput, match="reason"):
        access_log.record_break_glass(db, caller, KEVIN, "  ")
    access_log.record_break_glass(db, caller, KEVIN, "patient in crisis at the front desk")
    with db.read() as session:
        rows = [(r.outcome, r.reason) for r in access_log.accesses(session, KEVIN)]
    assert rows == [("break_glass", "patient in crisis at the front desk")]


def test_reading_does_not_move_the_board_version(
    demo_db: Database, audit_access: AccessRows
) -> None:
    director = Caller(DIRECTOR, "Director", "clinical_director", door="web")
    with demo_db.read() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    before = board.board_version(demo_db)
    details = board_details.details(demo_db, director, KEVINS_SESSION)
    assert details.members[0].level_of_care is not None  # clinical detail was shown
    board.day_board(demo_db, director, board.BoardQuery(day=datetime(2026, 11, 17).date()))
    assert board.board_version(demo_db) == before
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert seen(audit_access(KEVIN), actor=DIRECTOR, action="patient.view")
