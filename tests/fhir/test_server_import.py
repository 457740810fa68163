"""`rota fhir import --server`: a whole facility from the local FHIR test server into an empty
database (paging through next links), then incremental syncs: an updated Appointment moves,
a cancelled one is cancelled, a deleted one (410 on read, DELETE in _history) is cancelled, a
new one from the EHR is booked, a patient changed in Rota since the import is a conflict left
alone, and a run that stops part-way resumes at the page it did not finish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from assistant import callers
from assistant.usecases import exchange, patients
from clinic.db import Database
from clinic.errors import RotaError
from integrations.cli.main import run
from integrations.fhir.client import FhirClient, FhirGone, FhirUnavailable
from integrations.fhir.mapping import facility_to_bundle
from integrations.fhir.sync import import_server
from tests.fhir.tiny import NOW, tiny_facility
from tests.fhir_server import FhirTestServer


@pytest.fixture()
def server(set_now: Callable[[datetime], None]) -> Iterator[FhirTestServer]:
    set_now(NOW)
    with FhirTestServer(default_count=2) as fhir:
        for entry in facility_to_bundle(tiny_facility())["entry"]:
            if entry["resource"]["resourceType"] != "Schedule":
                fhir.put(entry["resource"])
        yield fhir


def _import(db: Database, server: FhirTestServer, **options: Any) -> dict[str, Any]:
    with FhirClient(server.base_url, read_retries=0, retry_wait=0) as client:
        report = import_server(
            db,
            callers.for_actor(db, "operator"),
            server.base_url,
            client=client,
            page_size=2,
            **options,
        )
    return report.as_record()


def _appointment(db: Database, rota_id: str) -> dict[str, Any]:
    return exchange.local_record(db, "appointments", rota_id) or {}


def _results(report: dict[str, Any]) -> dict[str, str]:
    return {o["label"]: o["result"] for o in report["outcomes"]}


def test_an_empty_database_gets_the_whole_facility_paging_through_next_links(
    db: Database, server: FhirTestServer
) -> None:
    report = _import(db, server)
    assert report["mode"] == "loaded"
    assert report["counts"] == {
        "rooms": 2,
        "staff": 2,
        "patients": 3,
        "groups": 0,
        "appointments": 5,
    }
    appointment_pages = [s for s in server.requests("GET", "Appointment") if "_offset" in s.query]
    assert len(appointment_pages) == 2  # 5 appointments, 2 a page: the next links were followed
    assert exchange.link_of(db, server.base_url, "Appointment", "a2") == {
        "rota_id": "a2",
        "version_id": "1",
        "last_updated": server.get("Appointment", "a2")["meta"]["lastUpdated"],
        "deleted": False,
    }
    assert exchange.cursor(db, server.base_url, "Appointment").last_updated is not None


def test_an_incremental_sync_applies_moves_cancellations_deletions_and_reports_conflicts(
    db: Database, server: FhirTestServer
) -> None:
    _incremental_sync(db, server)


@pytest.mark.postgres
def test_the_incremental_sync_on_postgresql(pg_db: Database, server: FhirTestServer) -> None:
    _incremental_sync(pg_db, server)


def _incremental_sync(db: Database, server: FhirTestServer) -> None:
    _import(db, server)
    operator = callers.for_actor(db, "operator")
    a2 = server.get("Appointment", "a2")
    server.put({**a2, "start": "2026-12-01T13:00:00-05:00", "end": "2026-12-01T14:00:00-05:00"})
    server.put({**server.get("Appointment", "a3"), "status": "cancelled"})
    server.remove("Appointment", "a4")
    server.put({**server.get("Patient", "p1"), "birthDate": "1990-04-03"})
    server.put({**server.get("Patient", "p2"), "birthDate": "1985-09-18"})
    patients.update(db, operator, patients.Update("p2", {"dob": "1985-01-01"}))
    server.put(  # booked on the EHR: no Rota identifier, its own id
        {
            "resourceType": "Appointment",
            "id": "ehr-77",
            "status": "booked",
            "serviceType": [
                {"coding": [{"system": "urn:rota:tiny-clinic:session-type", "code": "individual"}]}
            ],
            "start": "2026-12-04T09:00:00-05:00",
            "end": "2026-12-04T10:00:00-05:00",
            "participant": [
                {"actor": {"reference": "Practitioner/c2"}, "status": "accepted"},
                {"actor": {"reference": "Patient/p1"}, "status": "accepted"},
                {"actor": {"reference": "Location/r2"}, "status": "accepted"},
            ],
        }
    )
    with FhirClient(server.base_url) as client, pytest.raises(FhirGone):
        client.read("Appointment", "a4")  # what "deleted" means on the server

    report = _import(db, server)

    assert report["mode"] == "synced"
    assert _results(report) == {
        "Patient/p1": "updated",
        "Patient/p2": "conflict",
        "Appointment/a2": "updated",
        "Appointment/a3": "updated",
        "Appointment/ehr-77": "created",
        "Appointment/a4": "cancelled",
    }
    assert _appointment(db, "a2")["start"] == "2026-12-01T13:00:00-05:00"
    assert _appointment(db, "a3")["status"] == "cancelled"
    assert _appointment(db, "a4")["status"] == "cancelled"
    new_id = exchange.link_of(db, server.base_url, "Appointment", "ehr-77")["rota_id"]
    assert _appointment(db, new_id)["staff"] == ["c2"]
    assert exchange.local_record(db, "patients", "p1")["dob"] == "1990-04-03"
    assert exchange.local_record(db, "patients", "p2")["dob"] == "1985-01-01"  # Rota's change stays
    conflict = next(o for o in report["outcomes"] if o["result"] == "conflict")
    assert "changed in Rota" in conflict["detail"]

    again = _import(db, server)  # nothing changed since: nothing asked for comes back
    assert again["counts"] == {} and again["resources"] == 0


def test_a_sync_that_stops_part_way_resumes_at_the_page_it_did_not_finish(
    db: Database, server: FhirTestServer
) -> None:
    _import(db, server)
    moves = {"a2": ("01T08", "01T09"), "a3": ("01T12", "01T13"), "a5": ("03T11", "03T12")}
    for aid, (start, end) in moves.items():  # each moved on the EHR
        record = server.get("Appointment", aid)
        times = {k: f"2026-12-{v}:00:00-05:00" for k, v in (("start", start), ("end", end))}
        server.put({**record, **times})
    calls = {"n": 0}
    original = FhirClient._send

    def flaky(self: FhirClient, method: str, url: str, **kw: Any) -> Any:
        if "Appointment" in url and "_offset=2" in url:
            calls["n"] += 1
            raise FhirUnavailable("503 from the test", status=503)
        return original(self, method, url, **kw)

    FhirClient._send = flaky  # type: ignore[method-assign]
    try:
        with pytest.raises(RotaError):
            _import(db, server)
    finally:
        FhirClient._send = original  # type: ignore[method-assign]
    stopped = exchange.cursor(db, server.base_url, "Appointment")
    assert stopped.next_url is not None and "_offset=2" in stopped.next_url
    assert _appointment(db, "a2")["start"] == "2026-12-01T08:00:00-05:00"  # first page kept
    assert _appointment(db, "a5")["start"] == "2026-12-03T10:00:00-05:00"

    before = len(server.requests("GET", "Appointment"))
    report = _import(db, server)
    resumed = server.requests("GET", "Appointment")[before]
    assert resumed.query.get("_offset") == ["2"]  # started where the last run stopped
    assert _results(report) == {"Appointment/a5": "updated"}
    assert _appointment(db, "a5")["start"] == "2026-12-03T11:00:00-05:00"
    assert exchange.cursor(db, server.base_url, "Appointment").next_url is None


def test_the_command_line_imports_with_the_bearer_token_from_the_environment(
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    set_now: Callable[[datetime], None],
) -> None:
    set_now(NOW)
    monkeypatch.setenv("ROTA_DATABASE_URL", f"sqlite:///{tmp_path / 'rota.sqlite3'}")
    with FhirTestServer(token="s3cret") as fhir:
        for entry in facility_to_bundle(tiny_facility())["entry"]:
            fhir.put(entry["resource"])
        monkeypatch.setenv("ROTA_FHIR_TOKEN", "wrong")
        assert run(["fhir", "import", "--server", fhir.base_url]) != 0
        assert "401" in capsys.readouterr().err
        monkeypatch.setenv("ROTA_FHIR_TOKEN", "s3cret")
        assert run(["fhir", "import", "--server", fhir.base_url]) == 0
        out = capsys.readouterr().out
    assert out.startswith("loaded 15 resources: 2 rooms, 2 staff, 3 patients")
    assert all(s.headers.get("authorization") == "Bearer s3cret" for s in fhir.requests()[-3:])
