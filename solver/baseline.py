"""Greedy first fit: what a scheduler does by hand, for comparison only.

Demands in the order given (groups first, then patients in file order); for each session the
earliest start in the week, trying eligible clinicians in listed order and rooms best fit first.
It respects the same hard constraints as the optimizer (it shares `Feasibility`), and ignores
every soft one.
"""

from __future__ import annotations

import time

from solver.demand import Demand, expand_demands
from solver.feasibility import Feasibility
from solver.limits import short_by_rule
from solver.metrics import tally, utilization
from solver.model import Placement, PlanResult, Problem, SolveStats
from solver.timegrid import intersect, starts_within


def _first_fit(problem: Problem, feas: Feasibility, demand: Demand) -> Placement | None:
    kind = problem.session_types[demand.session_type]
    group = demand.group
    if group is not None:
        staff_sets: list[tuple[str, ...]] = [group.facilitators]
        patients = demand.patients
        size = max(
            group.capacity or 0, feas.people_in_room(kind, len(patients), len(staff_sets[0]))
        )
    else:
        staff_sets = [(s,) for s in demand.staff_options if s in feas.staff]
        patients = demand.patients
        size = feas.people_in_room(kind, 1, 1)
    if problem.eligibility.apart(
        frozenset(patients) | frozenset(s for ss in staff_sets for s in ss)
    ):
        if group is not None:
            return None
        staff_sets = [
            ss for ss in staff_sets if not problem.eligibility.apart(frozenset(ss) | set(patients))
        ]
    rooms = feas.room_choices(kind, size, only=group.room if group else None)
    if kind.room_kinds and not rooms:
        return None
    used_days = {
        d.date
        for a in feas.added
        if group is not None and a.group == group.id
        for d in [problem.day_of(a.start)]
        if d is not None
    }
    best: tuple[int, int, tuple[str, ...], str | None] | None = None
    for order, staff in enumerate(staff_sets):
        if any(
            (left := feas.staff_week_left(s, demand.week)) is not None and left < kind.minutes
            for s in staff
        ):
            continue
        windows = intersect(feas.session_windows(kind, patients, staff), (demand.window,))
        if group is not None and group.available is not None:
            windows = intersect(windows, group.available)
        fixed = dict(group.fixed_starts) if group is not None and group.fixed_starts else None
        starts = (
            sorted(t for t in fixed if any(a <= t and t + kind.minutes <= b for a, b in windows))
            if fixed is not None
            else starts_within(windows, kind.minutes, problem.slot_minutes)
        )
        for start in starts:
            if best is not None and (start, order) >= best[:2]:
                break
            end = start + kind.minutes
            day = problem.day_of(start)
            if day is None:
                continue
            if group is not None and any(
                abs((day.date - u).days) < group.min_days_apart for u in used_days
            ):
                continue
            if not feas.people_free((*staff, *patients), start, end):
                continue
            if feas.refusal(patients, staff, kind, start) is not None:
                continue
            choices = rooms
            if fixed is not None and fixed.get(start):
                choices = [(r, room) for r, room in rooms if room.id == fixed[start]]
            room = feas.free_room(choices, start, end) if choices else None
            if rooms and room is None:
                continue
            best = (start, order, staff, room[1].id if room else None)
            break
    if best is None:
        return None
    start, _, staff, room_id = best
    return Placement(
        id=f"greedy-{demand.key}-{len(feas.added)}",
        session_type=demand.session_type,
        start=start,
        minutes=kind.minutes,
        staff=staff,
        patients=patients,
        room=room_id,
        group=group.id if group else None,
        court=demand.court,
    )


def greedy_placements(
    problem: Problem, demands: list[Demand], until: float | None = None
) -> tuple[list[tuple[Demand, Placement]], Feasibility]:
    """First fit; with `until` (a perf_counter moment) it stops placing once that has passed,
    so that the plan's later steps keep their share of the time limit."""
    feas = Feasibility(problem)
    out: list[tuple[Demand, Placement]] = []
    for demand in demands:
        if demand.blocked:
            continue
        if until is not None and time.perf_counter() >= until:
            break
        for _ in range(demand.count):
            appt = _first_fit(problem, feas, demand)
            if appt is None:
                break
            feas.add(appt)
            out.append((demand, appt))
    return out, feas


def greedy_plan(problem: Problem) -> PlanResult:
    began = time.perf_counter()
    demands = expand_demands(problem)
    placed, _ = greedy_placements(problem, demands)
    per_demand: dict[int, int] = {}
    for demand, _appt in placed:
        per_demand[demand.index] = per_demand.get(demand.index, 0) + 1
    after = Feasibility(problem, [*problem.booked, *(a for _, a in placed)])
    reasons = {d.index: short_by_rule(after, d) or "first fit found no free time" for d in demands}
    required, placed_total, unmet = tally(demands, per_demand, reasons)
    new = [a for _, a in placed]
    staff_u, room_u = utilization(problem, [*problem.booked, *new])
    return PlanResult(
        appointments=[*problem.booked, *new],
        new=new,
        unmet=unmet,
        required=required,
        placed=placed_total,
        stats=SolveStats(
            status="FEASIBLE", seconds=round(time.perf_counter() - began, 3), workers=1
        ),
        staff_utilization=staff_u,
        room_utilization=room_u,
    )
