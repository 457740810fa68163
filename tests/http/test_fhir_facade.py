"""The FHIR R4 facade, driven by a real client library (fhirclient, SMART on FHIR) against the app
served by uvicorn on a random port: free Slots, booking one, reading it back, role refusals as
OperationOutcome, JSON only, and the SMART Scheduling Links bulk files."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import uvicorn
from fhir.resources.R4B.capabilitystatement import CapabilityStatement as R4BCapability
from fhirclient import client
from fhirclient.models.appointment import Appointment
from fhirclient.models.slot import Slot
from fhirclient.server import FHIRPermissionDeniedException
from litestar import Litestar

from clinic.access_log import accesses
from clinic.db import Database
from clinic.tokens import create_token
from integrations.http.app import create_app
from integrations.http.fhir import BulkSettings

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=TZ)  # the demo's first morning, before opening
DIRECTOR = "s001"  # the clinical director: may book for anyone
THERAPIST = "c004"


def token(db: Database, staff: str) -> str:
    with db.session() as session:
        return create_token(session, staff)


class Live:
    """The app on 127.0.0.1:<random port>, in a thread."""

    def __init__(self, app: Litestar) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture()
def origin(demo_db: Database, set_now: Callable[[datetime], None]) -> Iterator[str]:
    set_now(NOW)
    with Live(create_app(demo_db, fhir_bulk=BulkSettings(enabled=True, days=7))) as url:
        yield url


def smart(origin: str, bearer: str | None) -> client.FHIRClient:
    """fhirclient pointed at the facade, sending Rota's bearer token with every request."""
    fhir = client.FHIRClient(settings={"app_id": "rota-tests", "api_base": f"{origin}/fhir/r4/"})
    if bearer:
        fhir.server.session.headers["Authorization"] = f"Bearer {bearer}"
    return fhir


def test_metadata_is_a_truthful_capability_statement(origin: str) -> None:
    fhir = smart(origin, None)  # no token needed for metadata
    statement = fhir.server.capabilityStatement
    assert statement.fhirVersion == "4.0.1"
    assert set(statement.format) >= {"json", "application/fhir+json"}
    resources = {r.type: r for r in statement.rest[0].resource}
    assert set(resources) == {"Practitioner", "Location", "Schedule", "Slot", "Appointment"}
    assert {i.code for i in resources["Appointment"].interaction} == {
        "read",
        "search-type",
        "create",
    }
    assert {i.code for i in resources["Slot"].interaction} == {"read", "search-type"}
    assert {p.name for p in resources["Slot"].searchParam} >= {
        "start",
        "schedule",
        "schedule.actor",
        "service-type",
        "_count",
    }
    raw = requests.get(f"{origin}/fhir/r4/metadata", timeout=10)
    assert raw.headers["content-type"].startswith("application/fhir+json")
    R4BCapability.model_validate(raw.json())  # and the R4B model reads it too
    assert "$bulk-publish" in statement.rest[0].documentation


def test_search_free_slots_book_one_and_read_it_back(origin: str, demo_db: Database) -> None:
    fhir = smart(origin, token(demo_db, DIRECTOR))
    search = Slot.where(
        struct={
            "schedule.actor": "Practitioner/s006",
            "service-type": "case_management",
            "start": "ge2026-12-01",
            "_count": "5",
        }
    )
    slots = list(search.perform_resources_iter(fhir.server))
    assert slots and all(s.status == "free" for s in slots)
    assert all(s.schedule.reference == "Schedule/staff-s006" for s in slots)
    assert all(s.start.datetime >= datetime(2026, 12, 1, tzinfo=TZ) for s in slots)
    assert all(s.serviceType[0].coding[0].code == "case_management" for s in slots)
    chosen = slots[0]
    assert Slot.read(chosen.id, fhir.server).start.datetime == chosen.start.datetime

    request = Appointment(
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{chosen.id}"}],
            "participant": [{"actor": {"reference": "Patient/p0050"}, "status": "accepted"}],
            "description": "benefits paperwork",
        }
    )
    created = request.create(fhir.server)
    assert created is not None and created["resourceType"] == "Appointment"
    booked = Appointment.read(created["id"], fhir.server)
    assert booked.status == "booked"
    assert booked.start.datetime == chosen.start.datetime
    actors = {p.actor.reference for p in booked.participant}
    assert {"Patient/p0050", "Practitioner/s006"} <= actors
    assert booked.serviceType[0].coding[0].code == "case_management"

    # The slot is taken: gone from the search, and reading it says so.
    again = {s.id for s in search.perform_resources_iter(fhir.server)}
    assert chosen.id not in again
    gone = requests.get(
        f"{origin}/fhir/r4/Slot/{chosen.id}",
        headers={"Authorization": fhir.server.session.headers["Authorization"]},
        timeout=10,
    )
    assert gone.status_code == 404 and gone.json()["resourceType"] == "OperationOutcome"
    # The booking's own search finds it, and the search is in the access log (door fhir).
    found = list(
        Appointment.where(
            struct={"patient": "Patient/p0050", "date": chosen.start.isostring[:10]}
        ).perform_resources_iter(fhir.server)
    )
    assert created["id"] in {a.id for a in found}
    with demo_db.read() as session:
        reads = [(r.door, r.action) for r in accesses(session, "p0050")]
    assert ("fhir", "fhir.read") in reads


def test_a_refused_booking_is_an_operation_outcome_in_plain_words(
    origin: str, demo_db: Database
) -> None:
    headers = {
        "Authorization": f"Bearer {token(demo_db, DIRECTOR)}",
        "Content-Type": "application/fhir+json",
    }
    slot = requests.get(
        f"{origin}/fhir/r4/Slot",
        params={"schedule": "Schedule/staff-s006", "service-type": "case_management"},
        headers=headers,
        timeout=30,
    ).json()["entry"][0]["resource"]
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot['id']}"}],
        "participant": [{"actor": {"reference": "Patient/p0050"}, "status": "accepted"}],
    }
    first = requests.post(f"{origin}/fhir/r4/Appointment", json=body, headers=headers, timeout=30)
    assert first.status_code == 201, first.text
    assert first.headers["location"].endswith(f"/fhir/r4/Appointment/{first.json()['id']}")
    twice = requests.post(f"{origin}/fhir/r4/Appointment", json=body, headers=headers, timeout=30)
    assert twice.status_code == 409
    issue = twice.json()["issue"][0]
    assert twice.json()["resourceType"] == "OperationOutcome" and issue["code"] == "conflict"
    assert "already has appointment" in issue["details"]["text"]
    assert "Traceback" not in twice.text
    wrong = {**body, "slot": [], "start": "2026-12-01T10:00:00-05:00"}  # no clinician, no type
    refused = requests.post(
        f"{origin}/fhir/r4/Appointment", json=wrong, headers=headers, timeout=30
    )
    assert refused.status_code == 422 and refused.json()["resourceType"] == "OperationOutcome"
    # A rule says no: a case manager may not give a psychiatric evaluation (STF-CREDENTIAL).
    ruled = {
        "resourceType": "Appointment",
        "start": "2026-12-01T10:00:00-05:00",
        "serviceType": [{"coding": [{"code": "psychiatric_evaluation"}]}],
        "participant": [
            {"actor": {"reference": "Patient/p0050"}},
            {"actor": {"reference": "Practitioner/s006"}},
        ],
    }
    no = requests.post(f"{origin}/fhir/r4/Appointment", json=ruled, headers=headers, timeout=30)
    assert no.status_code == 422
    issues = no.json()["issue"]
    assert issues[0]["code"] == "business-rule"
    assert "may not provide psychiatric evaluation" in issues[0]["details"]["text"]
    assert any(i["diagnostics"].startswith("STF-CREDENTIAL: ") for i in issues[1:])


def test_a_role_that_may_not_see_the_patient_gets_403(origin: str, demo_db: Database) -> None:
    with demo_db.session() as session:
        from sqlalchemy import select

        from clinic.models import Patient

        other = session.scalar(select(Patient.id).where(Patient.primary_clinician_id != THERAPIST))
    fhir = smart(origin, token(demo_db, THERAPIST))
    search = Appointment.where(struct={"patient": f"Patient/{other}"})
    with pytest.raises(FHIRPermissionDeniedException) as refused:
        list(search.perform_resources_iter(fhir.server))
    response = refused.value.response
    assert response.status_code == 403
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "forbidden"
    assert "own caseload" in body["issue"][0]["details"]["text"]
    # Others' sessions: time, room and clinician only (no patient, no session type).
    today = list(
        Appointment.where(struct={"date": "2026-11-30"}).perform_resources_iter(fhir.server)
    )
    others = [
        a
        for a in today
        if f"Practitioner/{THERAPIST}" not in {p.actor.reference for p in a.participant}
    ]
    assert others
    for appointment in others:
        assert not any(p.actor.reference.startswith("Patient/") for p in appointment.participant)
        assert appointment.serviceType is None


def test_json_only_tokens_required_and_every_error_an_operation_outcome(
    origin: str, demo_db: Database
) -> None:
    bearer = {"Authorization": f"Bearer {token(demo_db, DIRECTOR)}"}

    def get(path: str, headers: dict[str, str] | None = None, **params: Any) -> requests.Response:
        return requests.get(f"{origin}/fhir/r4/{path}", headers=headers, params=params, timeout=30)

    cases = [
        (get("Slot"), 401),
        (get("Slot", bearer, _format="xml"), 406),
        (get("Slot", {**bearer, "Accept": "application/fhir+xml"}), 406),
        (get("Slot", bearer, _sort="start"), 400),  # not implemented: refused, never ignored
        (get("Slot", bearer, start="next tuesday"), 400),
        (get("Appointment/nope", bearer), 404),
        (get("Nope", bearer), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.url, response.text)
        assert response.headers["content-type"].startswith("application/fhir+json")
        assert response.json()["resourceType"] == "OperationOutcome"
    assert get("Slot", {**bearer, "Accept": "application/json"}, _count="1").status_code == 200
    # Paging: the next link carries on where the page stopped, nothing lost or repeated.
    first = get("Slot", bearer, _count="7").json()
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = requests.get(following, headers=bearer, timeout=30).json()
    ids = [e["resource"]["id"] for page in (first, second) for e in page["entry"]]
    every = [e["resource"]["id"] for e in get("Slot", bearer, _count="14").json()["entry"]]
    assert ids == every and len(set(ids)) == 14 and first["total"] == second["total"]
    assert get("Practitioner/s006", bearer, _format="json").json()["id"] == "s006"
    assert get("Location/facility", bearer).json()["physicalType"]["coding"][0]["code"] == "bu"
    schedule = get("Schedule/staff-s006", bearer).json()
    assert {"reference": "Location/facility"} in schedule["actor"]
    assert any(c["coding"][0]["code"] == "case_management" for c in schedule["serviceType"])


def test_bulk_publish_has_no_patient_data_and_needs_no_token(origin: str) -> None:
    manifest = requests.get(f"{origin}/fhir/r4/$bulk-publish", timeout=30).json()
    assert manifest["request"].endswith("/fhir/r4/$bulk-publish")
    assert datetime.fromisoformat(manifest["transactionTime"]) == NOW
    files = {o["type"]: o["url"] for o in manifest["output"]}
    assert set(files) == {"Location", "Schedule", "Slot"}
    lines: dict[str, list[dict[str, Any]]] = {}
    for kind, url in files.items():
        response = requests.get(url, timeout=60)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        lines[kind] = [json.loads(line) for line in response.text.splitlines()]
        assert lines[kind] and {r["resourceType"] for r in lines[kind]} == {kind}
        assert "Patient/" not in response.text and "p00" not in response.text
    schedules = {f"Schedule/{s['id']}" for s in lines["Schedule"]}
    assert {s["schedule"]["reference"] for s in lines["Slot"]} <= schedules
    starts = [datetime.fromisoformat(s["start"]) for s in lines["Slot"]]
    assert min(starts) >= NOW and max(starts) < datetime(2026, 12, 7, 7, tzinfo=TZ)


def test_bulk_publish_can_be_turned_off(demo_db: Database) -> None:
    with Live(create_app(demo_db, fhir_bulk=BulkSettings(enabled=False))) as url:
        off = requests.get(f"{url}/fhir/r4/$bulk-publish", timeout=10)
        assert off.status_code == 404 and off.json()["resourceType"] == "OperationOutcome"
        statement = requests.get(f"{url}/fhir/r4/metadata", timeout=10).json()
        assert "$bulk-publish" not in json.dumps(statement)


def test_a_failure_inside_is_an_operation_outcome_without_a_trace(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from litestar.testing import TestClient

    from assistant.usecases import directory

    def broken(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(directory, "directory", broken)
    with TestClient(create_app(demo_db)) as test_client:
        headers = {"Authorization": f"Bearer {token(demo_db, DIRECTOR)}"}
        response = test_client.get("/fhir/r4/Practitioner", headers=headers)
    assert response.status_code == 500
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "secret" not in response.text and "Traceback" not in response.text
