"""Issue 19, done-means: a therapist's token reading ANOTHER therapist's patient is refused at
every door — by id (REST and the web page), by FHIR search, by slot search (the board's dialog
and chat), by chat question and by a Slack DM — with the rule's words (PERM-CASELOAD-READ for a
record or agenda, PERM-CASELOAD for a slot search), never answered with fewer fields. Their own
patient works; the day's schedule still shows others' sessions with time, room and clinician.
"""

from __future__ import annotations

import pytest
from httpx import Response
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import callers
from assistant.usecases import series
from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.models import Appointment, AuditEvent
from integrations.cli.main import run
from tests.security.conftest import (
    OTHER_THERAPIST,
    OTHERS_NAME,
    OTHERS_PATIENT,
    OWN_PATIENT,
    THERAPIST,
    AccessRows,
    bearer,
    chat,
)
from tests.slack.conftest import Slack
from tests.web.test_approvals import Client

RECORD_RULE = "may see a patient's record and agenda only for patients on their own caseload"
FHIR_JSON = {"Accept": "application/fhir+json"}


def refused_for_caseload(response: Response) -> str:
    assert response.status_code == 403, response.text
    text = response.text
    assert OTHERS_NAME not in text and "Traceback" not in text
    return text


def test_rest_by_id_refuses_another_therapists_patient_and_serves_their_own(
    client: TestClient, demo_db: Database
) -> None:
    headers = bearer(demo_db, THERAPIST)
    for path in (
        f"/api/patients/{OTHERS_PATIENT}",
        f"/api/patients/{OTHERS_PATIENT}/agenda",
        f"/api/appointments?patient={OTHERS_PATIENT}&from=2026-11-23&to=2026-12-21",
    ):
        response = client.get(path, headers=headers)
        detail = refused_for_caseload(response)
        assert RECORD_RULE in response.json()["detail"], detail
        assert "break the glass" in response.json()["detail"]
    own = client.get(f"/api/patients/{OWN_PATIENT}", headers=headers)
    assert own.status_code == 200, own.text
    assert own.json()["patient"]["name"] == "Kevin Fowler"
    assert "level_of_care" in own.json()["patient"]  # their own: the clinical record
    with demo_db.read() as session:  # a refusal opens nothing
        assert not session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.break_glass")
        ).all()


def test_the_general_schedule_still_shows_others_sessions_with_minimal_fields(
    client: TestClient, demo_db: Database
) -> None:
    rows = client.get(
        "/api/appointments",
        params={"from": "2026-11-30T00:00", "to": "2026-12-01T00:00"},
        headers=bearer(demo_db, THERAPIST),
    ).json()["appointments"]
    others = [r for r in rows if THERAPIST not in r["staff"]]
    assert others, "a clinic day has other clinicians' sessions"
    assert all({"start", "room", "staff"} <= set(r) for r in others)
    hidden = ("patients", "outcomes", "session_type", "group", "note", "no_show_risk")
    assert not any(key in r for r in others for key in hidden), others[0]


def test_fhir_search_by_patient_is_refused_and_a_read_names_no_patient(
    client: TestClient, demo_db: Database
) -> None:
    headers = bearer(demo_db, THERAPIST) | FHIR_JSON
    search = client.get(
        "/fhir/r4/Appointment", params={"patient": f"Patient/{OTHERS_PATIENT}"}, headers=headers
    )
    refused_for_caseload(search)
    outcome = search.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert RECORD_RULE in outcome["issue"][0]["details"]["text"]
    own = client.get(
        "/fhir/r4/Appointment",
        params={"patient": f"Patient/{OWN_PATIENT}", "date": "2026-11-30"},
        headers=headers,
    )
    assert own.status_code == 200 and own.json()["resourceType"] == "Bundle"
    # Reading one of the other patient's sessions by its id: a general-schedule look-up, which
    # shows when and where, never whom.
    with demo_db.read() as session:
        theirs = session.scalars(
            select(Appointment).where(Appointment.patient_links.any(patient_id=OTHERS_PATIENT))
        ).all()
        appointment = next(a for a in theirs if THERAPIST not in a.staff_ids)
        appointment_id = appointment.id
    read = client.get(f"/fhir/r4/Appointment/{appointment_id}", headers=headers)
    assert read.status_code == 200, read.text
    assert OTHERS_PATIENT not in read.text and "Patient/" not in read.text


def test_slot_search_for_another_therapists_patient_is_refused_on_the_board_and_in_chat(
    client: TestClient, demo_db: Database, signed_in_client: Client
) -> None:
    web = signed_in_client(THERAPIST)
    board = web.post(
        "/board/slots",
        data={"patient": OTHERS_PATIENT, "session_type": "individual", "day": "2026-12-01"},
    )
    assert board.status_code == 403 and "own caseload" in board.text
    reply = chat(client, demo_db, THERAPIST, f"find a slot for {OTHERS_NAME} tomorrow")
    assert "can't do that" in reply and "own caseload" in reply
    assert "Option" not in reply and "option 1" not in reply.lower()


def test_a_chat_question_about_another_therapists_patient_is_refused(
    client: TestClient, demo_db: Database
) -> None:
    reply = chat(client, demo_db, THERAPIST, f"when is {OTHERS_NAME}'s next appointment?")
    assert "can't do that" in reply and RECORD_RULE in reply
    assert "schedule" not in reply.split(":")[0].lower() or "can't" in reply
    own = chat(client, demo_db, THERAPIST, "when is Kevin Fowler's next appointment?")
    assert "can't do that" not in own and "Kevin Fowler's schedule" in own


def test_a_slack_dm_about_another_therapists_patient_is_refused(slack: Slack) -> None:
    slack.dm(THERAPIST, f"when is {OTHERS_NAME}'s next appointment?")
    slack.wait()
    answer = slack.dm_to(THERAPIST)[-1].texts()
    assert "can't do that" in answer and "own caseload" in answer
    assert "schedule" not in answer.lower().split("can't do that")[0]


def test_the_web_patient_page_refuses_and_asks_for_an_emergency_reason_instead(
    signed_in_client: Client,
) -> None:
    page = signed_in_client(THERAPIST).get(f"/patients/{OTHERS_PATIENT}")
    text = refused_for_caseload(page)
    assert "own caseload" in text and 'name="reason"' in text
    own = signed_in_client(THERAPIST).get(f"/patients/{OWN_PATIENT}")
    assert own.status_code == 200 and "Kevin Fowler" in own.text


def test_series_and_cli_look_ups_by_patient_are_refused(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    therapist = callers.for_staff(demo_db, OTHER_THERAPIST)
    with pytest.raises(PermissionDenied, match="own caseload"):
        series.find_series(demo_db, therapist, OTHERS_PATIENT)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    assert run(["patient", "show", OTHERS_PATIENT, "--actor", THERAPIST]) != 0
    out, err = capsys.readouterr()
    assert RECORD_RULE in err and OTHERS_NAME not in out + err and "Traceback" not in err


def test_every_door_s_refusal_is_in_the_access_log_with_actor_and_door(
    client: TestClient,
    demo_db: Database,
    signed_in_client: Client,
    slack: Slack,
    audit_access: AccessRows,
) -> None:
    """The same attempts, as `rota audit access --patient` shows them to a privacy officer:
    each refused, by whom, through which door."""
    headers = bearer(demo_db, THERAPIST)
    assert client.get(f"/api/patients/{OTHERS_PATIENT}", headers=headers).status_code == 403
    fhir = client.get(
        "/fhir/r4/Appointment",
        params={"patient": f"Patient/{OTHERS_PATIENT}"},
        headers=headers | FHIR_JSON,
    )
    assert fhir.status_code == 403
    web = signed_in_client(THERAPIST).get(f"/patients/{OTHERS_PATIENT}")
    assert web.status_code == 403
    assert "can't do that" in chat(client, demo_db, THERAPIST, f"find a slot for {OTHERS_NAME}")
    slack.dm(THERAPIST, f"when is {OTHERS_NAME}'s next appointment?")
    slack.wait()
    assert "can't do that" in slack.dm_to(THERAPIST)[-1].texts()
    rows = audit_access(OTHERS_PATIENT)
    refused = [r for r in rows if r["actor"] == THERAPIST and r["outcome"] == "denied"]
    assert {r["door"] for r in refused} == {"http", "fhir", "web", "slack"}, rows
    assert all(r["reason"] and "caseload" in r["reason"] for r in refused), rows
    # Nothing was shown: no read of the record was allowed (the Slack reply that refuses says
    # back only the name the asker gave: no `slack.dm` row either).
    assert not [r for r in rows if r["outcome"] != "denied"], rows
