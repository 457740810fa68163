"""SlotFinder.open_slots: the free slots nobody has asked for yet (published as FHIR Slots)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest

from solver.model import Hold, Placement, Problem
from solver.slots import SlotFinder
from tests.solver.synth import day_window, make_problem
from tests.solver.validator import validate


@pytest.fixture(scope="module")
def problem() -> Problem:
    base = make_problem(n_staff=6, n_rooms=6, n_patients=20, n_groups=1, seed=5)
    # The synthetic problem names who may give individual sessions patient by patient only.
    elig = base.eligibility
    who = sorted({s for (_, t), ids in elig.staff_for.items() if t == "individual" for s in ids})
    qualified = {**elig.qualified, "individual": tuple(who)}
    return replace(base, eligibility=replace(elig, qualified=qualified))


def test_open_slots_are_legal_tiled_and_only_for_qualified_clinicians(problem: Problem) -> None:
    slots = SlotFinder(problem).open_slots("individual", day_window(1))
    assert slots
    qualified = set(problem.eligibility.qualified["individual"])
    assert {o.staff[0] for o in slots} <= qualified
    minutes = problem.session_types["individual"].minutes
    by_staff: dict[str, list[tuple[int, int]]] = {}
    for n, o in enumerate(slots):
        assert o.end - o.start == minutes
        assert day_window(1)[0] <= o.start and o.end <= day_window(1)[1]
        assert o.room is not None
        by_staff.setdefault(o.staff[0], []).append((o.start, o.end))
        # Each one could be booked as it stands (no patient: the staff, room and hours checks).
        placed = Placement(f"open{n}", "individual", o.start, minutes, o.staff, (), o.room)
        assert validate(problem, [*problem.booked, placed], new=[placed]) == []
    for spans in by_staff.values():  # one clinician's slots never overlap (tiled)
        assert all(a[1] <= b[0] for a, b in pairwise(spans))


def test_open_slots_leave_out_booked_held_past_and_group_time(problem: Problem) -> None:
    finder = SlotFinder(problem)
    first = finder.open_slots("individual", day_window(2))[0]
    staff = first.staff[0]
    only = finder.open_slots("individual", day_window(2), staff=[staff])
    assert {o.staff[0] for o in only} == {staff}
    hold = Hold(staff, (first.start, first.end), "06:00 today")
    held = SlotFinder(replace(problem, holds=(hold,))).open_slots(
        "individual", day_window(2), staff=[staff]
    )
    assert all(o.end <= first.start or o.start >= first.end for o in held)
    later = finder.open_slots("individual", day_window(2), staff=[staff], now=first.end)
    assert later and all(o.start >= first.end for o in later)
    assert finder.open_slots("group", day_window(2)) == []
    assert finder.open_slots("no_such_type", day_window(2)) == []
