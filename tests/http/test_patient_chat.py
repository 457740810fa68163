"""The living record in conversation, through POST /api/chat: the assistant asks for what is
missing, says what it will do, and writes only on "yes" (demo 's', Mon 30 Nov 08:30)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime as _datetime
from typing import Any
from zoneinfo import ZoneInfo as _ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from assistant.dialogue import Dialogue
from assistant.disclosure import Disclose, disclose
from clinic.db import Database
from clinic.errors import RuleViolation
from clinic.facility_file.export import patient_record
from clinic.models import Appointment, AppointmentPatient, AuditEvent, Patient, group_member
from integrations.http.app import create_app
from tests.conftest import pin_clock
from tests.http.test_chat import NOW, Person

demo_clock = pin_clock(_datetime(2026, 11, 30, 8, 0, tzinfo=_ZoneInfo("America/New_York")))
"""The demo's Monday, whatever the wall clock says (the tests read "now" against it)."""

INTAKE, FRONT_DESK, DIRECTOR = "s002", "s004", "s001"
CLINICIAN, PATIENT, NAME = "c003", "p0001", "Elizabeth Cabrera"  # c003 is her primary clinician


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


def _patients(db: Database, name: str) -> list[dict[str, Any]]:
    with db.read() as session:
        return [
            patient_record(p)
            for p in session.scalars(select(Patient).where(Patient.name == name)).all()
        ]


def _events(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_admit_maria_lopez_confirmed_in_one_turn(client: TestClient, demo_db: Database) -> None:
    intake = Person(client, demo_db, INTAKE)
    asked = intake.says(
        "admit Maria Lopez to IOP, Medicaid, 24 units through Jan 31, "
        "needs a Spanish-speaking clinician"
    )
    assert asked["frame"]["action"] == "admit_patient"
    assert asked["frame"]["intent"] == "unknown"  # the contract's intents are unchanged
    reply = asked["reply"]
    assert reply.startswith("Admit Maria Lopez to intensive outpatient (IOP, 2.1)")
    assert "needs spanish speaking" in reply and "Medicaid: 24 units" in reply
    assert "Nov 30, 2026 to Jan 31, 2027" in reply
    assert _patients(demo_db, "Maria Lopez") == []  # nothing before "yes"

    done = intake.says("yes")
    assert done["reply"].startswith("Admitted Maria Lopez (intensive outpatient (IOP, 2.1)")
    [maria] = _patients(demo_db, "Maria Lopez")
    assert (maria["level_of_care"], maria["phase"]) == ("2.1", "intake")
    assert maria["needs"] == ["spanish_speaking"]
    [auth] = maria["authorizations"]
    assert (auth["payer"], auth["units"], auth["end"]) == ("Medicaid", 24, "2027-01-31")
    assert maria["requirements"] == [
        {"session_type": "individual", "per_week": 1, "source": "level_of_care"}
    ]
    # She is on the roster at once: the next request can name her.
    slot = intake.says("find an intake assessment for Maria Lopez this week")
    assert slot["frame"]["patient"] == {"text": "Maria Lopez", "id": maria["id"]}


def test_the_conversation_asks_for_what_is_missing_and_no_writes_nothing(
    client: TestClient, demo_db: Database
) -> None:
    intake = Person(client, demo_db, INTAKE)
    before = _events(demo_db)
    assert intake.says("admit Jo Park")["reply"].startswith("Which level of care")
    assert intake.says("PHP")["reply"].startswith("Admit Jo Park to partial hospitalization")
    assert intake.says("no")["reply"] == "OK, I left it as it was."
    assert _patients(demo_db, "Jo Park") == []
    assert _events(demo_db) == before

    refused = Person(client, demo_db, FRONT_DESK).says("admit Jo Park to PHP")
    assert refused["reply"].startswith("Sorry, I can't do that: a front desk may not admit")


def test_a_bad_admission_is_told_and_nothing_written(client: TestClient, demo_db: Database) -> None:
    intake = Person(client, demo_db, INTAKE)
    intake.says("admit Ann Lee to IOP, Medicaid, 10 units through Nov 1 2026")
    answer = intake.says("yes")["reply"]
    assert "authorizations[0]: end date 2026-11-01 is before start date 2026-11-30" in answer
    assert answer.endswith("Nothing was written.")
    assert _patients(demo_db, "Ann Lee") == []


def test_discharge_asks_why_lists_the_sessions_and_cancels_them(
    client: TestClient, demo_db: Database
) -> None:
    clinician = Person(client, demo_db, CLINICIAN)
    assert clinician.says(f"discharge {NAME}")["reply"] == f"Why is {NAME} being discharged?"
    question = clinician.says("completed the program")
    assert question["reply"].startswith(f"Discharge {NAME} (completed the program)?")
    assert "future session(s) will be cancelled" in question["reply"]
    listed = question["appointments"]
    assert listed
    with demo_db.read() as session:
        assert all(session.get(Appointment, a).status == "booked" for a in listed)  # type: ignore[union-attr]

    done = clinician.says("yes")
    assert done["reply"].startswith(f"Discharged {NAME}. Cancelled: ")
    assert set(done["appointments"]) == set(listed)
    assert {n.get("patient") for n in done["notify"]} >= {PATIENT}
    assert "To tell: " in done["reply"]
    assert "group session(s), which go on for the others" in done["reply"]
    with demo_db.read() as session:
        assert all(session.get(Appointment, a).status == "cancelled" for a in listed)  # type: ignore[union-attr]
        assert session.get(Patient, PATIENT).phase == "discharged"  # type: ignore[union-attr]
        ahead = session.scalars(
            select(Appointment.id)
            .join(AppointmentPatient)
            .where(AppointmentPatient.patient_id == PATIENT, Appointment.active)
            .where(Appointment.start >= NOW)
        ).all()
        assert ahead == []  # out of every session ahead, the groups' too
        groups = session.scalars(
            select(group_member.c.group_id).where(group_member.c.patient_id == PATIENT)
        ).all()
        assert groups == []


def test_consent_to_probation_recorded_then_revoked_in_chat(
    client: TestClient, demo_db: Database
) -> None:
    clinician = Person(client, demo_db, CLINICIAN)
    to_probation = Disclose(DIRECTOR, "email", "probation", (PATIENT,), content="attendance")
    asked = clinician.says(f"{NAME}'s consent to share with probation")
    assert asked["frame"]["action"] == "record_consent"
    assert asked["reply"].startswith("What may be shared")
    assert clinician.says("attendance only")["reply"].startswith(
        f"Record {NAME}'s Part 2 consent to share attendance with probation?"
    )
    assert clinician.says("yes")["reply"].startswith("Recorded:")
    assert disclose(demo_db, to_probation).allowed

    clinician.says(f"{NAME} revoked consent for probation")
    assert clinician.says("yes")["reply"].startswith("Revoked:")
    with pytest.raises(RuleViolation, match="Part 2 consent"):
        disclose(demo_db, to_probation)


def test_a_level_of_care_change_in_chat_rederives_the_requirements(
    client: TestClient, demo_db: Database
) -> None:
    clinician = Person(client, demo_db, CLINICIAN)
    asked = clinician.says(f"step {NAME} down to IOP")
    assert asked["reply"].startswith(f"Change {NAME}'s level of care to intensive outpatient")
    done = clinician.says("yes")["reply"]
    assert "Weekly requirements: 1 case management a week, 1 individual" in done, done
