"""Greedy placement: the plan's constructive start (its hint and its floor), and the comparison
baseline for the benchmark. One placer, in two passes:

1. **Group meetings, most constrained first.** The group whose next meeting has the fewest
   feasible (start, room) choices per meeting still to place goes next, at the choice that takes
   the fewest choices from the groups sharing its people (then on its least used day, then
   earliest). A meeting with no choice left tries a repair: take back one meeting that blocks
   one of its times, place it there, and re-place the one taken back elsewhere (undone if that
   fails). On course-timetabling-shaped weeks (cohorts in many groups, several a day) file order
   leaves meetings out that this finds places for.
2. **Patients, most constrained first** (fewest open minutes times eligible clinicians per
   session to place). Each session goes to the patient's own clinician when they have a time
   (primary, recent, preferred; then the others in listed order), at the earliest start on a day
   the patient has nothing yet, else the earliest; rooms best fit first.

It respects the same hard constraints as the optimizer (it shares `Feasibility`), and ignores
every soft one.
"""

from __future__ import annotations

import itertools
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from solver.demand import Demand, expand_demands
from solver.feasibility import Feasibility
from solver.limits import short_by_rule
from solver.metrics import tally, utilization
from solver.model import Placement, PlanResult, Problem, RoomInfo, SessionKind, SolveStats
from solver.timegrid import Window, intersect, starts_within

REPAIR_TRIES = 40
"""(start, blocking meeting) pairs a meeting without a choice tries before it is left out."""


@dataclass(frozen=True)
class _Setup:
    """What one demand needs, independent of what is placed (computed once per demand)."""

    kind: SessionKind
    staff_sets: list[tuple[str, ...]]
    rooms: list[tuple[int, RoomInfo]]
    no_room: bool
    """The session needs a room and none fits: nothing can be placed."""


def _setup(problem: Problem, feas: Feasibility, demand: Demand) -> _Setup:
    kind = problem.session_types[demand.session_type]
    group = demand.group
    if group is not None:
        staff_sets: list[tuple[str, ...]] = [group.facilitators]
        size = max(
            group.capacity or 0,
            feas.people_in_room(kind, len(demand.patients), len(group.facilitators)),
        )
    else:
        staff_sets = [(s,) for s in demand.staff_options if s in feas.staff]
        size = feas.people_in_room(kind, 1, 1)
    people = frozenset(demand.patients) | frozenset(s for ss in staff_sets for s in ss)
    if problem.eligibility.apart(people):
        if group is not None:
            staff_sets = []
        staff_sets = [
            ss
            for ss in staff_sets
            if not problem.eligibility.apart(frozenset(ss) | set(demand.patients))
        ]
    rooms = feas.room_choices(kind, size, only=group.room if group else None)
    return _Setup(kind, staff_sets, rooms, bool(kind.room_kinds) and not rooms)


def _starts(
    problem: Problem, feas: Feasibility, demand: Demand, setup: _Setup, staff: tuple[str, ...]
) -> list[int]:
    """Starts where everyone involved is available (ignoring what is placed)."""
    group = demand.group
    windows: tuple[Window, ...] = intersect(
        feas.session_windows(setup.kind, demand.patients, staff), (demand.window,)
    )
    if group is not None and group.available is not None:
        windows = intersect(windows, group.available)
    if group is not None and group.fixed_starts:
        m = setup.kind.minutes
        return sorted(
            t for t, _ in group.fixed_starts if any(a <= t and t + m <= b for a, b in windows)
        )
    return starts_within(windows, setup.kind.minutes, problem.slot_minutes)


def _hours_left(feas: Feasibility, demand: Demand, setup: _Setup, staff: tuple[str, ...]) -> bool:
    """Every clinician in `staff` has the session's minutes left in the week."""
    return not any(
        (left := feas.staff_week_left(s, demand.week)) is not None and left < setup.kind.minutes
        for s in staff
    )


def _fits(
    problem: Problem,
    feas: Feasibility,
    demand: Demand,
    setup: _Setup,
    staff: tuple[str, ...],
    start: int,
) -> tuple[bool, str | None]:
    """(fits, room id) for the session at `start` with `staff`, against what is placed (weekly
    hours aside: `_hours_left`, once per clinician)."""
    kind, group = setup.kind, demand.group
    end = start + kind.minutes
    day = problem.day_of(start)
    if day is None:
        return False, None
    if group is not None and group.min_days_apart > 0:
        for a in feas.added:
            other = problem.day_of(a.start) if a.group == group.id else None
            if other is not None and abs((day.date - other.date).days) < group.min_days_apart:
                return False, None
    if not feas.people_free((*staff, *demand.patients), start, end):
        return False, None
    if feas.refusal(demand.patients, staff, kind, start) is not None:
        return False, None
    choices = setup.rooms
    fixed = dict(group.fixed_starts) if group is not None and group.fixed_starts else {}
    if fixed.get(start):
        choices = [(r, room) for r, room in choices if room.id == fixed[start]]
    room = feas.free_room(choices, start, end) if choices else None
    if setup.rooms and room is None:
        return False, None
    return True, room[1].id if room else None


def _choices(
    problem: Problem,
    feas: Feasibility,
    demand: Demand,
    setup: _Setup,
    staff: tuple[str, ...],
    starts: list[int],
    before: int | None = None,
) -> Iterator[tuple[int, str | None]]:
    """Feasible (start, room) among `starts` with `staff`, earliest first (before `before`)."""
    if setup.no_room or not _hours_left(feas, demand, setup, staff):
        return
    for start in starts:
        if before is not None and start >= before:
            return
        ok, room = _fits(problem, feas, demand, setup, staff, start)
        if ok:
            yield start, room


class _Placer:
    def __init__(self, problem: Problem, feas: Feasibility) -> None:
        self.problem, self.feas = problem, feas
        self._ids = itertools.count(1)
        self._setups: dict[int, _Setup] = {}
        self._starts: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        self._start_days: dict[tuple[int, tuple[str, ...]], list[int]] = {}

    def starts(self, demand: Demand, staff: tuple[str, ...]) -> list[int]:
        key = (demand.index, staff)
        if key not in self._starts:
            setup = self.setup(demand)
            self._starts[key] = _starts(self.problem, self.feas, demand, setup, staff)
        return self._starts[key]

    def minutes(self, demand_index: int) -> int:
        return self._setups[demand_index].kind.minutes

    def setup(self, demand: Demand) -> _Setup:
        if demand.index not in self._setups:
            self._setups[demand.index] = _setup(self.problem, self.feas, demand)
        return self._setups[demand.index]

    def placement(
        self, demand: Demand, staff: tuple[str, ...], start: int, room: str | None
    ) -> Placement:
        group = demand.group
        return Placement(
            id=f"greedy-{demand.key}-{next(self._ids)}",
            session_type=demand.session_type,
            start=start,
            minutes=self.setup(demand).kind.minutes,
            staff=staff,
            patients=demand.patients,
            room=room,
            group=group.id if group else None,
            court=demand.court,
        )

    def first_fit(self, demand: Demand) -> Placement | None:
        """The patient's own clinicians first (primary, recent, preferred), then the others in
        listed order; with the first who has a time, the earliest start on a day the patient has
        no session yet, else the earliest (fewer same-day pairs, and phase 1's hint keeps
        patients with their clinicians)."""
        setup = self.setup(demand)
        patient = self.feas.patients.get(demand.patients[0]) if demand.patients else None
        own: list[str] = []
        if patient is not None:
            own = [
                s for s in (patient.primary_staff, *patient.seen_by, patient.preferred_staff) if s
            ]
        rank = {s: n for n, s in reversed(list(enumerate(own)))}
        staff_sets = sorted(setup.staff_sets, key=lambda ss: rank.get(ss[0], len(rank)))
        taken = {
            day
            for p in demand.patients
            for day in self.days_of(demand)
            if self.feas.sessions_on_day.get((p, day))
        }
        for staff in staff_sets:
            starts = self.starts(demand, staff)
            days = self.start_days(demand, staff)
            order = [t for t, d in zip(starts, days, strict=True) if d not in taken]
            order += [t for t, d in zip(starts, days, strict=True) if d in taken]
            found = next(_choices(self.problem, self.feas, demand, setup, staff, order), None)
            if found is not None:
                return self.placement(demand, staff, found[0], found[1])
        return None

    def start_days(self, demand: Demand, staff: tuple[str, ...]) -> list[int]:
        key = (demand.index, staff)
        if key not in self._start_days:
            days = (self.problem.day_of(t) for t in self.starts(demand, staff))
            self._start_days[key] = [d.index if d is not None else -1 for d in days]
        return self._start_days[key]

    def days_of(self, demand: Demand) -> list[int]:
        lo, hi = demand.window
        return [d.index for d in self.problem.days if d.open[0] < hi and lo < d.open[1]]

    def tightness(self, demand: Demand) -> tuple[float, int]:
        """Most constrained first: the patient's open minutes in the demand's week, times the
        clinicians who may see them, per session still to place; then higher priority."""
        minutes = 0
        for p in demand.patients:
            windows = intersect(self.feas.patient_windows(p) or (), (demand.window,))
            minutes += sum(b - a for a, b in windows)
        staff = max(1, min(len(demand.staff_options), 5))
        return minutes * staff / max(1, demand.count), -demand.priority

    # -- group meetings, most constrained first ---------------------------------------------

    def group_choices(self, demand: Demand) -> list[tuple[int, str | None]]:
        setup = self.setup(demand)
        if not setup.staff_sets:
            return []
        staff = setup.staff_sets[0]
        starts = self.starts(demand, staff)
        return list(_choices(self.problem, self.feas, demand, setup, staff, starts))

    def groups(self, groups: list[Demand], until: float | None) -> list[tuple[Demand, Placement]]:
        by_index = {d.index: d for d in groups}
        left = {d.index: d.count for d in groups}
        people = {d.index: set(d.patients) | set(d.staff_options) for d in groups}
        members: dict[str, list[int]] = defaultdict(list)
        for i, who in people.items():
            for p in who:
                members[p].append(i)
        neighbours = {
            i: sorted({j for p in who for j in members[p]} - {i}) for i, who in people.items()
        }
        options = {i: self.group_choices(by_index[i]) for i in by_index}
        placed: list[tuple[Demand, Placement]] = []
        while left:
            if until is not None and time.perf_counter() >= until:
                break
            i = min(left, key=lambda i: (len(options[i]) / left[i], -left[i], i))
            demand = by_index[i]
            options[i] = self.group_choices(demand)  # fresh: rooms may have gone since
            appt = self._least_damage(demand, options[i], neighbours[i], options, left, placed)
            if appt is None:
                appt = self._repair(demand, placed, options, neighbours, left)
            if appt is None:
                del left[i]  # left out: the plan's CP-SAT phases may still find it a time
                continue
            left[i] -= 1
            if left[i] == 0:
                del left[i]
            self._taken(appt, neighbours[i], options)
        return placed

    def _taken(
        self, appt: Placement, near: list[int], options: dict[int, list[tuple[int, str | None]]]
    ) -> None:
        """Neighbours lose the choices that overlap `appt` (they share someone with it)."""
        for j in near:
            options[j] = [
                (s, r)
                for s, r in options[j]
                if not (s < appt.end and appt.start < s + self.minutes(j))
            ]

    def _least_damage(
        self,
        demand: Demand,
        choices: list[tuple[int, str | None]],
        near: list[int],
        options: dict[int, list[tuple[int, str | None]]],
        left: dict[int, int],
        placed: list[tuple[Demand, Placement]],
    ) -> Placement | None:
        if not choices:
            return None
        minutes = self.setup(demand).kind.minutes
        starts = {j: [s for s, _ in options[j]] for j in near if j in left}
        used_days: dict[int, int] = defaultdict(int)
        for d, a in placed:
            if d.index == demand.index:
                day = self.problem.day_of(a.start)
                used_days[day.index if day else -1] += 1

        def damage(choice: tuple[int, str | None]) -> tuple[float, int, int]:
            start = choice[0]
            lost = 0.0
            for j, js in starts.items():
                n = bisect_left(js, start + minutes) - bisect_left(js, start - self.minutes(j) + 1)
                if n:
                    lost += n * left[j] / max(1, len(js))
            day = self.problem.day_of(start)
            return lost, used_days[day.index if day else -1], start

        start, room = min(choices, key=damage)
        appt = self.placement(demand, self.setup(demand).staff_sets[0], start, room)
        self.feas.add(appt)
        placed.append((demand, appt))
        return appt

    def _repair(
        self,
        demand: Demand,
        placed: list[tuple[Demand, Placement]],
        options: dict[int, list[tuple[int, str | None]]],
        neighbours: dict[int, list[int]],
        left: dict[int, int],
    ) -> Placement | None:
        """Move one blocking meeting so that this one fits: take it back, place this one where
        it was in the way, then find the one taken back another time; undo when it has none."""
        setup = self.setup(demand)
        if not setup.staff_sets:
            return None
        staff = setup.staff_sets[0]
        who = set(demand.patients) | set(staff)
        room_ids = {room.id for _, room in setup.rooms}
        tries = 0
        for start in self.starts(demand, staff):
            end = start + setup.kind.minutes
            blockers = [
                (d, a)
                for d, a in placed
                if a.start < end
                and start < a.end
                and (who & a.people or (a.room is not None and a.room in room_ids))
            ]
            for d, a in blockers:
                if tries >= REPAIR_TRIES:
                    return None
                tries += 1
                self.feas.remove(a)
                ok, room = _fits(self.problem, self.feas, demand, setup, staff, start)
                ok = ok and _hours_left(self.feas, demand, setup, staff)
                if ok:
                    appt = self.placement(demand, staff, start, room)
                    self.feas.add(appt)
                    moved = self.group_choices(d)
                    if moved:
                        placed.remove((d, a))
                        self._least_damage(d, moved, neighbours[d.index], options, left, placed)
                        placed.append((demand, appt))
                        return appt
                    self.feas.remove(appt)
                self.feas.add(a)
        return None


def greedy_placements(
    problem: Problem, demands: list[Demand], until: float | None = None
) -> tuple[list[tuple[Demand, Placement]], Feasibility]:
    """Group meetings most constrained first (with repair), then patients by first fit; with
    `until` (a perf_counter moment) it stops placing once that has passed, so that the plan's
    later steps keep their share of the time limit."""
    feas = Feasibility(problem)
    placer = _Placer(problem, feas)
    groups = [d for d in demands if d.group is not None and not d.blocked and d.count > 0]
    out = placer.groups(groups, until)
    patients = [d for d in demands if not d.blocked and d.group is None and d.count > 0]
    for demand in sorted(patients, key=placer.tightness):
        if until is not None and time.perf_counter() >= until:
            break
        for _ in range(demand.count):
            appt = placer.first_fit(demand)
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
