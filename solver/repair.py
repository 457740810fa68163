"""repair: a clinician out, a room closed, an emergency admission. Keep everything else, move as
little as possible, explain every move.

Each affected appointment gets a list of re-placements with a cost (RepairCosts, lower is
better): the same time with a covering clinician who has the same credentials and
specializations is cheapest, then another eligible clinician, then another time the same day,
then another day. Pinned and court-required sessions pay `protected_move` for any change of time,
so they only move when no other choice exists. CP-SAT picks one option per appointment (or none)
so that the re-placed sessions do not collide with each other; nothing outside the disruption
is touched.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from solver.feasibility import Feasibility
from solver.limits import Use, add_rule_limits
from solver.model import (
    Bump,
    Disruption,
    EmergencyAnswer,
    Move,
    Placement,
    Problem,
    RepairResult,
    SlotOption,
    SlotRequest,
    SolveStats,
    Unplaced,
)
from solver.settings import SolverSettings
from solver.slots import SlotFinder
from solver.timegrid import intersect, overlaps, starts_within, subtract

DAY = 24 * 60


@dataclass(frozen=True)
class RepairCosts:
    cover_same_credentials: int = 1
    """Same time, a covering clinician with the same credentials and specializations."""
    cover_other: int = 4
    """Same time, another clinician the rules allow."""
    room_change: int = 1
    same_day: int = 10
    """Another time the same day (plus `per_hour` per hour moved)."""
    per_hour: int = 1
    other_day: int = 30
    """Another day (plus `per_day` per day moved)."""
    per_day: int = 2
    protected_move: int = 500
    """Extra for changing the time of a pinned or court-required session."""
    unplaced: int = 1000
    unplaced_protected: int = 5000
    max_options: int = 400
    """Options kept per appointment (cheapest first)."""


@dataclass(frozen=True)
class _Option:
    appt: Placement
    cost: int
    changes: tuple[str, ...]
    reason: str


def affected_by(problem: Problem, disruption: Disruption) -> list[Placement]:
    return [
        a
        for a in problem.booked
        if overlaps((a.start, a.end), disruption.window)
        and (
            (disruption.staff is not None and disruption.staff in a.staff)
            or (disruption.room is not None and a.room == disruption.room)
        )
    ]


def without_disruption(problem: Problem, disruption: Disruption) -> Problem:
    """The problem with the clinician's or room's availability cut by the disruption."""
    staff = tuple(
        replace(s, available=subtract(s.available, [disruption.window]))
        if s.id == disruption.staff
        else s
        for s in problem.staff
    )
    rooms = tuple(
        replace(r, available=subtract(r.available, [disruption.window]))
        if r.id == disruption.room
        else r
        for r in problem.rooms
    )
    return replace(problem, staff=staff, rooms=rooms)


class _Replacer:
    def __init__(
        self,
        problem: Problem,
        kept: list[Placement],
        costs: RepairCosts,
        now: int | None,
        absent: str | None,
    ) -> None:
        self.problem = problem
        self.feas = Feasibility(problem, kept)
        self.costs = costs
        self.now = problem.horizon[0] if now is None else now
        self.absent = absent
        self.staff = problem.staff_by_id()

    def staff_choices(self, a: Placement) -> list[tuple[tuple[str, ...], int, str]]:
        """(staff, cost, why): the original team, then teams with the absent seat covered."""
        out: list[tuple[tuple[str, ...], int, str]] = [(a.staff, 0, "")]
        seat = self.absent if self.absent in a.staff else None
        if seat is None:
            return out
        elig = self.problem.eligibility
        if a.group:
            allowed = set(elig.qualified.get(a.session_type, ()))
        else:
            sets = [set(elig.staff_for.get((p, a.session_type), ())) for p in a.patients]
            allowed = set.intersection(*sets) if sets else set()
        gone = self.staff.get(seat)
        for sid in sorted(allowed - set(a.staff)):
            info = self.staff.get(sid)
            if info is None or elig.apart(frozenset({sid, *a.patients})):
                continue
            same = gone is not None and (
                info.credentials >= gone.credentials
                and info.specializations >= gone.specializations
            )
            cost = self.costs.cover_same_credentials if same else self.costs.cover_other
            why = f"{sid} covers for {seat}" + (" (same credentials)" if same else "")
            out.append((tuple(sid if s == seat else s for s in a.staff), cost, why))
        out.sort(key=lambda item: (item[1], item[0]))
        return out

    def options(self, a: Placement) -> list[_Option]:
        problem, feas, costs = self.problem, self.feas, self.costs
        kind = problem.session_types.get(a.session_type)
        if kind is None:
            return []
        protected = a.pinned or a.court
        day0 = problem.day_of(a.start)
        size = feas.people_in_room(kind, len(a.patients), len(a.staff))
        rooms = feas.room_choices(kind, size)
        future = (max(self.now, problem.horizon[0]), problem.horizon[1])
        out: list[_Option] = []
        for staff, staff_cost, staff_why in self.staff_choices(a):
            windows = intersect(feas.session_windows(kind, a.patients, staff), (future,))
            starts = starts_within(windows, a.minutes, problem.slot_minutes)
            if covered(windows, a.start, a.end) and a.start not in starts:
                starts.append(a.start)  # the original time, even off the grid
            for start in starts:
                end = start + a.minutes
                day = problem.day_of(start)
                if day is None:
                    continue
                if staff != a.staff and day0 is not None and day.index != day0.index:
                    continue  # a cover is for the original day; other days keep the clinician
                if (
                    feas.refusal(a.patients, staff, kind, start, a.minutes, totals=False)
                    is not None
                ):
                    continue
                if not feas.people_free((*staff, *a.patients), start, end):
                    continue
                if any(
                    (left := feas.staff_week_left(s, day.week)) is not None and left < a.minutes
                    for s in staff
                ):
                    continue
                room_id: str | None = None
                room_cost = 0
                if rooms:
                    same = next((r for _, r in rooms if r.id == a.room), None)
                    if same is not None and feas.room_free(same, start, end):
                        room_id = same.id
                    else:
                        found = feas.free_room(rooms, start, end)
                        if found is None:
                            continue
                        room_id, room_cost = found[1].id, costs.room_change
                changes: list[str] = []
                cost = staff_cost + room_cost
                if staff != a.staff:
                    changes.append("staff")
                if room_id != a.room:
                    changes.append("room")
                if start != a.start:
                    if day0 is not None and day.index == day0.index:
                        changes.append("time")
                        cost += costs.same_day + costs.per_hour * abs(start - a.start) // 60
                    else:
                        changes += ["time", "day"]
                        days = abs(start - a.start) // DAY
                        cost += costs.other_day + costs.per_day * days
                    if protected:
                        cost += costs.protected_move
                if start == a.start:
                    when = "same time"
                elif "day" in changes:
                    when = f"moved {abs(start - a.start) // DAY or 1} day(s) " + (
                        "later" if start > a.start else "earlier"
                    )
                else:
                    when = (
                        f"moved {abs(start - a.start)} min "
                        + ("later" if start > a.start else "earlier")
                        + " the same day"
                    )
                why = ", ".join(
                    x
                    for x in (
                        staff_why or "same clinician",
                        when,
                        "another room" if "room" in changes else "",
                    )
                    if x
                )
                out.append(
                    _Option(
                        replace(a, staff=staff, start=start, room=room_id),
                        cost,
                        tuple(changes),
                        why,
                    )
                )
        out.sort(key=lambda o: (o.cost, o.appt.start))
        return out[: costs.max_options]

    def solve(
        self, affected: list[Placement], settings: SolverSettings
    ) -> tuple[list[Move], list[Unplaced], SolveStats]:
        began = time.perf_counter()
        costs = self.costs
        opts = {a.id: self.options(a) for a in affected}
        m = cp_model.CpModel()
        chosen: dict[tuple[str, int], cp_model.IntVar] = {}
        by_resource: dict[str, list[tuple[str, cp_model.IntervalVar]]] = defaultdict(list)
        uses: list[Use] = []
        terms = []
        for a in affected:
            lits = []
            for n, o in enumerate(opts[a.id]):
                lit = m.NewBoolVar(f"{a.id}_{n}")
                chosen[(a.id, n)] = lit
                lits.append(lit)
                terms.append(o.cost * lit)
                iv = m.NewOptionalFixedSizeIntervalVar(o.appt.start, o.appt.minutes, lit, "")
                for who in (*o.appt.staff, *o.appt.patients):
                    by_resource[who].append((a.id, iv))
                if o.appt.room:
                    by_resource["room:" + o.appt.room].append((a.id, iv))
                uses.append(
                    Use(
                        lit,
                        a.patients,
                        o.appt.staff,
                        a.session_type,
                        o.appt.start,
                        a.minutes,
                        bool(a.group),
                    )
                )
            # -- Each affected appointment: one re-placement, or none (and it is reported) ----
            m.AddAtMostOne(lits)
            miss = costs.unplaced_protected if (a.pinned or a.court) else costs.unplaced
            terms.append(miss * (1 - sum(lits)))
        # -- Re-placed sessions never collide with each other (the rest is already excluded) --
        for items in by_resource.values():
            if len({aid for aid, _ in items}) > 1:
                m.AddNoOverlap([iv for _, iv in items])
        # -- The rules' limits hold among re-placed sessions too (the same functions as plan) -
        add_rule_limits(m, self.feas, uses, totals=False)
        m.Minimize(sum(terms))
        solver = cp_model.CpSolver()
        settings.apply(solver)
        code = solver.Solve(m)
        ok = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        moves: list[Move] = []
        unplaced: list[Unplaced] = []
        for a in affected:
            pick = next(
                (
                    o
                    for n, o in enumerate(opts[a.id])
                    if ok and solver.BooleanValue(chosen[(a.id, n)])
                ),
                None,
            )
            if pick is None:
                why = (
                    "no eligible clinician, patient time and room are free in the horizon"
                    if not opts[a.id]
                    else "every option collides with another re-placed session"
                )
                unplaced.append(Unplaced(a, why))
            else:
                moves.append(Move(a, pick.appt, pick.changes, pick.cost, pick.reason or "moved"))
        stats = SolveStats(
            status={cp_model.OPTIMAL: "OPTIMAL", cp_model.FEASIBLE: "FEASIBLE"}.get(
                code, "INFEASIBLE" if code == cp_model.INFEASIBLE else "UNKNOWN"
            ),
            seconds=round(time.perf_counter() - began, 3),
            workers=settings.workers,
            objective=solver.ObjectiveValue() if ok else None,
            bound=solver.BestObjectiveBound() if ok else None,
            candidates=sum(len(v) for v in opts.values()),
        )
        return moves, unplaced, stats


def covered(windows: tuple[tuple[int, int], ...], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in windows)


def repair(
    problem: Problem,
    disruption: Disruption,
    settings: SolverSettings | None = None,
    costs: RepairCosts | None = None,
    now: int | None = None,
) -> RepairResult:
    """Re-place the appointments the disruption touches; keep all others exactly."""
    if disruption.staff is None and disruption.room is None:
        raise ValueError("a disruption names a clinician or a room")
    began = time.perf_counter()
    settings = settings or SolverSettings(time_limit=10.0)
    affected = affected_by(problem, disruption)
    ids = {a.id for a in affected}
    kept = [a for a in problem.booked if a.id not in ids]
    reduced = without_disruption(problem, disruption)
    # Without a clock, nothing moves to before the disruption (it may already be past).
    start_from = disruption.window[0] if now is None else now
    replacer = _Replacer(reduced, kept, costs or RepairCosts(), start_from, disruption.staff)
    moves, unplaced, stats = replacer.solve(affected, settings)
    stats.seconds = round(time.perf_counter() - began, 3)
    return RepairResult(moves=moves, unplaced=unplaced, kept=len(kept), stats=stats)


def _priority(problem: Problem, appt: Placement) -> int:
    acuity = {p.id: p.acuity for p in problem.patients}
    return max((acuity.get(p, 3) for p in appt.patients), default=3)


def emergency(
    problem: Problem,
    request: SlotRequest,
    k: int = 3,
    now: int | None = None,
    settings: SolverSettings | None = None,
    costs: RepairCosts | None = None,
    max_trials: int = 6,
) -> EmergencyAnswer:
    """The earliest options for an urgent request; and earlier ones that need lower-priority
    appointments (not pinned, not court-required, lower acuity) moved, with what that costs."""
    settings = settings or SolverSettings(time_limit=5.0)
    costs = costs or RepairCosts()
    finder = SlotFinder(problem)
    answer = finder.find(request, k=10_000, now=now)
    free = sorted(answer.options, key=lambda o: (o.start, -o.score))[:k]
    urgency = max(
        (p.acuity for p in problem.patients if p.id in request.patients),
        default=3,
    )
    limit = free[0].start if free else request.window[1]
    kind = problem.session_types.get(request.session_type)
    if kind is None:
        return EmergencyAnswer(free=[], with_bumps=[], reason=answer.reason)
    minutes = request.minutes or kind.minutes
    staff_ids = list(problem.eligibility.staff_for.get((request.patients[0], kind.id), ()))
    if request.staff:
        staff_ids = [s for s in staff_ids if s == request.staff]
    lo = max(request.window[0], now if now is not None else request.window[0])
    feas = Feasibility(problem)
    trials: list[tuple[int, str, list[Placement]]] = []
    for start in starts_within(intersect(feas.open, [(lo, limit)]), minutes, problem.slot_minutes):
        end = start + minutes
        if not feas.people_free(request.patients, start, end):
            continue
        for sid in staff_ids:
            if feas.refusal(request.patients, (sid,), kind, start, minutes) is not None:
                continue
            windows = feas.session_windows(kind, request.patients, (sid,))
            if not covered(windows, start, end):
                continue
            blocking = [
                a
                for a in problem.booked
                if sid in a.staff and overlaps((a.start, a.end), (start, end))
            ]
            if not blocking or any(
                a.pinned or a.court or _priority(problem, a) >= urgency for a in blocking
            ):
                continue
            trials.append((start, sid, blocking))
        if len(trials) >= max_trials:
            break
    with_bumps: list[tuple[SlotOption, list[Bump], int]] = []
    for start, sid, blocking in trials[:max_trials]:
        ids = {a.id for a in blocking}
        kept = [a for a in problem.booked if a.id not in ids]
        size = feas.people_in_room(kind, len(request.patients), 1)
        free_rooms = Feasibility(problem, kept)
        room = free_rooms.free_room(free_rooms.room_choices(kind, size), start, start + minutes)
        if kind.room_kinds and room is None:
            continue
        urgent = Placement(
            id="emergency",
            session_type=kind.id,
            start=start,
            minutes=minutes,
            staff=(sid,),
            patients=request.patients,
            room=room[1].id if room else None,
        )
        replacer = _Replacer(problem, [*kept, urgent], costs, now, None)
        moves, unplaced, _ = replacer.solve(blocking, settings)
        if unplaced:
            continue
        bumps = [Bump(mv.before, mv.after, mv.cost) for mv in moves]
        total = sum(b.cost for b in bumps)
        option = SlotOption(
            start=start,
            end=start + minutes,
            staff=(sid,),
            room=urgent.room,
            score=float(-total),
            why={"moves_needed": float(len(bumps)), "move_cost": float(-total)},
        )
        with_bumps.append((option, bumps, total))
    with_bumps.sort(key=lambda item: (item[0].start, item[2]))
    return EmergencyAnswer(free=free, with_bumps=with_bumps[:k], reason=answer.reason)
