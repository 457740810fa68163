"""The living record over HTTP: admit, show, update, discharge, authorizations, court orders and
consents, each body the facility file's object; bad ones are 4xx problems naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from clinic.db import Database
from clinic.models import AccessEvent, Appointment, AuditEvent, Authorization, Patient
from integrations.http.app import create_app
from tests.http.test_api import token

DIRECTOR, INTAKE, CASE_MANAGER, THERAPIST = "s001", "s002", "s006", "c007"

MARIA: dict[str, Any] = {
    "name": "Maria Lopez",
    "dob": "1988-04-02",
    "level_of_care": "2.1",
    "needs": ["spanish_speaking"],
    "primary_clinician": THERAPIST,
    "preferences": {"parts_of_day": ["afternoon"]},
    "contact": {"channel": "sms", "phone": "+15550100", "consent_reminders": True},
    "family_contacts": [{"name": "Ana Lopez", "relation": "sister"}],
    "authorizations": [
        {
            "payer": "Medicaid",
            "session_types": ["individual", "group"],
            "units": 24,
            "start": "2026-11-30",
            "end": "2027-01-31",
        }
    ],
}


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def _counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Patient)) or 0),
            int(session.scalar(select(func.count()).select_from(Authorization)) or 0),
            int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0),
        )


def test_admit_show_update_and_discharge(client: TestClient, demo_db: Database) -> None:
    intake = token(demo_db, INTAKE)
    admitted = client.post("/api/patients", json=MARIA, headers=intake)
    assert admitted.status_code == 201, admitted.text
    record = admitted.json()
    pid = record["id"]
    assert record["phase"] == "intake" and record["admitted"]
    # The level of care implies its weekly individual session (the level-of-care pack).
    assert record["requirements"] == [
        {"session_type": "individual", "per_week": 1, "source": "level_of_care"}
    ]
    auth_id = record["authorizations"][0]["id"]

    director = token(demo_db, DIRECTOR)
    booked = client.post(
        "/api/appointments",
        json={
            "patients": [pid],
            "staff": [THERAPIST],
            "session_type": "individual",
            "start": "2026-12-10T13:00",
            "reason": "first session",
        },
        headers=director,
    )
    assert booked.status_code == 201, booked.text
    shown = client.get(f"/api/patients/{pid}", headers=director).json()
    assert shown["authorizations"] == [
        {
            "id": auth_id,
            "payer": "Medicaid",
            "start": "2026-11-30",
            "end": "2027-01-31",
            "units": 24,
            "used": 0,
            "booked": 1,
            "left": 23,
        }
    ]

    # Level of care up: the level's requirement is re-derived, the treatment plan's is kept.
    therapist = token(demo_db, THERAPIST)
    plan = client.patch(
        f"/api/patients/{pid}",
        json={"requirements": [*record["requirements"], _plan("case_management")]},
        headers=therapist,
    )
    assert plan.status_code == 200, plan.text
    stepped = client.patch(
        f"/api/patients/{pid}",
        json={"level_of_care": "2.5", "phase": "active_treatment", "contact": {"phone": "+1555"}},
        headers=therapist,
    )
    assert stepped.status_code == 200, stepped.text
    after = stepped.json()
    assert after["level_of_care"] == "2.5" and after["phase"] == "active_treatment"
    assert after["requirements"] == [
        _plan("case_management"),
        {"session_type": "individual", "per_week": 2, "source": "level_of_care"},
    ]
    assert after["contact"]["phone"] == "+1555" and after["contact"]["channel"] == "sms"
    bad = client.patch(
        f"/api/patients/{pid}",
        json={"primary_clinician": "ghost", "level_of_care": "1.0"},
        headers=therapist,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        "$.primary_clinician: 'ghost' is not the id of any staff member in staff"
    ]
    unchanged = client.get(f"/api/patients/{pid}", headers=director).json()["patient"]
    assert unchanged["primary_clinician"] == THERAPIST

    gone = client.post(
        f"/api/patients/{pid}/discharge", json={"reason": "moved away"}, headers=therapist
    )
    assert gone.status_code == 200, gone.text
    out = gone.json()
    assert out["patient"]["phase"] == "discharged"
    assert [c["id"] for c in out["cancelled"]] == [booked.json()["id"]]
    assert {"staff": THERAPIST, "kind": "schedule_changed"}.items() <= out["notify"][0].items()
    assert out["notify"][1]["patient"] == pid and out["notify"][1]["channel"] == "sms"
    with demo_db.read() as session:
        assert session.get(Appointment, booked.json()["id"]).status == "cancelled"  # type: ignore[union-attr]
    again = client.post(
        f"/api/patients/{pid}/discharge", json={"reason": "twice"}, headers=therapist
    )
    assert again.status_code == 422


def _plan(session_type: str) -> dict[str, Any]:
    return {"session_type": session_type, "per_week": 1, "source": "treatment_plan"}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda r: r.update(primary_clinician="nobody"), "$.primary_clinician"),
        (lambda r: r.update(level_of_care="9.9"), "$.level_of_care"),
        (
            lambda r: r["authorizations"].append(
                {**r["authorizations"][0], "start": "2027-01-15", "end": "2027-03-31"}
            ),
            "$.authorizations[1].start",
        ),
        (lambda r: r["authorizations"][0].update(end="2026-01-01"), "$.authorizations[0]"),
    ],
    ids=["unknown-clinician", "unknown-level", "overlapping-authorization", "end-before-start"],
)
def test_a_bad_record_is_a_problem_naming_the_field_and_nothing_is_written(
    client: TestClient, demo_db: Database, change: Any, path: str
) -> None:
    record = {**MARIA, "authorizations": [dict(a) for a in MARIA["authorizations"]]}
    change(record)
    headers = token(demo_db, INTAKE)
    before = _counts(demo_db)
    response = client.post("/api/patients", json=record, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(e.startswith(path) for e in response.json()["errors"]), response.json()
    assert _counts(demo_db) == before


def test_authorizations_add_renew_adjust_and_overlap(client: TestClient, demo_db: Database) -> None:
    cm = token(demo_db, CASE_MANAGER)
    pid = client.post("/api/patients", json=MARIA, headers=token(demo_db, INTAKE)).json()["id"]
    auth = {
        "payer": "Aetna",
        "session_types": ["family"],
        "units": 6,
        "start": "2026-12-01",
        "end": "2026-12-31",
    }
    added = client.post(f"/api/patients/{pid}/authorizations", json=auth, headers=cm)
    assert added.status_code == 201, added.text
    aetna = added.json()["authorizations"][1]["id"]
    before = _counts(demo_db)
    overlap = client.post(
        f"/api/patients/{pid}/authorizations", json={**auth, "start": "2026-12-20"}, headers=cm
    )
    assert overlap.status_code == 422
    assert overlap.json()["errors"][0].startswith("$.authorizations[2].start: ")
    assert "overlaps " + aetna in overlap.json()["errors"][0]
    assert _counts(demo_db) == before
    renewed = client.post(
        f"/api/patients/{pid}/authorizations/{aetna}/renew",
        json={"start": "2027-01-01", "end": "2027-01-31", "units": 4, "id": "AET-2"},
        headers=cm,
    )
    assert renewed.status_code == 201, renewed.text
    new = renewed.json()["authorizations"][2]
    assert new == {
        **auth,
        "id": "AET-2",
        "units": 4,
        "used": 0,
        "start": "2027-01-01",
        "end": "2027-01-31",
    }
    adjusted = client.patch(
        f"/api/patients/{pid}/authorizations/AET-2", json={"units": 8}, headers=cm
    )
    assert adjusted.status_code == 200 and adjusted.json()["authorizations"][2]["units"] == 8
    bad = client.patch(
        f"/api/patients/{pid}/authorizations/AET-2", json={"end": "2026-12-15"}, headers=cm
    )
    assert bad.status_code == 422
    assert any(e.startswith("$.authorizations[2]") for e in bad.json()["errors"])
    missing = client.patch(
        f"/api/patients/{pid}/authorizations/NOPE", json={"units": 1}, headers=cm
    )
    assert missing.status_code == 404


def test_court_order_add_and_end(client: TestClient, demo_db: Database) -> None:
    director = token(demo_db, DIRECTOR)
    pid = client.post("/api/patients", json=MARIA, headers=token(demo_db, INTAKE)).json()["id"]
    order = {
        "case_number": "CR-2026-114",
        "court": "County Drug Court",
        "start": "2026-12-01",
        "end": "2027-05-31",
        "requirements": [{"session_type": "group", "per_week": 2}],
        "liaison": CASE_MANAGER,
        "report_to": "probation",
    }
    bad = client.post(
        f"/api/patients/{pid}/court-order", json={**order, "liaison": "zz"}, headers=director
    )
    assert bad.status_code == 422 and bad.json()["errors"][0].startswith("$.court_order.liaison")
    added = client.post(f"/api/patients/{pid}/court-order", json=order, headers=director)
    assert added.status_code == 201 and added.json()["court_order"] == order
    twice = client.post(f"/api/patients/{pid}/court-order", json=order, headers=director)
    assert twice.status_code == 422
    ended = client.post(
        f"/api/patients/{pid}/court-order/end", json={"end": "2026-12-31"}, headers=director
    )
    assert ended.status_code == 200 and ended.json()["court_order"]["end"] == "2026-12-31"


def test_intake_admits_but_sees_no_clinical_detail_of_other_patients(
    client: TestClient, demo_db: Database
) -> None:
    intake = token(demo_db, INTAKE)
    assert client.post("/api/patients", json=MARIA, headers=intake).status_code == 201
    noted = client.post(
        "/api/appointments",
        json={
            "patients": ["p0001"],
            "staff": ["c003"],
            "session_type": "individual",
            "start": "2026-12-21T16:00",
            "note": "discuss relapse triggers",
        },
        headers=token(demo_db, DIRECTOR),
    )
    assert noted.status_code == 201, noted.text
    day = {"patient": "p0001", "from": "2026-12-21T00:00", "to": "2026-12-22T00:00"}
    [seen] = client.get("/api/appointments", params=day, headers=intake).json()["appointments"]
    assert "note" not in seen and "session_type" in seen  # no clinical notes for intake
    [own] = client.get("/api/appointments", params=day, headers=token(demo_db, "c003")).json()[
        "appointments"
    ]
    assert own["note"] == "discuss relapse triggers"  # the patient's own clinician sees them
    other = client.get("/api/patients/p0001", headers=intake).json()["patient"]
    assert other["name"] and "contact" in other and "authorizations" in other
    for clinical in ("level_of_care", "phase", "needs", "requirements", "court_order"):
        assert clinical not in other
    assert "consent_disclose_to" not in other["contact"]
    # A clinician sees their own patient's clinical detail, and nothing but times of others'.
    own = client.get("/api/patients/p0001", headers=token(demo_db, "c003")).json()
    assert own["relation"] == "own" and own["patient"]["level_of_care"]
    # The intake coordinator may not change a patient's clinical record, nor discharge one.
    headers = intake
    assert (
        client.patch(
            "/api/patients/p0001", json={"phase": "maintenance"}, headers=headers
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/patients/p0001/discharge", json={"reason": "x"}, headers=headers
        ).status_code
        == 403
    )
    # A therapist may not update another clinician's patient.
    stranger = client.patch(
        "/api/patients/p0001", json={"phase": "maintenance"}, headers=token(demo_db, "c004")
    )
    assert stranger.status_code == 403


def test_the_caseload_lists_what_each_role_may_open_and_logs_each_read(
    client: TestClient, demo_db: Database
) -> None:
    """A therapist's GET /api/patients is their own caseload, in full; the front desk gets
    everyone, with names and clinicians but no level of care or phase; each listed patient is
    a read in the access log."""
    mine = client.get("/api/patients", headers=token(demo_db, "c004")).json()["patients"]
    assert mine and all(p["relation"] == "own" and "level_of_care" in p for p in mine)
    assert "p0002" in {p["id"] for p in mine}
    desk = client.get("/api/patients", headers=token(demo_db, "s004")).json()["patients"]
    assert len(desk) == 60 > len(mine)
    assert all("name" in p and "level_of_care" not in p and "phase" not in p for p in desk)
    with demo_db.read() as session:
        reads = session.scalars(
            select(AccessEvent.actor).where(
                AccessEvent.patient_id == "p0002", AccessEvent.action == "patient.view"
            )
        ).all()
    assert sorted(reads) == ["c004", "s004"]
