"""plan(): every hard constraint holds (checked by an independent validator), first fit is beaten
or matched, CP-SAT's bound proves closeness, and whatever stays unmet says why."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solver.baseline import greedy_plan
from solver.model import GroupSpec, PatientInfo, PlanResult, PlanRules, Problem, WeeklyMinimum
from solver.plan import plan
from solver.settings import SolverSettings
from tests.solver.synth import DAY, day_window, make_problem
from tests.solver.validator import validate

FAST = SolverSettings(time_limit=8.0, workers=2, seed=1)


@pytest.fixture(scope="module")
def problem() -> Problem:
    return make_problem(n_staff=6, n_rooms=6, n_patients=30, n_groups=2, seed=3)


@pytest.fixture(scope="module")
def result(problem: Problem) -> PlanResult:
    return plan(problem, FAST)


def test_plan_never_violates_a_hard_constraint(problem: Problem, result: PlanResult) -> None:
    assert result.new, "the plan placed nothing"
    assert validate(problem, result.appointments, new=result.new, keep=problem.booked) == []


def test_plan_places_at_least_as_much_as_first_fit_and_proves_it(
    problem: Problem, result: PlanResult
) -> None:
    greedy = greedy_plan(problem)
    assert validate(problem, greedy.appointments, new=greedy.new, keep=problem.booked) == []
    assert result.placed >= greedy.placed
    assert result.stats.placement_gap is not None and result.stats.placement_gap <= 1.0
    assert result.stats.first_solution_seconds is not None


def test_every_unmet_requirement_is_counted_and_explained(
    problem: Problem, result: PlanResult
) -> None:
    missing = sum(u.missing for u in result.unmet)
    assert result.placed + missing == result.required
    assert all(u.reason and (u.patient or u.group) for u in result.unmet)
    # Patients whose needs no clinician meets: the rule's reason is passed on.
    blocked = problem.eligibility.blocked
    assert blocked
    for (patient, session_type), why in blocked.items():
        match = [u for u in result.unmet if (u.patient, u.session_type) == (patient, session_type)]
        assert match and match[0].reason == why


def test_court_ordered_and_acute_sessions_win_when_capacity_is_short() -> None:
    # One clinician with two free hours, three patients who each need one session.
    base = make_problem(n_staff=2, n_rooms=2, n_patients=3, n_groups=0, booked=0)
    clinician = replace(base.staff[0], available=(day_window(0, 9 * 60, 11 * 60),))
    patients = (
        PatientInfo("low", acuity=1),
        PatientInfo("court", acuity=1),
        PatientInfo("acute", acuity=5),
    )
    elig = PlanRules(
        staff_for={(p.id, "individual"): (clinician.id,) for p in patients},
        requirements=[
            WeeklyMinimum("low", "individual", 1),
            WeeklyMinimum("court", "individual", 1, "court_order"),
            WeeklyMinimum("acute", "individual", 1),
        ],
    )
    problem = replace(base, staff=(clinician,), patients=patients, eligibility=elig, booked=())
    result = plan(problem, FAST)
    assert validate(problem, result.appointments, new=result.new) == []
    served = {a.patients[0] for a in result.new}
    assert served == {"court", "acute"}
    assert [u.patient for u in result.unmet] == ["low"]


def test_group_meets_with_all_members_on_separate_days() -> None:
    base = make_problem(n_staff=4, n_rooms=6, n_patients=12, n_groups=0, booked=0)
    group = GroupSpec(
        "G1", "group", ("S2",), tuple(f"P{i}" for i in (1, 4, 5, 8, 9)), 3, min_days_apart=2
    )
    problem = replace(base, groups=(group,))
    result = plan(problem, FAST)
    assert validate(problem, result.appointments, new=result.new) == []
    meetings = sorted(a.start // DAY for a in result.new if a.group == "G1")
    assert len(meetings) == 3  # Monday, Wednesday, Friday is the only way
    assert meetings == [0, 2, 4]
    assert all(set(a.patients) == set(group.members) for a in result.new if a.group)


def test_a_group_that_cannot_meet_is_reported() -> None:
    base = make_problem(n_staff=4, n_rooms=6, n_patients=12, n_groups=0, booked=0)
    mornings = replace(base.patients[0], available=(day_window(0, 8 * 60, 10 * 60),))
    evenings = replace(base.patients[1], available=(day_window(0, 15 * 60, 18 * 60),))
    group = GroupSpec("G9", "group", ("S2",), ("P1", "P2"), 1)
    problem = replace(base, patients=(mornings, evenings, *base.patients[2:]), groups=(group,))
    result = plan(problem, FAST)
    unmet = [u for u in result.unmet if u.group == "G9"]
    assert unmet and "members" in unmet[0].reason


def test_a_group_meets_several_times_a_day_when_min_days_apart_is_zero() -> None:
    # An IOP-style group: seven meetings in a five-day week, only possible two a day. The
    # facility contract's default (min_days_apart 0) allows that; 1 means once a day.
    base = make_problem(n_staff=4, n_rooms=6, n_patients=12, n_groups=0, booked=0)
    members = tuple(f"P{i}" for i in (1, 4, 5, 8, 9))
    iop = GroupSpec("IOP", "group", ("S2",), members, 7, min_days_apart=0)
    problem = replace(base, groups=(iop,))
    for solve in (lambda p: plan(p, FAST), greedy_plan):
        result = solve(problem)
        assert validate(problem, result.appointments, new=result.new) == []
        assert len([a for a in result.new if a.group == "IOP"]) == 7
        assert not [u for u in result.unmet if u.group == "IOP"]
    once_a_day = replace(problem, groups=(replace(iop, min_days_apart=1),))
    result = plan(once_a_day, FAST)
    assert len({a.start // DAY for a in result.new if a.group == "IOP"}) == 5
    assert [u.missing for u in result.unmet if u.group == "IOP"] == [2]
