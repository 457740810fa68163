"""schemathesis' object_level_authorization bites: with the patient record's read made to
forget the caseload it reports the other therapist reading it. And what it relies on holds:
the caseload list is exactly what the read opens. A series, which it cannot reach, by hand.
(The run over the real app: test_openapi_auth.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import access, callers
from assistant.usecases import patients
from clinic.db import Database
from clinic.models import Staff
from clinic.tokens import create_token
from tests.http.openapi_fuzz import OTHER_THERAPIST, THERAPIST, Paths, auth_checks

pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)

OLA = "object_level_authorization"
# The caseload and the record: the list the owner's ids come from, the read replayed.
LIST_AND_RECORD = Paths(r"^/api/patients(/\{patient_id\})?$", method="GET")


def test_object_level_authorization_fails_when_a_read_forgets_the_caseload(
    fuzzed_app: Litestar, demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient record's read shows anyone's record whole (as if the glass were broken),
    while the caseload list is still right: the check must catch the other therapist reading
    a record their list leaves out."""
    checked = patients.authorize

    def forgets_the_caseload(db: Database, caller: Any, action: str, **about: Any) -> bool:
        return True if action == "view_patient" else checked(db, caller, action, **about)

    monkeypatch.setattr(patients, "authorize", forgets_the_caseload)
    # The fuzzing phase alone finds it (the stateful phase finds the same, in eight times as
    # long; test_openapi_auth.py runs every phase over the real app).
    result = auth_checks(fuzzed_app, demo_db, tmp_path, paths=LIST_AND_RECORD, stateful=False)
    assert result.checks[(OLA, "FAILURE")] > 0, result.checks
    assert "GET /api/patients/{patient_id} ST402 Object-level authorization bypass" in (
        result.failures
    )
    assert result.replays[("GET /api/patients/{patient_id}", 200)] > 0, result.replays


def test_the_caseload_list_is_what_the_read_allows(fuzzed_app: Litestar, demo_db: Database) -> None:
    """GET /api/patients lists exactly the records GET /api/patients/{id} opens, for the
    therapist and for the other one (the two disagree on p0002 only if the rules do)."""
    with demo_db.session() as session:
        tokens = {s: create_token(session, s) for s in (THERAPIST, OTHER_THERAPIST, "s001")}
    with TestClient(fuzzed_app) as client:
        listed = {
            staff: {
                p["id"]
                for p in client.get("/api/patients", headers=_bearer(token)).json()["patients"]
            }
            for staff, token in tokens.items()
        }
        everyone = listed.pop("s001")
        assert len(everyone) == 60
        for staff, token in tokens.items():
            if staff == "s001":
                continue
            assert 0 < len(listed[staff]) < len(everyone)
            for patient in sorted(everyone):
                status = client.get(f"/api/patients/{patient}", headers=_bearer(token)).status_code
                assert status == (200 if patient in listed[staff] else 403), (staff, patient)
        assert listed[THERAPIST] != listed[OTHER_THERAPIST]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_therapist_reads_another_therapists_series(
    fuzzed_app: Litestar, demo_db: Database
) -> None:
    """Object-level authorization by hand where schemathesis cannot reach (a series exists
    only once booked with a real patient, clinician and time): Brian Romero's series for his
    own patient is not for a therapist outside Kevin Fowler's caseload to read."""
    with demo_db.read() as session:
        therapists = session.scalars(select(Staff.id).where(Staff.role == "therapist")).all()
    outsider = next(
        t
        for t in therapists
        if not access.permits(
            demo_db, callers.for_staff(demo_db, t), "view_patient", patient_id="p0002"
        )
    )
    with demo_db.session() as session:
        mine = _bearer(create_token(session, THERAPIST))
        other = _bearer(create_token(session, outsider))
    with TestClient(fuzzed_app) as client:
        made = client.post(
            "/api/series",
            json={"patient": "p0002", "staff": THERAPIST, "session_type": "individual",
                  "weekday": "thu", "time": "16:00", "count": 2, "skip_failing": True},
            headers=mine,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        series = made.json()["series"]["id"]
        assert client.get(f"/api/series/{series}", headers=mine).status_code == 200
        assert client.get(f"/api/series/{series}", headers=other).status_code in (403, 404)
