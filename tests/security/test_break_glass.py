"""Emergency access ("break the glass", issue 19 item 3): a clinician opens a patient outside
their caseload after giving a reason, at every door; the access is allowed, written to the audit
log as patient.break_glass (actor, patient, reason, door) and listed for the clinical director
in the next morning report. No reason, or a one-word one, is refused; front desk and intake
(no clinical role) cannot break the glass."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import break_glass, callers, morning_report
from assistant.jobs import morning as morning_job
from assistant.usecases import morning, patients
from clinic.db import Database
from clinic.models import AuditEvent
from clinic.outbox_models import OutboxMessage
from clinic.timeutil import now_utc
from integrations.cli.main import run
from rules import permissions
from tests.security.conftest import (
    CASE_MANAGER,
    CLINICAL_DIRECTOR,
    FRONT_DESK,
    INTAKE,
    OTHERS_NAME,
    OTHERS_PATIENT,
    REASON,
    THERAPIST,
    bearer,
    chat,
)
from tests.slack.conftest import Slack
from tests.web.test_approvals import Client

OPEN = f"open {OTHERS_NAME} — reason: {REASON}"


@dataclass(frozen=True)
class Opened:
    actor: str
    entity_id: str | None
    reason: str | None
    after: dict[str, Any] | None


def emergencies(db: Database) -> list[Opened]:
    """The patient.break_glass events in the audit log, oldest first."""
    with db.read() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == break_glass.EVENT)
            .order_by(AuditEvent.seq)
        )
        return [Opened(e.actor, e.entity_id, e.reason, e.after) for e in rows]


def test_a_reason_opens_the_record_over_http_and_it_is_logged_once(
    client: TestClient, demo_db: Database
) -> None:
    headers = bearer(demo_db, THERAPIST)
    opened = client.get(
        f"/api/patients/{OTHERS_PATIENT}", params={"reason": REASON}, headers=headers
    )
    assert opened.status_code == 200, opened.text
    record = opened.json()["patient"]
    assert record["name"] == OTHERS_NAME and "level_of_care" in record  # the clinical record
    [event] = emergencies(demo_db)
    assert (event.actor, event.entity_id, event.reason) == (THERAPIST, OTHERS_PATIENT, REASON)
    assert event.after is not None and event.after["door"] == "http"
    assert "own caseload" in event.after["refused"]
    # The header works too, and the agenda shows this patient alone (not a group's others).
    agenda = client.get(
        f"/api/patients/{OTHERS_PATIENT}/agenda",
        params={"from": "2026-11-23", "to": "2026-12-21"},
        headers=headers | {"X-Rota-Reason": REASON},
    )
    assert agenda.status_code == 200, agenda.text
    rows = agenda.json()["appointments"]
    assert rows and all(r["patients"] == [OTHERS_PATIENT] for r in rows if "patients" in r)
    assert len(emergencies(demo_db)) == 2


@pytest.mark.parametrize("reason", ["crisis", "   ", "urgent!!!!!!", "a b c d e f"])
def test_no_reason_or_a_one_word_reason_is_refused(
    client: TestClient, demo_db: Database, reason: str
) -> None:
    response = client.get(
        f"/api/patients/{OTHERS_PATIENT}",
        params={"reason": reason},
        headers=bearer(demo_db, THERAPIST),
    )
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert "own caseload" in detail or "at least 2 words" in detail, detail
    assert OTHERS_NAME not in response.text
    assert emergencies(demo_db) == []


def test_front_desk_and_intake_cannot_break_the_glass(
    client: TestClient, demo_db: Database
) -> None:
    for role in ("front_desk", "intake_coordinator", "auditor", "intern"):
        assert not permissions.may(role, break_glass.ACTION).allowed, role
    assert permissions.may("therapist", break_glass.ACTION).allowed
    for staff in (FRONT_DESK, INTAKE):
        reply = chat(client, demo_db, staff, OPEN)
        assert "can't do that" in reply and "in an emergency" in reply, reply
        assert "Emergency access:" not in reply
    assert emergencies(demo_db) == []


def test_chat_opens_with_a_reason_and_refuses_a_one_word_one(
    client: TestClient, demo_db: Database
) -> None:
    short = chat(client, demo_db, THERAPIST, f"open {OTHERS_NAME} — reason: urgent")
    assert "can't do that" in short and "at least 2 words" in short
    assert emergencies(demo_db) == []
    reply = chat(client, demo_db, THERAPIST, OPEN)
    assert reply.startswith(f"Emergency access: you opened {OTHERS_NAME}"), reply
    assert f"{OTHERS_NAME}'s schedule" in reply and "morning report" in reply
    [event] = emergencies(demo_db)
    assert event.after is not None and event.after["door"] == "chat" and event.reason == REASON


def test_slack_opens_with_a_reason_through_the_bolt_route(slack: Slack) -> None:
    slack.dm(THERAPIST, OPEN)
    slack.wait()
    answer = slack.dm_to(THERAPIST)[-1].texts()
    assert "Emergency access: you opened" in answer and OTHERS_NAME in answer
    [event] = emergencies(slack.db)
    assert event.after is not None and event.after["door"] == "slack"
    assert (event.actor, event.entity_id) == (THERAPIST, OTHERS_PATIENT)


def test_the_web_page_asks_for_a_reason_and_opens_with_one(
    signed_in_client: Client, demo_db: Database
) -> None:
    web = signed_in_client(THERAPIST)
    form = web.get(f"/patients/{OTHERS_PATIENT}")
    assert form.status_code == 403 and 'name="reason"' in form.text
    assert f'action="/patients/{OTHERS_PATIENT}"' in form.text
    refused = web.post(f"/patients/{OTHERS_PATIENT}", data={"reason": "help"})
    assert refused.status_code == 403 and OTHERS_NAME not in refused.text
    opened = web.post(f"/patients/{OTHERS_PATIENT}", data={"reason": REASON})
    assert opened.status_code == 200, opened.text
    assert OTHERS_NAME in opened.text and "Level of care" in opened.text
    [event] = emergencies(demo_db)  # the record and the agenda: one opening, one event
    assert event.after is not None and event.after["door"] == "web"
    # Front desk is never shown the form (they see names and times anyway, nothing clinical).
    desk = signed_in_client(FRONT_DESK).get(f"/patients/{OTHERS_PATIENT}")
    assert desk.status_code == 200 and 'name="reason"' not in desk.text


def test_the_command_line_opens_with_reason(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    args = ["patient", "show", OTHERS_PATIENT, "--actor", THERAPIST]
    assert run([*args, "--reason", "urgent"]) != 0
    assert "at least 2 words" in capsys.readouterr().err
    assert run([*args, "--reason", REASON]) == 0
    assert OTHERS_NAME in capsys.readouterr().out
    [event] = emergencies(demo_db)
    assert event.after is not None and event.after["door"] == "cli"


def _open_as_therapist(db: Database) -> None:
    therapist = callers.for_staff(db, THERAPIST)
    emergency = break_glass.of(REASON, "http")
    patients.show(db, therapist, patients.Show(OTHERS_PATIENT, emergency))


def test_the_next_morning_report_flags_it_to_the_clinical_director_only(
    demo_db: Database,
) -> None:
    _open_as_therapist(demo_db)
    tomorrow = now_utc() + timedelta(days=1)
    director = callers.for_staff(demo_db, CLINICAL_DIRECTOR)
    report = morning.report(demo_db, director, morning.MorningReport(tomorrow, plan=False))
    section = report["sections"]["emergency_access"]
    assert section["count"] == 1
    [row] = section["rows"]
    assert (row["actor"], row["patient"], row["reason"], row["door"]) == (
        THERAPIST,
        OTHERS_PATIENT,
        REASON,
        "http",
    )
    words = morning_report.text(report, report["names"])
    assert "Emergency access since yesterday: 1" in words
    assert f"Brian Romero opened {OTHERS_NAME} ({OTHERS_PATIENT})" in words and REASON in words
    # A case manager reads the morning report but not the audit log: no such section.
    manager = callers.for_staff(demo_db, CASE_MANAGER)
    theirs = morning.report(demo_db, manager, morning.MorningReport(tomorrow, plan=False))
    assert "emergency_access" not in theirs["sections"]


def test_the_morning_job_sends_it_in_the_directors_report_not_in_agendas(
    demo_db: Database,
) -> None:
    _open_as_therapist(demo_db)
    done = morning_job.run(demo_db, now_utc(), morning_job.Settings(seconds=1.0, days=0))
    assert done["counts"]["emergency_access"] == 1
    with demo_db.read() as session:
        owed = session.scalars(select(OutboxMessage)).all()
        reports = [json.dumps(m.context) for m in owed if m.template == "morning_report"]
        agendas = [json.dumps(m.context) for m in owed if m.template == "morning_agenda"]
    assert reports and all("Emergency access since yesterday: 1" in r for r in reports)
    assert all(REASON not in a for a in agendas)
