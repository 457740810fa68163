"""The peer's problem (bench/peer_export.py) is the plan model's, in the shape the peer reads
(bench/peer_timefold.py, whose reading and plan writing need no Timefold): demands with their
own candidates, caps over candidates, times for every start. A plan made by keeping only the
exported constraints (occupancy keys, caps, days apart) passes the independent validator, so the
export leaves out no hard rule the validator checks. Timefold itself is not run here."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bench.hard_instances import instance_path
from bench.peer_export import FORMAT, export_instance
from bench.peer_timefold import candidate_keys, load, plan_file, sessions_of
from bench.validate_plan import validate_plan
from clinic.db import open_database
from clinic.facility_file import load_facility


@pytest.fixture(scope="module")
def tight_s(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return export_instance("tight-s", 1, tmp_path_factory.mktemp("peer"))


def test_the_export_has_the_shape_the_peer_reads(tight_s: dict) -> None:
    data = tight_s
    assert data["format"] == FORMAT and data["version"] == 1
    cands = data["candidates"]
    assert [c["index"] for c in cands] == list(range(len(cands)))
    assert sum(d["count"] for d in data["demands"]) == data["required"] == 135
    for d in data["demands"]:
        assert d["candidates"], f"{d['key']} has no candidate"
        assert all(cands[i]["demand"] == d["index"] for i in d["candidates"])
        assert d["priority"] > 0 and d["count"] > 0
    for c in cands:
        assert str(c["start"]) in data["times"] and c["staff"]
        assert c["kind"] is not None or c["room"] is None  # a named room has its kind
    assert data["caps"], "the weekly hours, room pools and rule limits are caps"
    for cap in data["caps"]:
        assert cap["max"] >= 0 and sum(coef for _, coef in cap["terms"]) > cap["max"]
        assert all(0 <= i < len(cands) and coef > 0 for i, coef in cap["terms"])
    # the peer's reader takes it: one session per required session, ints for Java
    sessions, text = load(data)
    assert len(sessions) == 135
    assert all(token.lstrip("-").isdigit() for token in text.split())


def _greedy(data: dict) -> list:
    """First fit keeping only what the export says: occupancy keys, caps, days apart."""
    keys = candidate_keys(data)
    taken: set[int] = set()
    used = [0] * len(data["caps"])
    days: dict[int, list[int]] = {}
    day_of = {d["index"]: date.fromisoformat(d["date"]).toordinal() for d in data["days"]}
    sessions = sessions_of(data)
    for s in sessions:
        for i in s.candidates:
            k, c = keys[i], data["candidates"][i]
            if taken.intersection(k.slots):
                continue
            if any(used[cap] + coef > data["caps"][cap]["max"] for cap, coef in k.terms):
                continue
            mine = days.setdefault(s.demand, [])
            if s.min_days_apart and any(
                abs(day_of[c["day"]] - day_of[d]) < s.min_days_apart for d in mine
            ):
                continue
            taken.update(k.slots)
            for cap, coef in k.terms:
                used[cap] += coef
            mine.append(c["day"])
            s.candidate = i
            break
    return sessions


def test_a_plan_keeping_the_exported_constraints_passes_the_validator(tight_s: dict) -> None:
    sessions = _greedy(tight_s)
    plan = plan_file(tight_s, sessions, "0hard/0medium/0soft", 1.0)
    facility = json.loads(Path(instance_path("tight-s", 1)).read_text(encoding="utf-8"))
    report = validate_plan(facility, plan)
    assert report.total == 0, report.details
    assert report.placed == plan["metrics"]["placed_sessions"] > 100
    missing = sum(u["missing"] for u in plan["unmet"])
    assert report.placed + missing == report.required == 135


def test_two_candidates_sharing_a_key_are_a_double_booking_for_the_validator(
    tight_s: dict,
) -> None:
    """Occupancy keys are what the peer keeps apart: two candidates of different demands that
    share one (a clinician or patient in the same slot) are a double booking the validator
    reports."""
    keys = candidate_keys(tight_s)
    cands = tight_s["candidates"]
    owner: dict[int, int] = {}
    pair = None
    for i, k in enumerate(keys):
        for key in k.slots:
            j = owner.setdefault(key, i)
            if cands[j]["demand"] != cands[i]["demand"]:
                pair = (j, i)
                break
        if pair:
            break
    assert pair is not None
    by_demand = {}
    for s in sessions_of(tight_s):
        by_demand.setdefault(s.demand, s)
    chosen = []
    for index in pair:
        session = by_demand[cands[index]["demand"]]
        session.candidate = index
        chosen.append(session)
    plan = plan_file(tight_s, chosen, "", 1.0)
    facility = json.loads(Path(instance_path("tight-s", 1)).read_text(encoding="utf-8"))
    report = validate_plan(facility, plan)
    assert report.total > 0
    assert any("double" in kind or "overlap" in kind for kind in report.violations), report.details


def test_one_session_of_a_type_a_day_is_a_cap(tight_s: dict) -> None:
    """The plan's own convention (one session of each non-group type per patient a day, which
    the occupancy keys alone would allow at different times) reaches the peer as a cap of 1."""
    cands = tight_s["candidates"]
    capped = [{k for k, _ in cap["terms"]} for cap in tight_s["caps"] if cap["max"] <= 1]
    for d in tight_s["demands"]:
        if d["group"] or d["count"] < 2:
            continue
        same_day = [
            (i, j)
            for i in d["candidates"]
            for j in d["candidates"]
            if cands[i]["day"] == cands[j]["day"]
            and cands[i]["start"] + cands[i]["minutes"] <= cands[j]["start"]
        ]
        assert same_day, d["key"]
        assert all(any({i, j} <= cap for cap in capped) for i, j in same_day[:20]), d["key"]


def test_the_export_runs_beside_rotas_database_in_one_work_dir(tmp_path: Path) -> None:
    """bench/solver.py --peer plans with Rota first in the same work directory: the export
    loads its own database instead of failing on the one Rota's run left there."""
    facility = json.loads(Path(instance_path("groups-01", 1)).read_text(encoding="utf-8"))
    db = open_database(f"sqlite:///{tmp_path / 'groups-01.sqlite3'}")
    load_facility(db, facility, actor="test")
    db.dispose()
    data = export_instance("groups-01", 1, tmp_path)
    assert data["required"] == 138 and data["instance"] == "groups-01"
