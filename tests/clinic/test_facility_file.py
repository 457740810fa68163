"""The facility file: demo sizes round-trip to a fixpoint; bad files are refused whole, clearly."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from clinic.db import Database
from clinic.demo import SIZES, generate_demo
from clinic.facility_file import export_facility, facility_schema, load_facility, validate
from clinic.models import Appointment, Facility, Patient
from integrations.cli.main import run
from tests.clinic.helpers import small_facility

VENDORED = Path(__file__).resolve().parents[2] / "clinic" / "schemas"
# ../shared/contracts beside the checkout (or beside the directory holding the worktrees).
SHARED = next(
    (
        p / "shared" / "contracts"
        for p in Path(__file__).resolve().parents[3:5]
        if (p / "shared" / "contracts").is_dir()
    ),
    None,
)


@pytest.mark.slow
@pytest.mark.parametrize("size", ["s", "m", "l"])
def test_every_demo_size_validates_and_round_trips_to_a_fixpoint(db: Database, size: str) -> None:
    # l with one week of history: its people and plan are what it adds (s and m round-trip
    # twelve weeks), and its twelve weeks (tens of thousands of rows) would cost minutes.
    weeks = 1 if size == "l" else 12
    data = generate_demo(size, seed=3, start=date(2026, 11, 30), history_weeks=weeks)
    assert validate(data) == []
    load_facility(db, data)
    first = export_facility(db)
    assert validate(first) == []
    load_facility(db, first, replace=True)
    second = export_facility(db)
    assert first == second
    assert len(first["patients"]) == SIZES[size].patients
    assert len(first["rooms"]) == len(data["rooms"])
    assert len(first["appointments"]) == len(data["appointments"])
    # The booking lead time survives the round trip.
    assert [a["booked_at"] for a in first["appointments"]] == [
        a["booked_at"] for a in data["appointments"]
    ]


@pytest.mark.slow
def test_demo_xl_validates_loads_and_exports_whole(db: Database) -> None:
    """xl is the same code as l at 1,600 patients: what it adds is size, so its people, rooms
    and booked week (no history) load and export whole once; the fixpoint is l's (above), and
    xl's load time is bench/storage.py's."""
    data = generate_demo("xl", seed=3, start=date(2026, 11, 30), history_weeks=0)
    assert validate(data) == []
    load_facility(db, data)
    exported = export_facility(db)
    assert len(exported["patients"]) == SIZES["xl"].patients
    for section in ("rooms", "appointments"):
        assert len(exported[section]) == len(data[section]), section
    assert {p["id"] for p in exported["patients"]} == {p["id"] for p in data["patients"]}


def test_demo_is_deterministic_and_realistic() -> None:
    # The same size, seed and start give the same file; another seed another (s: the same code
    # draws every size's people and history, four times faster than m).
    same = generate_demo("s", seed=11, start=date(2026, 12, 2))
    assert json.dumps(generate_demo("s", seed=11, start=date(2026, 12, 2))) == json.dumps(same)
    assert json.dumps(generate_demo("s", seed=12, start=date(2026, 12, 2))) != json.dumps(same)
    one = generate_demo("m", seed=11, start=date(2026, 12, 2))
    patients = one["patients"]
    court = sum("court_order" in p for p in patients) / len(patients)
    assert 0.10 <= court <= 0.25  # about 1 in 5 (criminal-justice referrals)
    statuses = {a["status"] for a in one["appointments"]}
    assert {"attended", "no_show", "cancelled", "booked"} <= statuses
    specs = {s for member in one["staff"] for s in member.get("specializations", [])}
    assert {
        "dual_diagnosis",
        "trauma",
        "adolescent",
        "family_systems",
        "mat",
        "womens",
        "spanish_speaking",
    } <= specs
    assert any(p.get("family_contacts") for p in patients)
    assert any(a["used"] > 0 for p in patients for a in p.get("authorizations", []))


def test_yaml_files_load_too(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clinic.yaml"
    path.write_text(yaml.safe_dump(small_facility()))
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    assert run(["load", str(path)]) == 0
    out = tmp_path / "out.yaml"
    assert run(["export", "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["facility"]["name"] == "Test Clinic"


def test_the_loader_reads_the_vendored_facility_schema() -> None:
    assert facility_schema() == json.loads((VENDORED / "facility.schema.json").read_text())


@pytest.mark.parametrize("name", ["facility.schema.json", "request-frame.schema.json"])
def test_vendored_schemas_are_the_contracts(name: str) -> None:
    """The vendored schema says everything the contract says, with the same meaning; it may
    only add fields (new `properties` or `$defs`), never change or drop one."""
    if SHARED is None:
        pytest.skip("../shared/contracts is not beside this checkout")
    vendored = json.loads((VENDORED / name).read_text())
    contract = json.loads((SHARED / name).read_text())
    assert _changes(contract, vendored, "$") == []


def _changes(contract: Any, vendored: Any, path: str, *, may_add: bool = False) -> list[str]:
    """Where the vendored schema departs from the contract other than by adding fields."""
    if isinstance(contract, dict) and isinstance(vendored, dict):
        out = [f"{path}.{key}: dropped" for key in contract if key not in vendored]
        out += [f"{path}.{key}: added" for key in vendored if key not in contract and not may_add]
        for key in contract.keys() & vendored.keys():
            additive = key in ("properties", "$defs")
            out += _changes(contract[key], vendored[key], f"{path}.{key}", may_add=additive)
        return out
    return [] if contract == vendored else [f"{path}: changed"]


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(small_facility())
    data["appointments"] = [
        {
            "id": "a1",
            "session_type": "individual",
            "start": "2026-11-30T09:00:00",
            "minutes": 45,
            "staff": ["t1"],
            "patients": ["p1"],
            "room": "ind-1",
        },
    ]
    change(data)
    return data


BAD_FILES: list[tuple[str, Any, str]] = [
    ("missing-section", lambda d: d.pop("rooms"), "$: 'rooms' is a required property"),
    ("wrong-version", lambda d: d.update(version=2), "$.version: 1 was expected"),
    (
        "bad-room-kind",
        lambda d: d["rooms"][0].update(kind="closet"),
        "$.rooms[0].kind: 'closet' is not one of",
    ),
    (
        "bad-capacity",
        lambda d: d["rooms"][1].update(capacity=0),
        "$.rooms[1].capacity: 0 is less than the minimum of 1",
    ),
    (
        "bad-hours",
        lambda d: d["facility"].update(open="25:00"),
        "$.facility.open: '25:00' does not match",
    ),
    (
        "unknown-field",
        lambda d: d["staff"][0].update(salary=1),
        "$.staff[0]: Additional properties are not allowed ('salary'",
    ),
    (
        "bad-date",
        lambda d: d["patients"][0].update(dob="03/14/1962"),
        "$.patients[0].dob: '03/14/1962' is not a 'date'",
    ),
    (
        "bad-role",
        lambda d: d["staff"][1].update(role="wizard"),
        "$.staff[1].role: 'wizard' is not one of",
    ),
    (
        "duplicate-id",
        lambda d: d["patients"][1].update(id="p1"),
        "$.patients[1].id: 'p1' is used twice in patients",
    ),
    (
        "unknown-clinician",
        lambda d: d["patients"][0].update(primary_clinician="ghost"),
        "$.patients[0].primary_clinician: 'ghost' is not the id of any staff member",
    ),
    (
        "unknown-timezone",
        lambda d: d["facility"].update(timezone="Mars/Olympus"),
        "$.facility.timezone: unknown timezone 'Mars/Olympus'",
    ),
    (
        "period-backwards",
        lambda d: d["staff"][0]["unavailable"][0].update(start="2026-12-05T00:00:00"),
        "$.staff[0].unavailable[0]: end must be after start",
    ),
    (
        "court-order-backwards",
        lambda d: d["patients"][0].update(
            court_order={
                "case_number": "CR-1",
                "start": "2026-12-01",
                "end": "2026-11-01",
                "requirements": [{"session_type": "individual", "per_week": 1}],
            }
        ),
        "$.patients[0].court_order: end date 2026-11-01 is before start date 2026-12-01",
    ),
    (
        "overlapping-appointments",
        lambda d: d["appointments"].append(
            {
                "id": "a2",
                "session_type": "individual",
                "start": "2026-11-30T09:30:00",
                "minutes": 45,
                "staff": ["t1"],
                "patients": ["p2"],
                "room": "ind-2",
            }
        ),
        "$.appointments[1]: overlaps $.appointments[0] for staff member 't1'",
    ),
    (
        "dst-gap",
        lambda d: d["appointments"][0].update(start="2026-03-08T02:30:00"),
        "$.appointments[0].start: 2026-03-08T02:30 does not exist in America/New_York",
    ),
    (
        "group-over-capacity",
        lambda d: d["groups"][0].update(capacity=2),
        "$.groups[0].members: 3 members exceed the capacity of 2",
    ),
    (
        "unknown-session-type",
        lambda d: d["appointments"][0].update(session_type="yoga"),
        "$.appointments[0].session_type: 'yoga' is not the id of any session type",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [(c, e) for _, c, e in BAD_FILES],
    ids=[name for name, _, _ in BAD_FILES],
)
def test_bad_files_are_refused_with_path_and_nothing_written(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    change: Any,
    expected: str,
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(change)))
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    assert run(["load", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err
    with db.session() as session:
        assert session.scalar(select(Facility.id)) is None
        assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_unparseable_file_names_the_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nfacility: {name: x\nrooms: []\n")
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    assert run(["load", str(path)]) == 2
    assert "not valid YAML at line" in capsys.readouterr().err
    assert run(["load", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_replacing_needs_consent_and_a_bad_replacement_keeps_the_old_facility(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_broken(lambda d: None)))
    assert run(["load", str(good)]) == 0
    assert run(["load", str(good)]) == 2
    assert "--replace" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_broken(lambda d: d["rooms"][0].update(kind="closet"))))
    assert run(["load", "--replace", str(bad)]) == 2
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert run(["load", "--replace", str(good)]) == 0
