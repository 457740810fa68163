"""The solver on the demo 's' facility, end to end: database -> problem -> plan / slots / repair,
each result re-checked by the independent validator, and the CLI's machine output."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.optimize import (
    SlotsQuery,
    apply_plan,
    offer_slots,
    optimize_period,
    plan_file,
    repair_staff_out,
)
from assistant.parse.times import extract, resolve
from assistant.problem_builder import build_problem
from clinic.db import Database
from clinic.models import Patient
from clinic.queries import appointments_between
from clinic.timeutil import local_midnight
from integrations.cli.main import run
from solver.baseline import greedy_plan
from solver.repair import without_disruption
from solver.settings import SolverSettings
from tests.solver.validator import validate

NEXT_WEEK = date(2026, 12, 7)  # the demo books the week of 2026-11-30; the next one is open
FAST = SolverSettings(time_limit=5.0, workers=2, seed=1)
WHOLE = SolverSettings(time_limit=20.0, workers=2, seed=1)
"""A plan's limit covers reading the facility and the greedy start (solver/deadline.py): generous,
so that a loaded test machine still leaves the greedy start its whole run (the floor compared)."""


def test_plan_next_week_is_valid_beats_first_fit_and_books(demo_db: Database) -> None:
    tz = demo_db.facility_tz()
    start, end = local_midnight(NEXT_WEEK, tz), local_midnight(NEXT_WEEK + timedelta(days=7), tz)
    result, built = optimize_period(demo_db, start, end, WHOLE)
    problem = built.problem
    assert validate(problem, result.appointments, new=result.new, keep=problem.booked) == []
    greedy = greedy_plan(problem)
    assert result.placed >= greedy.placed
    assert result.placed >= 0.75 * result.required
    assert result.stats.placement_gap is not None and result.stats.placement_gap <= 1.0
    assert {u.reason for u in result.unmet} and all(u.reason for u in result.unmet)
    # Group meetings keep their standing times and carry their group id.
    groups = [a for a in result.new if a.group]
    assert groups and all(
        set(a.patients) == set(next(g.members for g in problem.groups if g.id == a.group))
        for a in groups
    )
    data = plan_file(result, built)
    assert data["metrics"]["placed_sessions"] == result.placed
    # Booking through the service: the database accepts every proposed appointment.
    booked = apply_plan(demo_db, "operator", result, built)
    with demo_db.session() as session:
        rows = appointments_between(session, start, end, include_cancelled=False)
    assert booked == len(result.new) and len(rows) == len(result.new) + len(
        [a for a in problem.booked if start <= built.clock.moment(a.start) < end]
    )


def test_slots_for_a_demo_patient(demo_db: Database) -> None:
    tz = demo_db.facility_tz()
    start = local_midnight(NEXT_WEEK, tz)
    query = SlotsQuery("p0002", "individual", start, start + timedelta(days=3), k=3)
    answer, built = offer_slots(demo_db, query, now=start)
    assert len(answer.options) == 3
    assert [o.score for o in answer.options] == sorted(
        (o.score for o in answer.options), reverse=True
    )
    from solver.model import Placement

    for n, o in enumerate(answer.options):
        appt = Placement(
            f"o{n}", "individual", o.start, o.end - o.start, o.staff, ("p0002",), o.room
        )
        assert validate(built.problem, [*built.problem.booked, appt], new=[appt]) == []


def test_repair_a_clinician_day_in_the_booked_week(demo_db: Database) -> None:
    tz = demo_db.facility_tz()
    day = local_midnight(date(2026, 12, 1), tz)
    with demo_db.session() as session:
        busy = appointments_between(session, day, day + timedelta(days=1), include_cancelled=False)
    staff = max({s for a in busy for s in a.staff}, key=lambda s: sum(s in a.staff for a in busy))
    result, built = repair_staff_out(demo_db, staff, day, day + timedelta(days=1), FAST, now=day)
    assert result.moves or result.unplaced
    from solver.model import Disruption

    out = Disruption(
        (built.clock.minutes(day), built.clock.minutes(day + timedelta(days=1))), staff
    )
    hit = {m.before.id for m in result.moves} | {u.appointment.id for u in result.unplaced}
    untouched = [a for a in built.problem.booked if a.id not in hit]
    moved = [m.after for m in result.moves]
    schedule = [*untouched, *moved]
    assert (
        validate(
            without_disruption(built.problem, out),
            schedule,
            new=moved,
            keep=untouched,
            before=[m.before for m in result.moves],
        )
        == []
    )
    assert all(staff not in m.after.staff or m.after.start >= out.window[1] for m in result.moves)


def test_cli_slots_json_and_optimize_out(
    demo_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("ROTA_SOLVER_TIME_LIMIT", "3")
    code = run(
        [
            "slots",
            "--patient",
            "p0002",
            "--from",
            "2026-12-07T08:00",
            "--to",
            "2026-12-09T19:00",
            "-k",
            "2",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert len(data["options"]) == 2 and data["reason"] is None
    assert set(data["options"][0]) == {
        "start",
        "end",
        "staff",
        "room",
        "score",
        "why",
        "no_show_risk",  # the patient's chance of missing it (assistant/no_show.py)
        "high_no_show_risk",
    }
    code = run(
        ["slots", "--patient", "p0002", "--from", "2026-12-09T19:00", "--to", "2026-12-07T08:00"]
    )
    assert code == 2 and "window is empty" in capsys.readouterr().err
    plan_path = tmp_path / "plan.json"
    code = run(["optimize", "--from", "2026-12-07", "--to", "2026-12-08", "--out", str(plan_path)])
    err = capsys.readouterr().err
    assert code == 0, err
    plan = json.loads(plan_path.read_text())
    assert plan["version"] == 1 and plan["solver"]["status"] in {"OPTIMAL", "FEASIBLE"}
    assert plan["metrics"]["required_sessions"] >= plan["metrics"]["placed_sessions"] > 0


def test_a_morning_means_the_same_hours_to_the_parser_and_the_planner(demo_db: Database) -> None:
    tz = demo_db.facility_tz()
    now = datetime(2026, 12, 6, 12, 0, tzinfo=tz)  # a Sunday: tomorrow is NEXT_WEEK's Monday
    asked = resolve(extract("tomorrow morning", now), now)
    assert asked is not None
    start = local_midnight(NEXT_WEEK, tz)
    with demo_db.read() as session:
        built = build_problem(session, start, start + timedelta(days=1))
        early = next(
            p.id
            for p in session.scalars(select(Patient).order_by(Patient.position))
            if (p.preferences or {}).get("parts_of_day") == ["morning"]
        )
    liked = next(p for p in built.problem.patients if p.id == early).preferred_windows
    assert liked == ((built.clock.minutes(asked[0]), built.clock.minutes(asked[1])),)
