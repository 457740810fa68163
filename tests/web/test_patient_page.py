"""The Patient page: minimum necessary by role (front desk: times, rooms and names; a clinician:
their caseload; the clinical director: everything), a title that never names the patient, plain
404 and 403 pages."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.web.test_approvals import Client

COURT_PATIENT, CLINICIAN, OUTSIDER = "p0002", "c004", "c005"  # Kevin Fowler, Brian Romero's
CLINICAL_DIRECTOR, FRONT_DESK = "s001", "s004"


def _get(client: TestClient[Litestar], path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return page.text


def test_front_desk_sees_times_rooms_and_names_but_no_clinical_detail(
    signed_in_client: Client,
) -> None:
    text = _get(signed_in_client(FRONT_DESK), f"/patients/{COURT_PATIENT}")
    assert "Kevin Fowler" in text and "Agenda" in text
    assert "<title>Patient — Rota</title>" in text
    for clinical in (
        "Authorizations",
        "Court order",
        "CR-2026-571007",
        "Hudson County",
        "Level of care",
        "Consents",
        "probation",
    ):
        assert clinical not in text, clinical


def test_a_clinician_outside_the_caseload_gets_a_plain_403(
    signed_in_client: Client,
) -> None:
    refused = signed_in_client(OUTSIDER).get(f"/patients/{COURT_PATIENT}")
    assert refused.status_code == 403
    assert "Kevin Fowler" not in refused.text and "Traceback" not in refused.text
    assert "caseload" in refused.text


def test_an_unknown_patient_is_a_plain_404(signed_in_client: Client) -> None:
    page = signed_in_client(CLINICAL_DIRECTOR).get("/patients/p9999")
    assert page.status_code == 404
    assert "there is no patient p9999" in page.text and "Traceback" not in page.text
