"""The HTTP API: bearer tokens, role checks, problem details, the same booking service."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from clinic.db import Database
from clinic.tokens import create_token
from integrations.http.app import create_app


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def token(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def test_health_and_openapi_need_no_token_and_no_cdn(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    spec = client.get("/schema/openapi.json").json()
    assert "/api/appointments" in spec["paths"]
    served = client.get("/schema/swagger")
    assert served.status_code == 200 and spec["openapi"].startswith("3.1")
    page = served.text
    assert "/static/swagger/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    # Every script and style is this server's (a path, never another origin), and is served.
    sources = re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', page)
    assert len(sources) >= 4 and all(s.startswith("/") and not s.startswith("//") for s in sources)
    assert all(client.get(s).status_code == 200 for s in sources)
    # Swagger UI 5, which renders OpenAPI 3.1 (4.x, the swagger-ui-bundle package's, cannot).
    bundle = client.get("/static/swagger/swagger-ui-bundle.js").text
    assert re.search(r'PACKAGE_VERSION:"5\.\d+\.\d+"', bundle)


def test_api_needs_a_valid_token(client: TestClient, demo_db: Database) -> None:
    response = client.get("/api/appointments")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "rota token create" in response.json()["detail"]
    assert (
        client.get("/api/appointments", headers={"Authorization": "Bearer rota_nope"}).status_code
        == 401
    )


def test_book_list_and_cancel(client: TestClient, demo_db: Database) -> None:
    headers = token(demo_db, "s001")  # the clinical director
    body = {
        "patients": ["p0050"],
        "staff": ["s006"],
        "session_type": "case_management",
        "start": "2027-01-05T10:00",
        "reason": "benefits paperwork",
    }
    created = client.post("/api/appointments", json=body, headers=headers)
    assert created.status_code == 201, created.text
    appointment = created.json()
    assert appointment["start"] == "2027-01-05T10:00-05:00"
    listed = client.get(
        "/api/appointments",
        params={"from": "2027-01-05T00:00", "to": "2027-01-06T00:00"},
        headers=headers,
    ).json()
    assert [a["id"] for a in listed["appointments"]] == [appointment["id"]]
    again = client.post("/api/appointments", json=body, headers=headers)
    assert again.status_code == 409
    assert "already has appointment" in again.json()["detail"]
    missing_reason = client.delete(f"/api/appointments/{appointment['id']}", headers=headers)
    assert missing_reason.status_code == 400
    cancelled = client.delete(
        f"/api/appointments/{appointment['id']}",
        params={"reason": "patient asked"},
        headers=headers,
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    agenda = client.get(
        "/api/patients/p0050/agenda",
        params={"from": "2027-01-05T00:00", "to": "2027-01-06T00:00"},
        headers=headers,
    ).json()
    assert agenda["appointments"][0]["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {
                "patients": ["p0050"],
                "staff": ["s006"],
                "session_type": "case_management",
                "start": "next week",
            },
            422,
            "is not a date-time",
        ),
        (
            {
                "patients": ["p0050"],
                "staff": ["ghost"],
                "session_type": "case_management",
                "start": "2027-01-05T10:00",
            },
            404,
            "no staff member",
        ),
        (
            {
                "patients": ["p0050"],
                "staff": ["s006"],
                "session_type": "case_management",
                "start": "2027-01-09T10:00",
            },
            409,
            "outside facility hours",
        ),
        ({"patients": "p0050", "staff": ["s006"]}, 400, ""),
    ],
)
def test_bad_requests_get_problem_details(
    client: TestClient, demo_db: Database, body: dict, status: int, words: str
) -> None:
    response = client.post("/api/appointments", json=body, headers=token(demo_db, "s001"))
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["status"] == status and words in problem["detail"]
    assert "Traceback" not in response.text


def test_front_desk_sees_times_and_rooms_but_no_clinical_detail(
    client: TestClient, demo_db: Database
) -> None:
    rows = client.get(
        "/api/appointments",
        params={"from": "2026-11-30T00:00", "to": "2026-12-01T00:00"},
        headers=token(demo_db, "s004"),
    ).json()["appointments"]
    assert rows and all("session_type" not in r and "room" in r and "start" in r for r in rows)


def test_a_therapist_cannot_read_another_caseload(client: TestClient, demo_db: Database) -> None:
    with demo_db.session() as session:
        from sqlalchemy import select

        from clinic.models import Patient

        other = session.scalar(select(Patient.id).where(Patient.primary_clinician_id != "c004"))
    response = client.get(f"/api/patients/{other}/agenda", headers=token(demo_db, "c004"))
    assert response.status_code == 403
    assert "own caseload" in response.json()["detail"]
