"""Neighbourhoods around unplaced demand (solver/neighbourhood.py): a session the greedy start
walls off gets placed by moving what is in its way, and nothing else breaks."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from solver.baseline import greedy_placements
from solver.demand import expand_demands
from solver.feasibility import Feasibility
from solver.model import (
    GroupSpec,
    PatientInfo,
    Placement,
    PlanRules,
    Problem,
    RoomInfo,
    StaffInfo,
    UnitBudget,
    WeeklyMinimum,
)
from solver.neighbourhood import improve
from tests.solver.synth import DAY, KINDS, day_window, days
from tests.solver.validator import validate


def one_day_week() -> Problem:
    """One clinician on Monday 09:00-12:00 who runs a 90-minute group and sees one patient who
    can only come 09:00-10:00: the group's earliest start (the greedy start's) walls them off."""
    elig = PlanRules()
    elig.staff_for[("P1", "individual")] = ("S1",)
    elig.requirements.append(WeeklyMinimum("P1", "individual", 1))
    elig.qualified["group"] = ("S1",)
    return Problem(
        origin=datetime(2026, 11, 30, 5, tzinfo=UTC),
        slot_minutes=15,
        days=days(5),
        staff=(
            StaffInfo(
                "S1", "therapist", frozenset({"LCSW"}), frozenset(), (day_window(0, 540, 720),)
            ),
        ),
        rooms=(
            RoomInfo("R1", "individual", 3, (day_window(0),)),
            RoomInfo("R2", "group", 14, (day_window(0),)),
        ),
        patients=(
            PatientInfo("P1", primary_staff="S1", available=(day_window(0, 540, 600),)),
            *(PatientInfo(f"M{i}") for i in range(4)),
        ),
        session_types=dict(KINDS),
        eligibility=elig,
        groups=(GroupSpec("G1", "group", ("S1",), tuple(f"M{i}" for i in range(4)), 1),),
    )


def test_a_walled_off_session_is_placed_by_moving_the_group_in_its_way() -> None:
    problem = one_day_week()
    demands = expand_demands(problem)
    start, _ = greedy_placements(problem, demands)
    assert [a.group for _, a in start] == ["G1"]  # the patient is left out
    better = improve(problem, demands, start, until=time.perf_counter() + 20, workers=1)
    placed = [a for _, a in better]
    assert sorted(a.group or a.patients[0] for a in placed) == ["G1", "P1"]
    assert validate(problem, [*problem.booked, *placed], new=placed, keep=problem.booked) == []


def budget_week() -> Problem:
    """P1's payer pays one more session (individual or family). S1 sees P1 alone on Monday, S2
    gives family sessions on Tuesday only; the greedy start places one of the two and the
    payer's refusal leaves the other out, which is what the neighbourhood search then targets."""
    elig = PlanRules()
    elig.staff_for[("P1", "individual")] = ("S1",)
    elig.staff_for[("P1", "family")] = ("S2",)
    elig.requirements += [WeeklyMinimum("P1", "individual", 1), WeeklyMinimum("P1", "family", 1)]
    elig.budgets.append(UnitBudget("P1", frozenset({"individual", "family"}), (0, 5 * DAY), 1))
    return Problem(
        origin=datetime(2026, 11, 30, 5, tzinfo=UTC),
        slot_minutes=15,
        days=days(5),
        staff=(
            StaffInfo("S1", "therapist", frozenset({"LCSW"}), frozenset(), (day_window(0),)),
            StaffInfo("S2", "therapist", frozenset({"LCSW"}), frozenset(), (day_window(1),)),
        ),
        rooms=(
            RoomInfo("R1", "individual", 3, (day_window(0), day_window(1))),
            RoomInfo("R2", "family", 6, (day_window(0), day_window(1))),
        ),
        patients=(PatientInfo("P1", primary_staff="S1"),),
        session_types=dict(KINDS),
        eligibility=elig,
    )


def test_the_rest_of_the_plan_pays_from_the_budget_a_neighbourhood_places_against() -> None:
    # The session the neighbourhood leaves in place (the other clinician's day) used the
    # payer's last unit: re-solving the freed day must not place a second one on it.
    problem = budget_week()
    demands = expand_demands(problem)
    start, _ = greedy_placements(problem, demands)
    assert len(start) == 1
    better = improve(problem, demands, start, until=time.perf_counter() + 10, workers=1)
    placed = [a for _, a in better]
    assert len(placed) == 1
    assert validate(problem, [*problem.booked, *placed], new=placed, keep=problem.booked) == []


def test_sessions_passed_to_the_index_beyond_what_is_booked_pay_from_the_budget() -> None:
    # `remaining` is net of what the problem books; a session placed since pays a unit.
    problem = budget_week()
    placed = Placement("x", "individual", 9 * 60, 60, ("S1",), ("P1",), room="R1")
    assert Feasibility(problem).budget_left("P1", "family", DAY + 9 * 60) == 1
    after = Feasibility(problem, [*problem.booked, placed])
    assert after.budget_left("P1", "family", DAY + 9 * 60) == 0
    assert "AUTH-UNITS" in (after.budget_refusal("P1", "family", DAY + 9 * 60) or "")


def lent_hour_week() -> Problem:
    """S1 works Monday 09:00-12:00 and is the only one who gives family sessions; PF's family
    can come only Monday 09:00-10:00. PW, S2's working patient (Monday or Tuesday 09:00-10:00),
    was lent to S1 for that hour; S2's Monday hour is PV's, who can come no other time, and S2's
    Tuesday hour is free. The family's hour is freed only by a chain: PW goes home to S2, on
    Tuesday."""
    elig = PlanRules()
    elig.staff_for[("PF", "family")] = ("S1",)
    elig.staff_for[("PW", "individual")] = ("S2", "S1")
    elig.staff_for[("PV", "individual")] = ("S2",)
    elig.requirements += [
        WeeklyMinimum("PF", "family", 1),
        WeeklyMinimum("PW", "individual", 1),
        WeeklyMinimum("PV", "individual", 1),
    ]
    early = (day_window(0, 540, 600), day_window(1, 540, 600))
    return Problem(
        origin=datetime(2026, 11, 30, 5, tzinfo=UTC),
        slot_minutes=15,
        days=days(5),
        staff=(
            StaffInfo(
                "S1", "therapist", frozenset({"LCSW"}), frozenset(), (day_window(0, 540, 720),)
            ),
            StaffInfo("S2", "therapist", frozenset({"LCSW"}), frozenset(), early),
        ),
        rooms=(
            RoomInfo("R1", "individual", 3, (day_window(0), day_window(1))),
            RoomInfo("R2", "individual", 3, (day_window(0), day_window(1))),
            RoomInfo("R3", "family", 6, (day_window(0), day_window(1))),
        ),
        patients=(
            PatientInfo("PF", primary_staff="S1", family_windows=(day_window(0, 540, 600),)),
            PatientInfo("PW", primary_staff="S2", available=early),
            PatientInfo("PV", primary_staff="S2", available=(day_window(0, 540, 600),)),
        ),
        session_types=dict(KINDS),
        eligibility=elig,
    )


def test_a_family_hour_lent_to_another_patient_is_freed_by_sending_them_home() -> None:
    problem = lent_hour_week()
    demands = expand_demands(problem)
    by_patient = {d.patients[0]: d for d in demands}
    start = [
        (by_patient["PW"], Placement("w", "individual", 540, 60, ("S1",), ("PW",), room="R1")),
        (by_patient["PV"], Placement("v", "individual", 540, 60, ("S2",), ("PV",), room="R2")),
    ]
    better = improve(problem, demands, start, until=time.perf_counter() + 20, workers=1)
    placed = [a for _, a in better]
    where = {a.patients[0]: (a.staff[0], a.start) for a in placed}
    assert where == {"PF": ("S1", 540), "PW": ("S2", DAY + 540), "PV": ("S2", 540)}
    assert validate(problem, [*problem.booked, *placed], new=placed, keep=problem.booked) == []
