"""The time limit is the whole plan's: reading the facility, first fit, candidates, the model and
both CP-SAT phases spend one clock, and a limit too short for all of them still returns a valid
plan, with a progress line per step on `rota optimize`. This checks the contract "returns within
the limit given" with the limit set so low that it binds; it is not a measure of speed."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from assistant.optimize import optimize_period
from clinic.db import Database
from clinic.timeutil import local_midnight
from integrations.cli.main import run
from solver.deadline import Step
from solver.plan import Progress
from solver.settings import SolverSettings
from tests.solver.validator import validate

NEXT_WEEK = date(2026, 12, 7)
LIMIT = 2.0


def test_a_plan_returns_within_a_limit_too_short_for_every_step(demo_db: Database) -> None:
    tz = demo_db.facility_tz()
    start, end = local_midnight(NEXT_WEEK, tz), local_midnight(NEXT_WEEK + timedelta(days=7), tz)
    events: list[Progress | Step] = []
    began = time.perf_counter()
    result, built = optimize_period(
        demo_db, start, end, SolverSettings(time_limit=LIMIT, workers=2, seed=1), events.append
    )
    wall = time.perf_counter() - began
    assert wall < LIMIT * 1.1, [e for e in events if isinstance(e, Step)]
    problem = built.problem
    assert validate(problem, result.appointments, new=result.new, keep=problem.booked) == []
    assert result.placed > 0
    steps = [e.what for e in events if isinstance(e, Step)]
    # Neighbourhoods around what the greedy start left out come between it and the candidates.
    steps = [s for s in steps if s != "neighbourhoods around unplaced"]
    assert steps[:4] == ["read the facility", "demands", "greedy start", "candidates"]
    assert all(e.seconds < LIMIT * 1.1 for e in events if isinstance(e, Step))


def test_rota_optimize_prints_a_line_per_step(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    code = run(["optimize", "--from", "2026-12-07", "--to", "2026-12-08", "--time-limit", "3"])
    err = capsys.readouterr().err
    assert code == 0, err
    for step in ("read the facility:", "greedy start:", "candidates:"):
        assert step in err
    assert "placed" in err  # the greedy start says how many it placed
