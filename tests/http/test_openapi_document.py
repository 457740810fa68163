"""The OpenAPI document declares who needs a token (or a signature), what errors look like,
the shapes of times, dates and statuses, and the shape of the answers that name a patient
(what lets schemathesis follow a caseload to a record: test_openapi_auth.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient


@pytest.fixture()
def document(fuzzed_app: Litestar) -> Iterator[dict]:
    with TestClient(fuzzed_app) as client:
        yield client.get("/schema/openapi.json").json()


def test_health_needs_no_token_and_every_api_route_says_it_does(document: dict) -> None:
    assert "security" not in document  # no global requirement for /health to inherit
    assert "security" not in document["paths"]["/health"]["get"]
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
    ]
    assert len(operations) > 40
    slack, sms = paths_of(document, "/slack/events", "/api/sms/inbound")
    assert slack["security"] == [{"slackSignature": []}]
    assert sms["security"] == [{"twilioSignature": []}]
    operations = [(p, m, op) for p, m, op in operations if op is not sms]
    for path, method, op in operations:
        assert op["security"] == [{"bearer": []}], (method, path)
        for status in ("400", "401", "403", "404", "422"):
            content = op["responses"][status]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (method, path, status)
        if method != "get":
            assert "application/problem+json" in op["responses"]["409"]["content"]


def paths_of(document: dict, *paths: str) -> list[dict]:
    return [document["paths"][path]["post"] for path in paths]


def test_times_dates_and_statuses_are_declared(document: dict) -> None:
    paths = document["paths"]
    schemas = document["components"]["schemas"]
    start = next(p for p in paths["/api/appointments"]["get"]["parameters"] if p["name"] == "from")
    formats = [alternative.get("format") for alternative in start["schema"]["anyOf"]]
    assert formats == ["date-time", None, "date"] and "pattern" in start["schema"]
    booked_at = schemas["NewAppointment"]["properties"]["start"]["anyOf"]
    assert booked_at[0]["format"] == "date-time" and "T" in booked_at[1]["pattern"]
    assert schemas["DayMarks"]["properties"]["day"]["format"] == "date"
    assert "cancelled" in schemas["StatusChange"]["properties"]["status"]["enum"]
    assert schemas["SeriesChange"]["properties"]["scope"]["enum"] == ["this", "following", "all"]


def test_the_caseload_lists_the_patient_resource_its_reads_take(document: dict) -> None:
    """GET /api/patients answers {patients: [Patient]}, and a Patient's `id` is what the
    record's reads take: the link a client (and schemathesis) follows from list to record."""
    paths = document["paths"]
    schemas = document["components"]["schemas"]

    def answer(path: str) -> dict:
        return paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]

    caseload = schemas[answer("/api/patients")["$ref"].rsplit("/", 1)[1]]
    assert caseload["properties"]["patients"]["items"] == {"$ref": "#/components/schemas/Patient"}
    patient = schemas["Patient"]
    assert set(patient["required"]) == {"id", "relation"}
    assert patient["properties"]["relation"]["enum"] == ["own", "other"]
    record = schemas[answer("/api/patients/{patient_id}")["$ref"].rsplit("/", 1)[1]]
    assert {"patient", "relation"} <= set(record["required"])
