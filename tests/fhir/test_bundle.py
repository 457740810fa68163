"""`rota fhir export` and `rota fhir import --bundle`: the facility as a FHIR R4 Bundle and back.

The round trip (facility → Bundle → fresh database → Bundle, identical but for the timestamp)
is checked on demo s here and on demo m in test_bundle_m.py (a file of its own, so another
test worker takes it); l's is in bench/fhir_import.py. A bad
Bundle names the resource and the field, exits non-zero and leaves the database empty."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from assistant import callers
from assistant.usecases import exchange, records
from assistant.wiring import load_facility_file
from clinic.db import Database, open_database
from clinic.demo import generate_demo
from clinic.errors import InvalidInput
from integrations.cli.main import run
from integrations.fhir.bundle import export_bundle, import_bundle
from integrations.fhir.mapping import facility_to_bundle
from tests.conftest import DEMO_START
from tests.fhir.tiny import NOW, tiny_facility


def _resource(bundle: dict[str, Any], rtype: str, rid: str) -> dict[str, Any]:
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == rtype and e["resource"]["id"] == rid
    )


def _without_timestamp(bundle: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bundle.items() if k != "timestamp"}


def round_trip(
    tmp_path: Path, size: str, history_weeks: int = 12
) -> tuple[dict[str, Any], Database]:
    """Demo `size` (with `history_weeks` of history) → Bundle → a fresh database → Bundle
    again, asserted equal but for their timestamps; returns the first Bundle and the database
    it came from."""
    first = open_database(f"sqlite:///{tmp_path / 'first.sqlite3'}")
    data = generate_demo(size, 7, DEMO_START, history_weeks=history_weeks)
    load_facility_file(first, data, as_of=DEMO_START)
    bundle = export_bundle(first, callers.for_actor(first, "operator"))
    second = open_database(f"sqlite:///{tmp_path / 'second.sqlite3'}")
    report = import_bundle(second, callers.for_actor(second, "operator"), bundle, source="test")
    again = export_bundle(second, callers.for_actor(second, "operator"))
    assert report.mode == "loaded" and report.warnings == []
    assert _without_timestamp(again) == _without_timestamp(bundle)
    second.dispose()
    return bundle, first


@pytest.mark.slow
def test_demo_s_round_trips_through_a_bundle_into_a_fresh_database(
    tmp_path: Path, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)  # the demo's anchor, DEMO_START, is today
    bundle, first = round_trip(tmp_path, "s")
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds >= {
        "Patient", "Practitioner", "PractitionerRole", "Location", "HealthcareService",
        "Schedule", "Appointment", "Coverage", "RelatedPerson", "Group",
    }  # fmt: skip
    exported = [e for e in records.audit_events(first, callers.for_actor(first, "operator"))]
    assert any(e["action"] == "facility.export" for e in exported)  # a disclosure, audited
    first.dispose()


def test_the_mapping_speaks_fhir_where_fhir_has_a_word() -> None:
    data = tiny_facility()
    data["patients"][0]["authorizations"] = [
        {"id": "AUTH-1", "payer": "Aetna", "session_types": ["individual"], "units": 12,
         "start": "2026-11-01", "end": "2027-01-31"}
    ]  # fmt: skip
    data["patients"][0]["family_contacts"] = [{"name": "Rosa Moreno", "relation": "mother"}]
    data["appointments"][2]["status"] = "late_cancelled"
    bundle = facility_to_bundle(data)

    role = _resource(bundle, "PractitionerRole", "c1")
    assert role["practitioner"]["reference"] == "Practitioner/c1"
    assert role["availableTime"] == [
        {"daysOfWeek": ["mon", "tue", "wed", "thu", "fri"],
         "availableStartTime": "08:00:00", "availableEndTime": "18:00:00"}
    ]  # fmt: skip
    assert role["specialty"][0]["coding"][0]["code"] == "trauma"
    patient = _resource(bundle, "Patient", "p1")
    assert patient["identifier"][0] == {
        "use": "usual", "system": "urn:rota:tiny-clinic:patient", "value": "p1",
    }  # fmt: skip
    assert patient["birthDate"] == "1990-04-02"
    assert patient["telecom"] == [{"system": "phone", "value": "+15555550101", "use": "mobile"}]
    coverage = _resource(bundle, "Coverage", "AUTH-1")
    assert coverage["payor"] == [{"display": "Aetna"}]
    assert coverage["beneficiary"]["reference"] == "Patient/p1"
    assert coverage["period"] == {"start": "2026-11-01", "end": "2027-01-31"}
    related = _resource(bundle, "RelatedPerson", "p1-contact-1")
    assert related["relationship"][0]["coding"][0]["code"] == "MTH"
    room = _resource(bundle, "Location", "r1")
    assert room["partOf"]["reference"] == "Location/facility"
    appointment = _resource(bundle, "Appointment", "a2")
    assert appointment["status"] == "booked"
    assert appointment["start"] == "2026-12-01T09:00:00-05:00"
    assert appointment["end"] == "2026-12-01T10:00:00-05:00"
    assert [p["actor"]["reference"] for p in appointment["participant"]] == [
        "Practitioner/c1", "Patient/p1", "Location/r1",
    ]  # fmt: skip
    assert appointment["serviceType"][0]["coding"][0]["code"] == "individual"
    late = _resource(bundle, "Appointment", "a3")
    assert late["status"] == "cancelled"
    assert late["cancelationReason"]["coding"][0]["code"] == "late"
    schedules = {r["resource"]["id"] for r in bundle["entry"]
                 if r["resource"]["resourceType"] == "Schedule"}  # fmt: skip
    assert schedules == {"staff-c1", "staff-c2", "room-r1", "room-r2"}


def test_export_from_to_keeps_the_appointments_of_those_days(
    db: Database, tmp_path: Path, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    load_facility_file(db, tiny_facility())
    bundle = export_bundle(
        db,
        callers.for_actor(db, "operator"),
        start=datetime(2026, 12, 1).date(),
        end=datetime(2026, 12, 2).date(),
    )
    ids = [e["resource"]["id"] for e in bundle["entry"]
           if e["resource"]["resourceType"] == "Appointment"]  # fmt: skip
    assert ids == ["a2", "a3", "a4"]
    assert _resource(bundle, "Schedule", "staff-c1")["planningHorizon"] == {
        "start": "2026-12-01", "end": "2026-12-02",
    }  # fmt: skip


def _bundle_file(tmp_path: Path, bundle: dict[str, Any]) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda b: _resource(b, "Patient", "p2").update(birthDate="1985-13-45"),
         ["Patient/p2", "Patient.birthDate"]),
        (lambda b: _resource(b, "Appointment", "a4").update(status="someday"),
         ["Appointment/a4", "Appointment.status", "someday"]),
        (lambda b: _resource(b, "Appointment", "a5")["participant"][0].update(
            actor={"reference": "Practitioner/ghost"}),
         ["Appointment/a5", "ghost"]),
        (lambda b: _resource(b, "Coverage", "AUTH-9").pop("beneficiary"),
         ["Coverage/AUTH-9", "beneficiary"]),
    ],
)  # fmt: skip
def test_a_bad_bundle_names_the_resource_and_field_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[dict[str, Any]], Any],
    named: list[str],
) -> None:
    data = tiny_facility()
    data["patients"][1]["authorizations"] = [
        {"id": "AUTH-9", "payer": "Aetna", "session_types": ["individual"], "units": 4,
         "start": "2026-11-01", "end": "2027-01-31"}
    ]  # fmt: skip
    bundle = facility_to_bundle(data)
    damage(bundle)
    url = f"sqlite:///{tmp_path / 'rota.sqlite3'}"
    monkeypatch.setenv("ROTA_DATABASE_URL", url)

    code = run(["fhir", "import", "--bundle", str(_bundle_file(tmp_path, bundle))])

    err = capsys.readouterr().err
    assert code == 2, err
    for words in named:
        assert words in err
    assert "Traceback" not in err
    assert exchange.is_empty(open_database(url))  # nothing half-written


def test_a_bundle_into_a_living_facility_goes_record_by_record(
    db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    load_facility_file(db, tiny_facility())
    changed = copy.deepcopy(tiny_facility())
    changed["patients"][0]["dob"] = "1990-04-05"
    changed["patients"].append({"id": "p9", "name": "Drew Park", "dob": "2000-02-02"})
    changed["appointments"].append(
        {"id": "ehr-1", "session_type": "individual", "start": "2026-12-04T09:00:00-05:00",
         "minutes": 60, "staff": ["c1"], "patients": ["p9"], "room": "r1"}
    )  # fmt: skip
    operator = callers.for_actor(db, "operator")

    report = import_bundle(db, operator, facility_to_bundle(changed), source="test")

    results = {o.label: o.result for o in report.outcomes if o.result != "unchanged"}
    assert report.mode == "merged"
    assert results == {
        "Patient/p1": "updated", "Patient/p9": "created", "Appointment/ehr-1": "created",
    }  # fmt: skip
    assert exchange.local_record(db, "patients", "p1")["dob"] == "1990-04-05"


def test_not_a_bundle_is_said_plainly(db: Database) -> None:
    with pytest.raises(InvalidInput, match="not a FHIR Bundle"):
        import_bundle(
            db, callers.for_actor(db, "operator"), {"resourceType": "Patient"}, source="x"
        )


def test_a_record_not_applied_is_listed_and_the_command_exits_1(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    set_now: Callable[[datetime], None],
) -> None:
    set_now(NOW)
    load_facility_file(db, tiny_facility())
    changed = tiny_facility()
    changed["rooms"].append({"id": "r9", "name": "Annex", "kind": "individual", "capacity": 3})
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)

    code = run(
        ["fhir", "import", "--bundle", str(_bundle_file(tmp_path, facility_to_bundle(changed)))]
    )

    out = capsys.readouterr().out
    assert code == 1
    assert "refused Location/r9: a new room is added with the facility file" in out
