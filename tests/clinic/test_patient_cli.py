"""`rota patient …` as an operator types it: records from a file or stdin, errors naming the
field on stderr with a non-zero exit, and nothing written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from clinic.db import Database
from integrations.cli.main import run
from tests.clinic.test_cli import cli_db, out_of  # noqa: F401  (the fixture)


def test_add_show_update_auth_consent_and_discharge(
    cli_db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    record = tmp_path / "maria.yaml"
    record.write_text(
        "id: p7000\nname: Maria Lopez\nlevel_of_care: '2.1'\nneeds: [spanish_speaking]\n"
        "primary_clinician: c007\n"
        "authorizations:\n"
        "  - {id: MCD-1, payer: Medicaid, session_types: [individual], units: 24,\n"
        "     start: '2026-11-30', end: '2027-01-31'}\n"
    )
    assert run(["patient", "add", str(record), "--actor", "s002"]) == 0, out_of(capsys)[1]
    assert "admitted: p7000  Maria Lopez" in out_of(capsys)[0]

    assert run(["patient", "show", "p7000", "--json", "--actor", "s001"]) == 0
    shown = json.loads(out_of(capsys)[0])
    assert shown["patient"]["requirements"][0]["source"] == "level_of_care"
    assert shown["authorizations"][0] == {
        "id": "MCD-1",
        "payer": "Medicaid",
        "start": "2026-11-30",
        "end": "2027-01-31",
        "units": 24,
        "used": 0,
        "booked": 0,
        "left": 24,
    }
    assert run(["patient", "show", "p7000"]) == 0
    assert (
        "MCD-1  Medicaid  2026-11-30..2027-01-31  24 units: 0 used, 0 booked, 24 left"
        in (out_of(capsys)[0])
    )

    monkeypatch.setattr("sys.stdin", io.StringIO('{"level_of_care": "2.5"}'))
    assert run(["patient", "update", "p7000", "-", "--json"]) == 0
    updated = json.loads(out_of(capsys)[0])
    assert updated["requirements"] == [
        {"session_type": "individual", "per_week": 2, "source": "level_of_care"}
    ]

    assert run(["patient", "auth", "adjust", "p7000", "MCD-1", "--units", "30"]) == 0
    assert run(["patient", "auth", "renew", "p7000", "MCD-1", "--start", "2027-02-01",
                "--end", "2027-03-31", "--units", "20", "--id", "MCD-2"]) == 0  # fmt: skip
    out_of(capsys)
    code = run(["patient", "auth", "renew", "p7000", "MCD-1", "--start", "2027-03-01",
                "--end", "2027-04-30", "--units", "20"])  # fmt: skip
    err = out_of(capsys)[1]
    assert code == 2
    assert "$.authorizations[2].start: 2027-03-01..2027-04-30 overlaps MCD-2" in err

    assert run(["patient", "consent", "add", "p7000", "--to", "probation",
                "--what", "attendance", "--until", "2027-06-30", "--json"]) == 0  # fmt: skip
    contact = json.loads(out_of(capsys)[0])["contact"]
    assert contact["consent_disclose_to"] == ["probation"]
    assert run(["patient", "consent", "revoke", "p7000", "--to", "probation", "--json"]) == 0
    assert json.loads(out_of(capsys)[0])["contact"]["consent_disclose_to"] == []

    assert run(["patient", "discharge", "p7000"]) == 2  # --reason is required
    out_of(capsys)
    assert run(["patient", "discharge", "p7000", "--reason", "completed", "--json"]) == 0
    assert json.loads(out_of(capsys)[0])["patient"]["phase"] == "discharged"


def test_a_bad_record_exits_non_zero_naming_the_field(
    cli_db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"name": "X", "primary_clinician": "nobody"}'))
    assert run(["patient", "add", "-", "--actor", "s002"]) == 2
    err = out_of(capsys)[1]
    assert "$.primary_clinician: 'nobody' is not the id of any staff member" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("[1, 2"))
    assert run(["patient", "add", "-"]) == 2
    assert "stdin: not valid YAML" in out_of(capsys)[1]
    assert run(["patient", "show", "p7777"]) == 4
    assert "no patient with id 'p7777'" in out_of(capsys)[1]


def test_add_refuses_a_likely_duplicate_unless_told(
    cli_db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    record = tmp_path / "walk-in.yaml"
    record.write_text("name: Walk In\ncontact: {phone: '555-010-7777'}\n")
    assert run(["patient", "add", str(record), "--actor", "s002"]) == 0, out_of(capsys)[1]
    pid = out_of(capsys)[0].split("admitted: ")[1].split()[0]
    other = tmp_path / "same-phone.yaml"
    other.write_text("name: W. In\ncontact: {phone: '(555) 010 7777'}\n")
    assert run(["patient", "add", str(other), "--actor", "s002"]) == 5
    err = out_of(capsys)[1]
    assert f"Walk In ({pid}) is already a patient with the same phone" in err, err
    assert run(["patient", "add", str(other), "--actor", "s002", "--duplicate-ok"]) == 0
    assert "admitted: " in out_of(capsys)[0]
