"""The hard instances (bench/hard_instances.py) are what their doc string says: valid facility
files, deterministic for a seed, tight, and built from a hidden schedule that places everything
the solver will be asked for, with no violation the independent validator can find. Only the
smallest instances are generated here; nothing is solved."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest

from assistant.problem_builder import build_problem
from bench.hard_instances import VERSION, describe, expand, generate, instance_path
from bench.validate_plan import validate_plan
from clinic.db import open_database
from clinic.facility_file import load_facility, validate
from clinic.timeutil import local_midnight
from solver.demand import expand_demands

SMALL = ("tight-s", "groups-01")


@pytest.mark.parametrize("name", SMALL)
def test_the_hidden_schedule_places_everything_without_a_violation(name: str) -> None:
    instance = generate(name, seed=3)
    assert validate(instance.facility) == []
    report = validate_plan(instance.facility, instance.hidden_plan())
    assert report.total == 0, report.details
    assert report.required == report.placed == len(instance.hidden)


@pytest.mark.parametrize("name", SMALL)
def test_the_solver_is_asked_for_exactly_the_hidden_sessions(name: str, tmp_path) -> None:
    instance = generate(name, seed=1)
    db = open_database(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    load_facility(db, instance.facility, actor="test")
    tz = db.facility_tz()
    monday = instance.hidden_plan()["period"]["start"][:10]
    start = local_midnight(date.fromisoformat(monday), tz)
    with db.session() as session:
        built = build_problem(session, start, start + timedelta(days=7))
    demands = expand_demands(built.problem)
    db.dispose()
    assert [d.blocked for d in demands if d.blocked] == []
    assert sum(d.required for d in demands) == len(instance.hidden)


def test_same_seed_same_file_other_seed_another() -> None:
    a, b, c = generate("tight-s", 5), generate("tight-s", 5), generate("tight-s", 6)
    assert json.dumps(a.facility) == json.dumps(b.facility)
    assert json.dumps(a.facility) != json.dumps(c.facility)


def test_tight_weeks_are_tight() -> None:
    instance = generate("tight-s", seed=1)
    figures = describe(instance)
    low, high = figures["demanded_share_of_hours"]
    assert low >= 0.85 and high <= 0.96
    assert 110 <= figures["sessions"] <= 140
    working = [p for p in instance.facility["patients"] if "availability" in p]
    assert len(working) >= 5
    assert any(p.get("family_contacts") for p in instance.facility["patients"])


def test_group_weeks_look_like_course_timetabling() -> None:
    instance = generate("groups-01", seed=1)
    fac = instance.facility
    assert describe(instance)["group_sessions"] == 138
    per_patient = Counter(p for s in instance.hidden for p in s.patients)
    assert min(per_patient.values()) >= 5 and max(per_patient.values()) <= 25
    per_day = Counter((p, s.day) for s in instance.hidden for p in s.patients)
    assert max(per_day.values()) >= 3  # several a day
    assert any(g["sessions_per_week"] > 5 for g in fac["groups"])  # more than the open days
    assert all(st.get("unavailable") for st in fac["staff"])
    assert len({r["capacity"] for r in fac["rooms"]}) > 1


def test_names_expand_and_files_are_cached(tmp_path) -> None:
    assert expand("tight-s,groups")[:2] == ["tight-s", "groups-01"]
    assert len(expand("groups")) == 10
    with pytest.raises(ValueError, match="unknown instance"):
        expand("tight-xl")
    path = instance_path("groups-01", 2, tmp_path)
    stamp = path.stat().st_mtime_ns
    assert instance_path("groups-01", 2, tmp_path).stat().st_mtime_ns == stamp
    assert (tmp_path / f"groups-01-seed2-v{VERSION}.hidden-plan.json").exists()
