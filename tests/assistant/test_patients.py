"""The patient use cases on the demo facility: Part 2 consents decide every disclosure, each
change is one audit event, and a refused change leaves nothing behind."""

from __future__ import annotations

from datetime import date, timedelta
from datetime import datetime as _datetime
from zoneinfo import ZoneInfo as _ZoneInfo

import pytest
from sqlalchemy import select

from assistant import callers
from assistant.disclosure import Disclose, disclose
from assistant.usecases import paperwork, patients
from clinic.db import Database
from clinic.errors import InvalidInput, PermissionDenied, RuleViolation
from clinic.models import AuditEvent
from clinic.timeutil import now_utc
from tests.assistant.conftest import CASE_MANAGER, DIRECTOR, OTHER_THERAPIST
from tests.conftest import pin_clock

demo_clock = pin_clock(_datetime(2026, 11, 30, 8, 0, tzinfo=_ZoneInfo("America/New_York")))
"""The demo's Monday, whatever the wall clock says (the tests read "now" against it)."""

PATIENT = "p0001"  # primary clinician c003 (OTHER_THERAPIST); family:sister in consent_disclose_to


def _to(recipient: str, content: str = "attendance") -> Disclose:
    return Disclose(
        actor=DIRECTOR, channel="email", recipient=recipient, patients=(PATIENT,), content=content
    )


def _events(db: Database, entity: str) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_id == entity)
                .order_by(AuditEvent.seq)
            )
        )


def test_a_recorded_consent_allows_a_disclosure_and_its_revocation_refuses_it(
    demo_db: Database,
) -> None:
    db = demo_db
    clinician = callers.for_staff(db, OTHER_THERAPIST)
    with pytest.raises(RuleViolation, match="Part 2 consent"):
        disclose(db, _to("probation"))
    record = paperwork.record_consent(
        db,
        clinician,
        paperwork.RecordConsent(
            PATIENT, {"recipient": "probation", "information": "attendance", "until": "2027-06-30"}
        ),
    )
    assert record["contact"]["consent_disclose_to"] == ["family:sister", "probation"]
    assert disclose(db, _to("probation")).allowed

    record = paperwork.revoke_consent(
        db, clinician, paperwork.RevokeConsent(PATIENT, "Probation", reason="patient asked")
    )
    consent = record["contact"]["consents"][0]
    assert consent["revoked"] == consent["given"]
    assert record["contact"]["consent_disclose_to"] == ["family:sister"]
    with pytest.raises(RuleViolation, match="Part 2 consent"):
        disclose(db, _to("probation"))
    # A consent given before Rota (the file's plain list) is revoked the same way.
    assert disclose(db, _to("family")).allowed
    paperwork.revoke_consent(db, clinician, paperwork.RevokeConsent(PATIENT, "family:sister"))
    with pytest.raises(RuleViolation):
        disclose(db, _to("family"))
    with pytest.raises(InvalidInput) as nothing:
        paperwork.revoke_consent(db, clinician, paperwork.RevokeConsent(PATIENT, "court"))
    assert nothing.value.problems == ["$.recipient: no consent in force to this recipient"]
    actions = _events(db, PATIENT)
    assert actions.count("patient.consent.record") == 1
    assert actions.count("patient.consent.revoke") == 2


def test_an_expired_consent_no_longer_counts(demo_db: Database) -> None:
    yesterday = (now_utc().date() - timedelta(days=2)).isoformat()
    paperwork.record_consent(
        demo_db,
        callers.for_staff(demo_db, DIRECTOR),
        paperwork.RecordConsent(
            PATIENT, {"recipient": "court", "information": "attendance", "until": yesterday}
        ),
    )
    with pytest.raises(RuleViolation, match="Part 2 consent"):
        disclose(demo_db, _to("court"))


def test_a_bad_consent_names_its_field(demo_db: Database) -> None:
    director = callers.for_staff(demo_db, DIRECTOR)
    before = _events(demo_db, PATIENT)
    with pytest.raises(InvalidInput) as bad:
        paperwork.record_consent(
            demo_db, director, paperwork.RecordConsent(PATIENT, {"recipient": "court"})
        )
    assert bad.value.problems == ["$.contact.consents[0]: 'information' is a required property"]
    with pytest.raises(InvalidInput) as bad_date:
        paperwork.record_consent(
            demo_db,
            director,
            paperwork.RecordConsent(
                PATIENT, {"recipient": "court", "information": "x", "until": "soon"}
            ),
        )
    assert bad_date.value.problems[0].startswith("$.contact.consents[0].until: ")
    assert _events(demo_db, PATIENT) == before


def test_treatment_plan_requirements_stay_when_the_level_changes(demo_db: Database) -> None:
    clinician = callers.for_staff(demo_db, OTHER_THERAPIST)
    record = patients.update(
        demo_db, clinician, patients.Update(PATIENT, {"level_of_care": "1.0"}, reason="step down")
    )
    assert record["requirements"] == [
        {"session_type": "case_management", "per_week": 1, "source": "treatment_plan"},
        {"session_type": "individual", "per_week": 1, "source": "level_of_care"},
    ]
    # A level that implies nothing leaves only the plan's; a field set to null is removed.
    record = patients.update(
        demo_db, clinician, patients.Update(PATIENT, {"level_of_care": "3.7", "acuity": None})
    )
    assert record["requirements"] == [
        {"session_type": "case_management", "per_week": 1, "source": "treatment_plan"}
    ]
    assert "acuity" not in record
    assert _events(demo_db, PATIENT)[-2:] == ["patient.update", "patient.update"]


def test_who_may_change_a_record(demo_db: Database) -> None:
    case_manager = callers.for_staff(demo_db, CASE_MANAGER)
    intake = callers.for_staff(demo_db, "s002")
    # Authorizations are the case manager's and intake's work, for anyone.
    paperwork.adjust_authorization(
        demo_db, intake, paperwork.AdjustAuthorization(PATIENT, "AUTH-2017864", {"units": 30})
    )
    with pytest.raises(PermissionDenied, match="intake coordinator"):
        patients.update(demo_db, intake, patients.Update(PATIENT, {"phase": "maintenance"}))
    stranger = callers.for_staff(demo_db, "c004")  # a therapist, not on the patient's caseload
    with pytest.raises(PermissionDenied, match="caseload"):
        patients.discharge(demo_db, stranger, patients.Discharge(PATIENT, "done"))
    patients.update(  # the case manager has worked with the patient: on their caseload
        demo_db, case_manager, patients.Update(PATIENT, {"phase": "maintenance"})
    )
    front_desk = callers.for_staff(demo_db, "s004")
    with pytest.raises(PermissionDenied):
        patients.admit(demo_db, front_desk, patients.Admit({"name": "Someone"}))
    shown = patients.show(demo_db, front_desk, patients.Show(PATIENT))
    # Minimum necessary at the desk: who (name, and date of birth to tell two people apart),
    # a phone to call them; not their MRN, sex or admission date.
    assert set(shown["patient"]) <= {
        "id",
        "name",
        "dob",
        "contact",
        "primary_clinician",
        "availability",
        "preferences",
    }
    assert set(shown["patient"].get("contact", {})) <= {"phone"}
    assert "authorizations" not in shown


def test_admit_keeps_a_given_id_and_refuses_it_twice(demo_db: Database) -> None:
    intake = callers.for_staff(demo_db, "s002")
    record = patients.admit(
        demo_db, intake, patients.Admit({"id": "p9000", "name": "Jamie Doe"}, reason="walk-in")
    )
    assert record == {
        "id": "p9000",
        "name": "Jamie Doe",
        "phase": "intake",
        "admitted": record["admitted"],
    }
    assert date.fromisoformat(record["admitted"])
    with pytest.raises(InvalidInput) as twice:
        patients.admit(demo_db, intake, patients.Admit({"id": "p9000", "name": "Jamie Doe"}))
    assert twice.value.problems == ["$.id: 'p9000' is used twice in patients"]
    assert _events(demo_db, "p9000") == ["patient.admit"]


def test_every_change_on_both_databases(any_demo_db: Database) -> None:
    """Rows kept in place (the court order, authorizations by id) on SQLite and PostgreSQL."""
    db = any_demo_db
    director = callers.for_staff(db, DIRECTOR)
    order = {
        "case_number": "CR-1",
        "start": "2026-12-01",
        "end": "2027-03-31",
        "requirements": [{"session_type": "group", "per_week": 1}],
    }
    record = patients.admit(
        db,
        director,
        patients.Admit(
            {
                "id": "p9100",
                "name": "Robin Vale",
                "level_of_care": "2.1",
                "primary_clinician": OTHER_THERAPIST,
                "court_order": order,
                "authorizations": [
                    {
                        "id": "A-1",
                        "payer": "Cigna",
                        "session_types": ["individual"],
                        "units": 10,
                        "start": "2026-11-30",
                        "end": "2026-12-31",
                    }
                ],
            }
        ),
    )
    assert record["court_order"] == order
    with pytest.raises(InvalidInput):
        paperwork.add_court_order(db, director, paperwork.AddCourtOrder("p9100", order))
    ended = paperwork.end_court_order(db, director, paperwork.EndCourtOrder("p9100", "2026-12-15"))
    assert ended["court_order"] == {**order, "end": "2026-12-15"}
    renewed = paperwork.renew_authorization(
        db,
        director,
        paperwork.RenewAuthorization(
            "p9100", "A-1", start="2027-01-01", end="2027-02-28", units=8, new_id="A-2"
        ),
    )
    assert [a["id"] for a in renewed["authorizations"]] == ["A-1", "A-2"]
    adjusted = paperwork.adjust_authorization(
        db, director, paperwork.AdjustAuthorization("p9100", "A-1", {"units": 12, "used": 2})
    )
    assert adjusted["authorizations"][0] | {"units": 12, "used": 2} == adjusted["authorizations"][0]
    stepped = patients.update(db, director, patients.Update("p9100", {"level_of_care": "2.5"}))
    assert stepped["requirements"] == [
        {"session_type": "individual", "per_week": 2, "source": "level_of_care"}
    ]
    out = patients.discharge(db, director, patients.Discharge("p9100", "transferred"))
    assert out["patient"]["phase"] == "discharged" and out["cancelled"] == []
    assert "requirements" not in out["patient"]  # a discharge allows no individual sessions
    assert _events(db, "p9100") == [
        "patient.admit",
        "patient.court_order.end",
        "patient.authorization.renew",
        "patient.authorization.adjust",
        "patient.update",
        "patient.discharge",
    ]
