"""The independent plan validator (bench/validate_plan.py) catches every violation kind it names
on a hand-made bad plan, passes the good one, and never imports the solver or the assistant."""

from __future__ import annotations

import ast
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.validate_plan import KINDS, main, validate_plan

ROOT = Path(__file__).resolve().parents[2]

Plan = dict[str, Any]
Facility = dict[str, Any]

FACILITY: Facility = {
    "version": 1,
    "facility": {"name": "Test", "timezone": "America/New_York", "open": "08:00", "close": "18:00"},
    "rooms": [
        {"id": "ind-1", "name": "I1", "kind": "individual", "capacity": 2},
        {"id": "ind-2", "name": "I2", "kind": "individual", "capacity": 2,
         "unavailable": [{"start": "2026-12-08T00:00", "end": "2026-12-09T00:00"}]},
        {"id": "fam-1", "name": "F1", "kind": "family", "capacity": 3},
        {"id": "grp-1", "name": "G1", "kind": "group", "capacity": 5},
    ],
    "staff": [
        {"id": "c1", "name": "A", "role": "therapist", "credentials": ["LCSW"],
         "specializations": ["trauma"], "max_minutes_per_week": 240,
         "availability": {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
         "unavailable": [{"start": "2026-12-10T00:00", "end": "2026-12-11T00:00"}]},
        {"id": "c2", "name": "B", "role": "therapist", "credentials": ["LPC"]},
        {"id": "m1", "name": "C", "role": "case_manager"},
    ],
    "patients": [
        {"id": "p1", "name": "P1", "needs": ["trauma"], "primary_clinician": "c1",
         "requirements": [{"session_type": "individual", "per_week": 2}],
         "availability": {"mon": ["08:00-18:00"], "tue": ["08:00-18:00"], "wed": ["12:00-18:00"]},
         "family_contacts": [{"name": "F", "availability": {"mon": ["09:00-12:00"]}}]},
        {"id": "p2", "name": "P2", "requirements": [{"session_type": "individual", "per_week": 1}]},
        {"id": "p3", "name": "P3"},
        {"id": "p4", "name": "P4"},
    ],
    "groups": [
        {"id": "g1", "name": "G", "session_type": "group", "facilitators": ["c2"],
         "members": ["p2", "p3"], "capacity": 2, "sessions_per_week": 2, "min_days_apart": 1,
         "availability": {d: ["08:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri")}},
    ],
    "appointments": [
        {"id": "old-1", "session_type": "individual", "start": "2026-12-09T13:00", "minutes": 45,
         "staff": ["c2"], "patients": ["p4"], "room": "ind-1"},
    ],
}  # fmt: skip


def appt(id_: str, session_type: str, start: str, minutes: int, staff: list[str],
         patients: list[str], room: str | None, group: str | None = None) -> dict[str, Any]:  # fmt: skip
    record: dict[str, Any] = {
        "id": id_, "session_type": session_type, "start": start, "minutes": minutes,
        "staff": staff, "patients": patients, "status": "proposed", "pinned": False,
    }  # fmt: skip
    if room:
        record["room"] = room
    if group:
        record["group"] = group
    return record


def good_plan() -> Plan:
    return {
        "version": 1,
        "period": {"start": "2026-12-07T00:00-05:00", "end": "2026-12-14T00:00-05:00"},
        "appointments": [
            appt("a1", "individual", "2026-12-07T08:00-05:00", 45, ["c1"], ["p1"], "ind-1"),
            appt("a2", "individual", "2026-12-08T09:00-05:00", 45, ["c1"], ["p1"], "ind-1"),
            appt("a3", "individual", "2026-12-07T08:00-05:00", 45, ["c2"], ["p2"], "ind-2"),
            appt("g-a", "group", "2026-12-07T09:00-05:00", 90, ["c2"], ["p2", "p3"], "grp-1", "g1"),
            appt("g-b", "group", "2026-12-09T09:00-05:00", 90, ["c2"], ["p2", "p3"], "grp-1", "g1"),
        ],
        "unmet": [],
        "metrics": {"required_sessions": 5, "placed_sessions": 5,
                    "staff_utilization": 0.1, "room_utilization": 0.1},
        "solver": {"status": "OPTIMAL", "seconds": 1.0},
    }  # fmt: skip


def _set(index: int, **fields: Any) -> Callable[[Plan, Facility], None]:
    def change(plan: Plan, _facility: Facility) -> None:
        plan["appointments"][index].update(fields)

    return change


def _add(record: dict[str, Any]) -> Callable[[Plan, Facility], None]:
    def change(plan: Plan, _facility: Facility) -> None:
        plan["appointments"].append(record)

    return change


def _facility(change: Callable[[Facility], None]) -> Callable[[Plan, Facility], None]:
    def apply(_plan: Plan, facility: Facility) -> None:
        change(facility)

    return apply


BAD: dict[str, Callable[[Plan, Facility], None]] = {
    # a3 moved onto c1's a1 (c1 also lacks nothing: only the double booking is new)
    "staff_double_booked": _set(2, staff=["c1"], patients=["p3"]),
    "patient_double_booked": _set(2, patients=["p1"], staff=["c1"], room="ind-2",
                                  start="2026-12-08T09:00-05:00"),
    "room_double_booked": _set(2, room="ind-1"),
    "unknown_reference": _set(2, staff=["nobody"]),
    "session_length": _set(2, minutes=60),
    "too_many_patients": _set(2, patients=["p2", "p4"]),
    "opening_hours": _set(2, start="2026-12-12T10:00-05:00"),
    "staff_unavailable": _set(1, start="2026-12-10T09:00-05:00"),
    "patient_unavailable": _set(1, start="2026-12-09T09:00-05:00"),
    "group_unavailable": _set(4, start="2026-12-09T13:00-05:00"),
    "family_unavailable": _add(
        appt("f1", "family", "2026-12-08T09:00-05:00", 50, ["c1"], ["p1"], "fam-1")),
    "room_missing": _set(2, room=None),
    "room_kind": _set(2, room="fam-1"),
    "room_capacity": _add(
        appt("f2", "family", "2026-12-07T11:00-05:00", 50, ["c1", "c2"], ["p1"], "fam-1")),
    "room_closed": _set(2, start="2026-12-08T08:00-05:00"),
    "credentials": _add(
        appt("x1", "individual", "2026-12-11T08:00-05:00", 45, ["m1"], ["p3"], "ind-1")),
    "needs": _set(1, staff=["c2"]),
    "group_roster": _set(3, patients=["p2", "p4"]),
    "group_capacity": _facility(lambda f: f["groups"][0].update(capacity=1)),
    "group_days_apart": _set(4, start="2026-12-07T10:30-05:00"),
    "group_schedule": _facility(
        lambda f: f["groups"][0].update(schedule=[{"day": "mon", "start": "09:00"}])),
    "group_over_demand": _add(
        appt("g-c", "group", "2026-12-11T09:00-05:00", 90, ["c2"], ["p2", "p3"], "grp-1", "g1")),
    "staff_weekly_minutes": _facility(lambda f: f["staff"][0].update(max_minutes_per_week=60)),
    "over_demand": _add(
        appt("a4", "individual", "2026-12-11T09:00-05:00", 45, ["c2"], ["p2"], "ind-2")),
}  # fmt: skip


def test_the_good_plan_passes_and_counts_demand() -> None:
    report = validate_plan(FACILITY, good_plan())
    assert report.total == 0, report.details
    # p1 2 + p2 1 individual, g1 2 meetings; the facility's own old-1 is not new.
    assert (report.required, report.placed, report.new_appointments) == (5, 5, 5)


def test_every_kind_has_a_bad_plan() -> None:
    assert set(BAD) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_violation_kind_is_caught(kind: str) -> None:
    plan, facility = good_plan(), copy.deepcopy(FACILITY)
    BAD[kind](plan, facility)
    report = validate_plan(facility, plan)
    assert report.violations[kind] >= 1, report.details


def test_a_missing_session_is_short_not_a_violation() -> None:
    plan = good_plan()
    plan["appointments"].pop(1)
    report = validate_plan(FACILITY, plan)
    assert report.total == 0
    assert report.required - report.placed == 1


def test_existing_appointments_count_for_double_booking() -> None:
    plan = good_plan()
    plan["appointments"].append(
        appt("a5", "individual", "2026-12-09T13:15-05:00", 45, ["c2"], ["p3"], "ind-2")
    )
    assert validate_plan(FACILITY, plan).violations["staff_double_booked"] == 1


def test_command_line_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fac, good, bad = tmp_path / "f.json", tmp_path / "good.json", tmp_path / "bad.json"
    fac.write_text(json.dumps(FACILITY))
    good.write_text(json.dumps(good_plan()))
    plan = good_plan()
    plan["appointments"][2]["room"] = "ind-1"
    bad.write_text(json.dumps(plan))
    assert main([str(fac), str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["hard_violations"] == 0
    assert main([str(fac), str(bad)]) == 1
    assert json.loads(capsys.readouterr().out)["by_kind"]["room_double_booked"] == 1
    assert main([str(fac), str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_it_imports_neither_the_solver_nor_the_assistant() -> None:
    tree = ast.parse((ROOT / "bench" / "validate_plan.py").read_text(encoding="utf-8"))
    names = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [node])  # type: ignore[list-item]
    ]
    assert not [n for n in names if n.split(".")[0] in ("solver", "assistant")]
