"""`rota load` books a file's appointments through the booking service's own checks and rule packs:
every violation listed with its JSON path, nothing written; history is imported as recorded."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from assistant.wiring import load_facility_file
from clinic.db import Database
from clinic.demo import generate_demo
from clinic.errors import InvalidInput
from clinic.facility_file import load_facility, validate
from clinic.models import Appointment, Facility
from integrations.cli.main import run
from tests.clinic.helpers import TZ, small_facility

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo(TZ))  # Monday noon


def _file(*appointments: dict[str, Any], change: Any = None) -> dict[str, Any]:
    data = copy.deepcopy(small_facility())
    data["appointments"] = [
        {
            "id": f"a{i + 1}",
            "session_type": "individual",
            "minutes": 45,
            "staff": ["t1"],
            "patients": [f"p{i + 1}"],
            **appt,
        }
        for i, appt in enumerate(appointments)
    ]
    if change:
        change(data)
    return data


# Each booking the booking service would refuse, and the words it refuses it with. The file
# itself is valid (validate() finds nothing): only the booking's checks catch these.
REFUSED: list[tuple[str, dict[str, Any], Any, str]] = [
    (
        "facility-hours",
        {"start": "2026-12-01T07:00:00", "room": "ind-1"},
        None,
        "is outside facility hours (mon, tue, wed, thu, fri 08:00–18:00",
    ),
    (
        "closed-day",
        {"start": "2026-12-05T10:00:00", "room": "ind-1"},
        None,
        "2026-12-05T10:00-05:00–10:45 is outside facility hours",
    ),
    (
        "start-grid",
        {"start": "2026-12-01T09:10:00", "room": "ind-1"},
        None,
        "is not on the facility's 15-minute grid",
    ),
    (
        "clinician-hours",
        {"start": "2026-12-01T10:00:00", "staff": ["md1"], "room": "ind-1"},
        None,
        "Dr. Lena Raman (md1) does not work at 2026-12-01T10:00-05:00–10:45",
    ),
    (
        "clinician-absence",
        {"start": "2026-12-03T10:00:00", "room": "ind-1"},
        None,
        "Tara Quinn (t1) is unavailable at 2026-12-03T10:00-05:00–10:45 (training)",
    ),
    (
        "room-kind",
        {"start": "2026-12-01T10:00:00", "room": "grp-1"},
        None,
        "Group room (grp-1) is a group room; this session needs individual or telehealth",
    ),
    (
        "room-capacity",
        {"start": "2026-12-01T10:00:00", "room": "ind-1"},
        lambda d: d["rooms"][0].update(capacity=1),
        "Office 1 (ind-1) holds 1 people, not 2",
    ),
    (
        "room-closure",
        {"start": "2026-12-02T09:00:00", "room": "ind-2"},
        None,
        "Office 2 (ind-2) is closed (painting) at 2026-12-02T09:00-05:00–09:45",
    ),
    (
        "patients-per-session",
        {"start": "2026-12-01T10:00:00", "patients": ["p1", "p2"], "room": "ind-1"},
        None,
        "a individual session takes 1–1 patients, not 2",
    ),
]


@pytest.mark.parametrize(
    ("appointment", "change", "expected"),
    [(a, c, e) for _, a, c, e in REFUSED],
    ids=[name for name, *_ in REFUSED],
)
def test_a_booking_the_service_would_refuse_is_refused_by_the_load(
    db: Database, appointment: dict[str, Any], change: Any, expected: str
) -> None:
    data = _file(appointment, change=change)
    assert validate(data) == []
    with pytest.raises(InvalidInput) as caught:
        load_facility(db, data, now=NOW)
    (problem,) = caught.value.problems
    assert problem.startswith("$.appointments[0]: ") and expected in problem, problem
    with db.session() as session:
        assert session.scalar(select(Facility.id)) is None


def test_every_violation_is_listed_and_nothing_is_written(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _file(
        {"start": "2026-12-01T09:00:00", "room": "ind-1"},  # fine
        {"start": "2026-12-01T07:00:00", "room": "ind-2"},  # before opening
        {"start": "2026-12-03T10:00:00", "room": "ind-1"},  # t1 away (training)
        {"start": "2026-12-01T11:00:00", "room": "grp-1"},  # wrong kind of room
        {"start": "2099-12-01T12:00:00", "room": "ind-1", "status": "attended"},  # not yet
    )
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    assert run(["load", str(path)]) == 2
    err = capsys.readouterr().err
    assert "the facility file has 4 problem(s)" in err, err
    for index in (1, 2, 3, 4):
        assert f"  - $.appointments[{index}]: " in err
    assert "$.appointments[0]" not in err
    assert "Traceback" not in err
    assert run(["load", "--check", str(path)]) == 2
    assert "the facility file has 4 problem(s)" in capsys.readouterr().err
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0
        assert session.scalar(select(Facility.id)) is None


def test_each_booking_sees_the_ones_before_it_and_rooms_are_chosen_as_the_service_would(
    db: Database,
) -> None:
    data = _file(
        {"start": "2026-12-01T09:00:00"},  # no room: the service picks the first free one
        {"start": "2026-12-01T09:00:00", "staff": ["t2"]},
    )
    load_facility(db, data, now=NOW)
    with db.session() as session:
        rooms = dict(session.execute(select(Appointment.id, Appointment.room_id)).all())
    assert rooms == {"a1": "ind-1", "a2": "ind-2"}


def test_the_rule_packs_judge_every_booking_of_the_file(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A therapist (LCSW) may not prescribe: the hard checks let it through, the rules do not.
    data = _file(
        {"start": "2026-12-01T09:00:00", "session_type": "medication_management", "room": "med-1"}
    )
    with pytest.raises(InvalidInput) as caught:
        load_facility_file(db, data)
    assert caught.value.problems[0].startswith("$.appointments[0]: Not allowed.")
    assert "STF-CREDENTIAL" in caught.value.problems[0]
    load_facility(db, data, now=NOW)  # the clinic alone has no rules: the door must wire them
    path = tmp_path / "rx.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    assert run(["load", "--replace", str(path)]) == 2
    assert "STF-CREDENTIAL" in capsys.readouterr().err


def test_history_is_imported_as_recorded(db: Database) -> None:
    # Last month the psychiatrist worked Tuesdays and the room had no closure rule: what
    # happened is recorded, not re-judged against today's hours.
    past = {"start": "2026-11-03T10:00:00", "staff": ["md1"], "room": "ind-1"}
    for status in ("attended", "no_show", "cancelled", "late_cancelled"):
        data = _file({**past, "status": status})
        load_facility_file(db, data, replace=True)
        with db.session() as session:
            assert session.scalar(select(Appointment.status)) == status
    with pytest.raises(InvalidInput) as caught:
        load_facility(db, _file({**past, "status": "booked"}), replace=True, now=NOW)
    assert "Dr. Lena Raman (md1) does not work at" in caught.value.problems[0]


def test_an_outcome_before_the_session_started_is_refused(db: Database) -> None:
    data = _file({"start": "2026-12-01T09:00:00", "room": "ind-1", "status": "no_show"})
    with pytest.raises(InvalidInput) as caught:
        load_facility(db, data, now=NOW)
    assert caught.value.problems == [
        "$.appointments[0]: appointment a1 has not started yet; it cannot be no_show"
    ]
    later = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo(TZ))
    assert load_facility(db, data, now=later)["appointments"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("size", ["s"])
def test_demo_facilities_load_through_the_rule_packs(db: Database, size: str) -> None:
    # Demo m loads through the rule packs, every appointment, in
    # tests/solver/test_plans_book.py (`rota demo --load --size m`, before its plan): one
    # load of m for the suite instead of two.
    data = generate_demo(size, seed=7, start=date(2026, 11, 30))
    counts = load_facility_file(db, data)
    assert counts["appointments"] == len(data["appointments"])


@pytest.mark.slow
def test_a_demo_anchored_in_the_future_loads_with_its_history_before_its_start(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    assert run(["demo", "--load", "--start", "2099-01-05"]) == 0
    with db.session() as session:
        attended = session.scalar(
            select(func.max(Appointment.start)).where(Appointment.status == "attended")
        )
    assert attended is not None and attended.year == 2099


def test_check_runs_every_booking_check_and_leaves_the_loaded_facility_alone(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    first = tmp_path / "first.json"
    first.write_text(json.dumps(_file({"start": "2026-12-01T09:00:00", "room": "ind-1"})))
    assert run(["load", str(first)]) == 0
    other = _file({"start": "2026-12-01T10:00:00", "room": "ind-2"})
    other["facility"]["name"] = "Other Clinic"
    second = tmp_path / "second.json"
    second.write_text(json.dumps(other))
    capsys.readouterr()
    assert run(["load", "--check", str(second)]) == 0
    assert "valid (" in capsys.readouterr().out
    with db.session() as session:
        assert session.scalar(select(Facility.name)) == "Test Clinic"
        assert session.scalar(select(Appointment.start)).hour == 14  # 09:00 New York, in UTC
