"""A clinician's weekly hours count what they hold at a network's other sites: the plan, first
fit and the slot finder leave only what is left of the cap, and the slot finder says why."""

from __future__ import annotations

from dataclasses import replace

from solver.baseline import greedy_plan
from solver.model import PatientInfo, PlanRules, Problem, SlotRequest, WeeklyMinimum
from solver.plan import plan
from solver.settings import SolverSettings
from solver.slots import SlotFinder
from tests.solver.synth import day_window, make_problem
from tests.solver.validator import validate

FAST = SolverSettings(time_limit=5.0, workers=2, seed=1)


def _one_clinician(cap: int, elsewhere: tuple[int, ...]) -> Problem:
    """One clinician free all week, four patients who each need one 60-minute session."""
    base = make_problem(n_staff=2, n_rooms=2, n_patients=4, n_groups=0, booked=0)
    clinician = replace(
        base.staff[0],
        available=tuple(day_window(d) for d in range(5)),
        max_minutes_per_week=cap,
        minutes_elsewhere=elsewhere,
    )
    patients = tuple(PatientInfo(f"P{i}") for i in range(1, 5))
    elig = PlanRules(
        staff_for={(p.id, "individual"): (clinician.id,) for p in patients},
        requirements=[WeeklyMinimum(p.id, "individual", 1) for p in patients],
    )
    return replace(base, staff=(clinician,), patients=patients, eligibility=elig, booked=())


def test_the_plan_and_first_fit_fill_only_what_the_other_sites_leave() -> None:
    alone = _one_clinician(cap=240, elsewhere=())
    shared = _one_clinician(cap=240, elsewhere=(150,))  # 2.5 of 4 hours held at another site
    assert len(plan(alone, FAST).new) == 4
    for result in (plan(shared, FAST), greedy_plan(shared)):
        assert len(result.new) == 1, result.new
        assert validate(shared, result.appointments, new=result.new) == []


def test_the_slot_finder_offers_nothing_past_the_cap_and_names_the_other_sites() -> None:
    shared = _one_clinician(cap=240, elsewhere=(200,))
    request = SlotRequest(("P1",), "individual", day_window(0))
    answer = SlotFinder(shared).find(request, k=3)
    assert answer.options == []
    assert "out of weekly hours (counting 3.3 h at other sites)" in (answer.reason or "")
    room_for_one = SlotFinder(_one_clinician(cap=260, elsewhere=(200,))).find(request, k=3)
    assert room_for_one.options
