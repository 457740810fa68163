"""`rota import csv`: SimplePractice-style clients, then TherapyNotes-style appointments, into
demo s (clock Mon 30 Nov 2026 07:00 New York). A good file goes in whole; a bad file's dry run
names every bad row (row, column, problem, fix) and no run ever leaves part of a file behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinic.db import Database
from clinic.models import Appointment, AuditEvent, Patient
from integrations.cli.main import run

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DATA = Path(__file__).with_name("data")
CLIENTS = ["import", "csv", "--kind", "clients", "--format", "simplepractice"]
APPOINTMENTS = ["import", "csv", "--kind", "appointments", "--format", "therapynotes"]


@pytest.fixture()
def cli(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, set_now: Callable[[datetime], None]
) -> Database:
    set_now(NOW)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    return demo_db


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Patient)) or 0,
            session.scalar(select(func.count()).select_from(Appointment)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_good_files_import_whole_through_the_use_cases(
    cli: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = counts(cli)
    assert run([*CLIENTS, str(DATA / "simplepractice_clients.csv"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "all 3 clients row(s) would be imported" in out and "'Referral Source'" in out
    assert counts(cli) == before  # a dry run writes nothing, not even an audit event
    assert run([*CLIENTS, str(DATA / "simplepractice_clients.csv")]) == 0
    assert "imported 3 clients" in capsys.readouterr().out
    with cli.read() as session:
        jordan = session.scalars(select(Patient).where(Patient.name == "Jordan Whitfield")).one()
        assert (jordan.dob.isoformat() if jordan.dob else None) == "1988-03-14"
        assert (jordan.sex, jordan.mrn, jordan.primary_clinician_id) == (
            "female",
            "SP-1001",
            "c004",
        )
        assert (jordan.contact or {}).get("phone") == "555-201-7788"
        riley = session.scalars(select(Patient).where(Patient.name == "Riley Santos")).one()
        assert riley.primary_clinician_id == "c003"  # "Amanda Diaz, LCSW"
        admitted = session.scalar(select(func.count()).where(AuditEvent.action == "patient.admit"))
    assert admitted == 3

    assert run([*APPOINTMENTS, str(DATA / "therapynotes_appointments.csv")]) == 0
    out = capsys.readouterr().out
    assert "skipped row 5: status 'Canceled'" in out and "imported 3 appointments" in out
    with cli.read() as session:
        booked = list(
            session.scalars(
                select(Appointment)
                .where(Appointment.created_by == "operator")
                .order_by(Appointment.start)
            )
        )
        assert [a.start.isoformat() for a in booked] == [
            "2027-01-12T14:00:00+00:00",  # 9:00 AM in New York
            "2027-01-12T15:00:00+00:00",
            "2027-01-13T19:00:00+00:00",  # 2:00 PM
        ]
        assert [a.staff_ids for a in booked] == [["c004"], ["c004"], ["c003"]]
        assert {a.session_type_id for a in booked} == {"individual"}  # by name and by CPT
        assert booked[0].room_id == "ind-1" and booked[0].minutes == 45
        books = session.scalar(select(func.count()).where(AuditEvent.action == "appointment.book"))
    assert books == 3


def test_a_bad_files_dry_run_names_every_bad_row_and_nothing_is_half_written(
    cli: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([*CLIENTS, str(DATA / "simplepractice_clients.csv")]) == 0
    capsys.readouterr()
    before = counts(cli)
    bad = str(DATA / "therapynotes_appointments_bad.csv")
    for args in ([*APPOINTMENTS, bad, "--dry-run"], [*APPOINTMENTS, bad]):
        assert run(args) == 2
        err = capsys.readouterr().err
        assert "7 of 8 row(s) would fail; nothing was written" in err
        lines = [line for line in err.splitlines() if line.startswith("  - row ")]
        assert [line.split(",")[0] for line in lines] == [
            f"  - row {n}" for n in (2, 3, 4, 5, 6, 7, 9)
        ]
        assert "row 2, column 'Clinician': no clinician named 'Brian Romeo'" in err
        assert "did you mean 'Brian Romero'? Otherwise write" in err
        assert (
            "row 3, column 'Date': '13/45/2027' is not a date; fix: write it as MM/DD/YYYY" in err
        )
        assert "row 4, column 'Start Time': '25:00' is not a time" in err
        assert "row 5, column 'Patient': no patient named 'Nobody Known'" in err
        assert "row 6, column 'Service Type': no session type named 'Yoga'" in err
        assert "row 7, column 'Location': no room named 'Broom closet'" in err
        assert (
            "row 9, column 'Start Time': Amanda Diaz (c003) already has the session of row 8" in err
        )
        assert "  - row 8" not in err
        assert counts(cli) == before  # the good row 8 was not written either

    bad_clients = str(DATA / "simplepractice_clients_bad.csv")
    assert run([*CLIENTS, bad_clients, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "row 2, column 'Legal First Name': Jordan Whitfield is already a patient" in err
    assert "row 3, column 'Legal First Name': Elizabeth Cabrera is already a patient" in err
    assert "row 4, column 'Date of Birth': '02/30/1990' is not a date" in err
    assert "row 5, column 'Date of Birth': '4/1/85' has a two-digit year" in err
    assert "row 6, column 'Sex': 'Robot' is not a sex Rota records" in err
    assert "row 7, column 'Primary Clinician': no clinician named 'Dr. Nobody'" in err
    assert "  - row 8" not in err  # a blank line
    assert "row 9, column 'Legal First Name': Jordan Whitfield is already a patient" in err
    assert run([*CLIENTS, bad_clients]) == 2
    capsys.readouterr()
    assert counts(cli) == before


def test_a_file_without_a_needed_column_is_refused_before_any_row(
    cli: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Date,Time,Client,Service\n01/12/2027,9:00 AM,Jordan Whitfield,90834\n")
    assert (
        run(["import", "csv", "--kind", "appointments", "--format", "simplepractice", str(path)])
        == 2
    )
    assert "needs the column(s) 'Clinician'" in capsys.readouterr().err


def test_a_row_that_repeats_an_earlier_row_of_the_file_names_that_row(
    cli: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([*CLIENTS, str(DATA / "simplepractice_clients_bad.csv"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "  - row 2" not in err  # Jordan Whitfield is new here
    assert "row 9, column 'Legal First Name': Jordan Whitfield is already a patient (row 2," in err
