"""OPS-EMERGENCY-HOLD in the solver: clinician time held for emergency admissions is refused to
the slot finder and first fit alike (one check, in Feasibility.refusal), and the answer says
until when it is held."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solver.baseline import greedy_plan
from solver.feasibility import Feasibility
from solver.model import Hold, Problem, SlotRequest
from solver.slots import SlotFinder
from tests.solver.synth import day_window, make_problem


@pytest.fixture(scope="module")
def problem() -> Problem:
    return make_problem(n_staff=6, n_rooms=6, n_patients=20, n_groups=1, seed=5)


def test_the_slot_finder_offers_held_time_to_nobody_and_says_why(problem: Problem) -> None:
    request = SlotRequest(("P1",), "individual", day_window(0))
    best = SlotFinder(problem).find(request, k=3).options[0]
    hold = Hold(best.staff[0], (best.start, best.end), "06:00 today")
    held = replace(problem, holds=(hold,))
    options = SlotFinder(held).find(request, k=3).options
    assert options and all(
        not (hold.staff in o.staff and o.start < best.end and best.start < o.end) for o in options
    )
    only_there = replace(request, window=(best.start, best.end), staff=hold.staff)
    answer = SlotFinder(held).find(only_there, k=3)
    assert answer.options == []
    assert "held for emergency admissions until 06:00 today (OPS-EMERGENCY-HOLD)" in (
        answer.reason or ""
    )
    # The same index without the holds (the emergency flow's) offers it.
    free = SlotFinder(problem, Feasibility(held).holding(())).find(only_there, k=3)
    assert [o.start for o in free.options] == [best.start]


def test_first_fit_leaves_held_time_alone(problem: Problem) -> None:
    plain = greedy_plan(problem)
    taken = [(a.staff[0], a.start, a.end) for a in plain.new if len(a.staff) == 1][:5]
    holds = tuple(Hold(s, (a, b), "06:00 today") for s, a, b in taken)
    planned = greedy_plan(replace(problem, holds=holds))
    for hold in holds:
        assert not any(
            hold.staff in a.staff and a.start < hold.window[1] and hold.window[0] < a.end
            for a in planned.new
        ), hold
