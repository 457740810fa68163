"""repair() moves nothing outside the disruption, re-places what it can with the fewest changes,
prefers covering clinicians, spares pinned sessions, and explains every move and every miss."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solver.model import Disruption, Placement, Problem, SlotRequest
from solver.plan import plan
from solver.repair import affected_by, emergency, repair, without_disruption
from solver.settings import SolverSettings
from tests.solver.synth import DAY, make_problem
from tests.solver.validator import validate

FAST = SolverSettings(time_limit=3.0, workers=2, seed=1)
SETUP = SolverSettings(time_limit=10.0, workers=2, seed=1)


@pytest.fixture(scope="module")
def booked() -> Problem:
    base = make_problem(n_staff=8, n_rooms=8, n_patients=40, n_groups=2, seed=2)
    # The plan's limit covers its greedy start too: generous, so a loaded machine books the same.
    return replace(base, booked=tuple(plan(base, SETUP).appointments))


def _apply(problem: Problem, result: object) -> list[Placement]:
    moved = {m.before.id: m.after for m in result.moves}  # type: ignore[attr-defined]
    dropped = {u.appointment.id for u in result.unplaced}  # type: ignore[attr-defined]
    return [moved.get(a.id, a) for a in problem.booked if a.id not in dropped]


@pytest.mark.parametrize("staff", ["S2", "S3"])
def test_clinician_out_for_a_day(booked: Problem, staff: str) -> None:
    out = Disruption((DAY, 2 * DAY), staff=staff, reason="sick")
    hit = affected_by(booked, out)
    assert hit, "the fixture should give the clinician appointments that day"
    result = repair(booked, out, FAST)
    # Everything outside the disruption is kept exactly.
    untouched = [a for a in booked.booked if a not in hit]
    assert result.kept == len(untouched)
    assert {m.before.id for m in result.moves} | {u.appointment.id for u in result.unplaced} == {
        a.id for a in hit
    }
    schedule = _apply(booked, result)
    after = without_disruption(booked, out)
    assert validate(after, schedule, new=[m.after for m in result.moves], keep=untouched) == []
    for move in result.moves:
        assert (
            staff not in move.after.staff or move.after.start >= 2 * DAY or (move.after.end <= DAY)
        )
        assert move.changes and move.reason
    for miss in result.unplaced:
        assert miss.reason


def test_a_pinned_session_gets_a_cover_rather_than_a_new_time() -> None:
    base = make_problem(n_staff=6, n_rooms=6, n_patients=10, n_groups=0, booked=0, seed=4)
    pid = "P2"
    cover_pool = base.eligibility.staff_for[(pid, "individual")]
    assert len(cover_pool) >= 2
    lead = cover_pool[0]
    pinned = Placement(
        "pin", "individual", DAY + 10 * 60, 60, (lead,), (pid,), room="R1", pinned=True
    )
    problem = replace(base, booked=(pinned,))
    result = repair(problem, Disruption((DAY, 2 * DAY), staff=lead), FAST)
    assert len(result.moves) == 1
    move = result.moves[0]
    assert move.after.start == pinned.start and "time" not in move.changes
    assert move.after.staff[0] in cover_pool and move.after.staff[0] != lead


def test_nobody_can_cover_gives_a_reason() -> None:
    base = make_problem(n_staff=6, n_rooms=6, n_patients=10, n_groups=0, booked=0, seed=4)
    psychiatrist = next(s.id for s in base.staff if s.role == "psychiatrist")
    appt = Placement(
        "eval", "psychiatric_evaluation", 4 * DAY + 9 * 60, 60, (psychiatrist,), ("P1",), "R5"
    )
    problem = replace(base, booked=(appt,))
    # The only psychiatrist is out for the rest of the week.
    result = repair(problem, Disruption((4 * DAY, 5 * DAY), staff=psychiatrist), FAST)
    assert result.moves == [] and len(result.unplaced) == 1
    assert "no eligible clinician" in result.unplaced[0].reason


def test_room_closure_moves_only_the_room_when_another_is_free(booked: Problem) -> None:
    room = next(a.room for a in booked.booked if a.room and not a.group)
    closed = Disruption((0, 5 * DAY), room=room)
    result = repair(booked, closed, FAST)
    assert result.moves
    for move in result.moves:
        assert move.after.room != room
    same_time = [m for m in result.moves if m.changes == ("room",)]
    assert same_time, "most sessions should just change room"


def test_emergency_offers_bumps_of_lower_priority_sessions() -> None:
    base = make_problem(n_staff=4, n_rooms=6, n_patients=10, n_groups=0, booked=0, seed=4)
    urgent = "P5"  # acuity 5
    staff = base.eligibility.staff_for[(urgent, "individual")]
    low = ["P1", "P2", "P6"]  # acuity 1, 2, 1
    assert len(staff) <= len(low)
    # Every eligible clinician is busy all Monday with lower-acuity patients.
    fill = tuple(
        Placement(f"f{h}-{s}", "individual", 8 * 60 + 60 * h, 60, (s,), (low[n],))
        for n, s in enumerate(staff)
        for h in range(10)
    )
    problem = replace(base, booked=fill)
    answer = emergency(problem, SlotRequest((urgent,), "individual", (0, DAY)), k=2)
    assert answer.free == [] and answer.reason
    assert answer.with_bumps
    option, bumps, cost = answer.with_bumps[0]
    assert option.start == 8 * 60
    assert bumps and cost == sum(b.cost for b in bumps) > 0
    for bump in bumps:
        assert bump.appointment.staff == option.staff
        assert bump.moved_to is not None
        assert not (bump.moved_to.start < option.end and option.start < bump.moved_to.end)


def test_pinned_or_court_sessions_are_never_bumped() -> None:
    base = make_problem(n_staff=4, n_rooms=6, n_patients=10, n_groups=0, booked=0, seed=4)
    urgent = "P5"
    staff = base.eligibility.staff_for[(urgent, "individual")]
    low = ["P1", "P2", "P6"]
    fill = tuple(
        Placement(f"f{h}-{s}", "individual", 8 * 60 + 60 * h, 60, (s,), (low[n],), pinned=True)
        for n, s in enumerate(staff)
        for h in range(10)
    )
    problem = replace(base, booked=fill)
    answer = emergency(problem, SlotRequest((urgent,), "individual", (0, DAY)), k=2)
    assert answer.free == [] and answer.with_bumps == []
