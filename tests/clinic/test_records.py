"""One record checked as strictly as the facility file, with paths relative to the record."""

from __future__ import annotations

from clinic.db import Database
from clinic.facility_file import record_problems


def _first(db: Database, section: str) -> dict:
    from clinic.facility_file import facility_data

    with db.read() as session:
        return facility_data(session, appointments=False)[section][0]


def test_a_good_new_patient_has_no_problems(demo_db: Database) -> None:
    clinician = _first(demo_db, "staff")["id"]
    with demo_db.read() as session:
        assert (
            record_problems(
                session,
                "patients",
                {"id": "p-new", "name": "Maria Lopez", "primary_clinician": clinician},
            )
            == []
        )


def test_problems_name_the_field_relative_to_the_record(demo_db: Database) -> None:
    existing = _first(demo_db, "patients")["id"]
    record = {
        "id": existing,
        "name": "Maria Lopez",
        "level_of_care": "9.9",
        "primary_clinician": "nobody",
        "authorizations": [
            {
                "payer": "Medicaid",
                "session_types": ["individual"],
                "units": 24,
                "start": "2027-01-31",
                "end": "2026-12-01",
            }
        ],
    }
    with demo_db.read() as session:
        schema = record_problems(session, "patients", record)
        assert schema == [f"$.level_of_care: '9.9' is not one of {schema[0].split('one of ')[1]}"]
        record["level_of_care"] = "2.1"
        problems = record_problems(session, "patients", record)
    assert f"$.id: {existing!r} is used twice in patients" in problems
    assert "$.primary_clinician: 'nobody' is not the id of any staff member in staff" in problems
    assert any(p.startswith("$.authorizations[0]: end date 2026-12-01 is before") for p in problems)


def test_an_update_replaces_the_record_it_names(demo_db: Database) -> None:
    patient = _first(demo_db, "patients")
    with demo_db.read() as session:
        assert record_problems(session, "patients", patient, replaces=patient["id"]) == []
        assert record_problems(
            session, "patients", {**patient, "primary_clinician": "x"}, replaces=patient["id"]
        ) == ["$.primary_clinician: 'x' is not the id of any staff member in staff"]
