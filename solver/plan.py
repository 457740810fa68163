"""The whole period on CP-SAT: every weekly requirement and standing group, around what is booked.

Two lexicographic phases over the same candidate model (see solver/candidates.py):
  1. placement: maximize the priority-weighted number of required sessions placed
     (acuity- and court-order-weighted); CP-SAT's bound on it is the "closeness" we report;
  2. quality: keep phase 1's placement value, minimize continuity, preference, spreading,
     compactness and caseload-balance penalties (weights in solver.model.Weights).
The greedy start (solver/baseline.py) seeds phase 1 as a hint and is its floor, so the result is
never worse than it. Every step spends one clock: the time limit (solver/deadline.py).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.baseline import greedy_placements
from solver.candidates import Candidate, CandidateBuilder, CandidateLimits, rooms_for_picked
from solver.deadline import (
    CANDIDATES_SHARE,
    FIRST_FIT_SHARE,
    MIN_SOLVE,
    NEIGHBOURHOOD_GAINING_SHARE,
    NEIGHBOURHOOD_SHARE,
    Deadline,
    Step,
)
from solver.demand import Demand, expand_demands
from solver.feasibility import Feasibility
from solver.limits import add_rule_limits, short_by_rule, uses_of
from solver.metrics import tally, utilization
from solver.model import Placement, PlanResult, Problem, SolveStats
from solver.neighbourhood import improve
from solver.settings import SolverSettings
from solver.timegrid import covers


@dataclass(frozen=True)
class Progress:
    phase: str
    solutions: int
    objective: float
    bound: float
    seconds: float


ProgressFn = Callable[[Progress | Step], None]
"""Called with CP-SAT's progress (`Progress`) and as each step of the plan ends (`Step`)."""


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Counts solutions, remembers when the first came, and forwards progress."""

    def __init__(self, phase: str, began: float, on_progress: ProgressFn | None) -> None:
        super().__init__()
        self.phase = phase
        self.began = began
        self.on_progress = on_progress
        self.solutions = 0
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        self.solutions += 1
        now = time.perf_counter() - self.began
        if self.first is None:
            self.first = now
        if self.on_progress is not None:
            self.on_progress(
                Progress(
                    self.phase,
                    self.solutions,
                    self.ObjectiveValue(),
                    self.BestObjectiveBound(),
                    now,
                )
            )


SAME_DAY_EXCESS = 10
"""Weight, in units of `same_day_as_other`, of each same-day session beyond the greedy start's."""


def _slots(c: Candidate, slot: int) -> range:
    return range(c.start // slot, (c.end - 1) // slot + 1)


class PlanModel:
    """The CP-SAT model: one Boolean per candidate, one named function per constraint family
    (below; the rules' limits and payer budgets in solver/limits.py, one function per rule). Time windows (everyone's hours, an intern's supervisor on site
    STF-INTERN-ONSITE, a patient's court commitments CRT-COMMITMENT), credentials, needs and
    keep-apart pairs need no constraint: every candidate already satisfies them."""

    def __init__(
        self,
        problem: Problem,
        feas: Feasibility,
        demands: list[Demand],
        cands: list[Candidate],
    ) -> None:
        self.problem, self.feas, self.demands, self.cands = problem, feas, demands, cands
        self.model = cp_model.CpModel()
        self.x = [self.model.NewBoolVar(f"x{c.index}") for c in cands]
        by_demand: dict[int, list[int]] = defaultdict(list)
        for c in cands:
            by_demand[c.demand].append(c.index)
        self.by_demand = by_demand
        self.uses = uses_of(self.x, cands, demands)
        self.cover: dict[tuple[str, int], list[int]] = defaultdict(list)
        add_weekly_counts(self)
        add_group_meeting_days(self)
        add_no_double_booking(self)
        add_room_pools(self)
        add_staff_weekly_hours(self)
        add_rule_limits(self.model, feas, self.uses)

        self._extras: list[cp_model.IntVar] | None = None
        self.extras_top = 0
        """The largest the same-day extras can sum to."""
        self.aux: list[tuple[cp_model.IntVar, Callable[[set[int]], int]]] = []
        """Phase-2 helper variables and how to compute each from a set of chosen candidates,
        so that phase 2 starts from a complete hint."""
        # The placement objective (phase 1).
        self.placement = sum(demands[c.demand].priority * self.x[c.index] for c in cands)

    # -- phase 2 terms ------------------------------------------------------------------------

    def same_day_extras(self) -> list[cp_model.IntVar]:
        """Per patient and day, sessions beyond the first (what is booked counts): made once,
        used by both phases."""
        if self._extras is not None:
            return self._extras
        problem, feas, cands, demands, x, m = (
            self.problem,
            self.feas,
            self.cands,
            self.demands,
            self.x,
            self.model,
        )
        per_patient_day: dict[tuple[str, int], list[int]] = defaultdict(list)
        for c in cands:
            for p in demands[c.demand].patients:
                per_patient_day[(p, c.day)].append(c.index)
        booked_pd: dict[tuple[str, int], int] = defaultdict(int)
        for appt in feas.booked:
            day = problem.day_of(appt.start)
            if day is not None:
                for p in appt.patients:
                    booked_pd[(p, day.index)] += 1
        self._extras = []
        self.extras_top = 0
        for key, idx in per_patient_day.items():
            base = booked_pd.get(key, 0)
            distinct = len({cands[i].demand for i in idx})
            if distinct + base <= 1:
                continue
            extra = m.NewIntVar(0, distinct + base, f"sameday_{key[0]}_{key[1]}")
            m.Add(extra >= sum(x[i] for i in idx) + base - 1)
            self.aux.append(
                (extra, lambda ch, idx=idx, base=base: max(0, sum(i in ch for i in idx) + base - 1))
            )
            self._extras.append(extra)
            self.extras_top += distinct + base
        return self._extras

    def quality_cost(self, compact: bool = True) -> cp_model.LinearExpr:
        """Phase 2's cost. `compact` adds one Boolean per clinician and start slot (a block of
        work starting there); large models skip it so that phase 2 still finds solutions."""
        problem, feas, cands, demands, x, m = (
            self.problem,
            self.feas,
            self.cands,
            self.demands,
            self.x,
            self.model,
        )
        w = problem.weights
        slot = problem.slot_minutes
        terms: list[cp_model.LinearExprT] = [c.cost * x[c.index] for c in cands if c.cost]

        # Continuity and preferences are in each candidate's static cost (solver/scoring.py).

        # -- Spreading: a patient's sessions on different days ----------------------------------
        terms.append(w.same_day_as_other * sum(self.same_day_extras()))

        # -- Compact days: each separate block of work in a clinician's day costs --------------
        booked_slots: set[tuple[str, int]] = set()
        for appt in feas.booked:
            for s in appt.staff:
                for t in range(appt.start // slot, (appt.end - 1) // slot + 1):
                    booked_slots.add((s, t))
        starts: set[tuple[str, int]] = {(s, c.start // slot) for c in cands for s in c.staff}

        def busy_in(ch: set[int], s: str, t: int) -> int:
            if (s, t) in booked_slots:
                return 1
            return sum(i in ch for i in self.cover.get((s, t), ()))

        def busy(s: str, t: int) -> cp_model.LinearExprT:
            if (s, t) in booked_slots:
                return 1
            return sum(x[i] for i in self.cover.get((s, t), ()))

        for s, t in starts if compact else ():
            if (s, t) in booked_slots:
                continue
            block = m.NewBoolVar(f"block_{s}_{t}")
            m.Add(block >= busy(s, t) - busy(s, t - 1))
            self.aux.append(
                (block, lambda ch, s=s, t=t: int(busy_in(ch, s, t) > busy_in(ch, s, t - 1)))
            )
            terms.append(w.staff_day_block * block)

        # -- Balanced caseloads: minutes above each clinician's fair share, per slot -----------
        load: dict[str, list[int]] = defaultdict(list)
        for c in cands:
            for s in c.staff:
                load[s].append(c.index)
        booked_min: dict[str, int] = defaultdict(int)
        for appt in feas.booked:
            for s in appt.staff:
                booked_min[s] += appt.minutes
        avail = {s: sum(b - a for a, b in feas.staff_windows.get(s, ())) for s in load}
        total_avail = sum(avail.values()) or 1
        kinds = problem.session_types
        demanded = sum(
            d.count * kinds[d.session_type].minutes * max(1, len(d.staff_options) if d.group else 1)
            for d in demands
            if d.session_type in kinds and not d.blocked
        ) + sum(booked_min[s] for s in load)
        for s, idx in load.items():
            share = demanded * avail[s] // total_avail
            over = m.NewIntVar(0, 10_000, f"over_{s}")
            m.Add(
                over * slot
                >= sum(cands[i].minutes * x[i] for i in idx) + booked_min.get(s, 0) - share
            )
            base_min = booked_min.get(s, 0) - share

            def over_value(ch: set[int], idx: list[int] = idx, base_min: int = base_min) -> int:
                load = sum(cands[i].minutes for i in idx if i in ch) + base_min
                return max(0, -(-load // slot))

            self.aux.append((over, over_value))
            terms.append(w.over_fair_share * over)
        return sum(terms)


# -- hard constraints, one function per family ---------------------------------------------------


def add_weekly_counts(pm: PlanModel) -> None:
    """Never more sessions than the week still needs (requirements net of what is booked)."""
    for d_index, idx in pm.by_demand.items():
        pm.model.Add(sum(pm.x[i] for i in idx) <= pm.demands[d_index].count)


def add_group_meeting_days(pm: PlanModel) -> None:
    """A standing group keeps `min_days_apart` days between meetings; 0 (the facility
    contract's default) lets it meet several times a day."""
    day_date = {d.index: d.date for d in pm.problem.days}
    for d_index, idx in pm.by_demand.items():
        group = pm.demands[d_index].group
        if group is None or group.min_days_apart <= 0:
            continue
        per_day: dict[int, list[int]] = defaultdict(list)
        for i in idx:
            per_day[pm.cands[i].day].append(i)
        meets = {}
        for day, day_idx in per_day.items():
            meets[day] = pm.model.NewBoolVar(f"meets_{d_index}_{day}")
            pm.model.Add(sum(pm.x[i] for i in day_idx) == meets[day])
        days = sorted(meets)
        for a_pos, a in enumerate(days):
            for b in days[a_pos + 1 :]:
                if (day_date[b] - day_date[a]).days < group.min_days_apart:
                    pm.model.AddBoolOr([meets[a].Not(), meets[b].Not()])


def add_no_double_booking(pm: PlanModel) -> None:
    """A clinician, a patient or a named room is in one place at a time (slot-indexed; starts
    are on the slot grid, so sharing a slot means overlapping)."""
    slot = pm.problem.slot_minutes
    for c in pm.cands:
        people = (*c.staff, *pm.demands[c.demand].patients)
        keys = [*people, *(["room:" + c.room] if c.room else [])]
        for t in _slots(c, slot):
            for key in keys:
                pm.cover[(key, t)].append(c.index)
    for idx in pm.cover.values():
        if len(idx) > 1:
            pm.model.AddAtMostOne(pm.x[i] for i in idx)


def add_room_pools(pm: PlanModel) -> None:
    """At every slot, sessions needing a room kind of at least a given size never outnumber the
    free rooms of that kind and size (Hall's condition for nested sizes; actual rooms are
    assigned after solving)."""
    problem, feas, cands, slot = pm.problem, pm.feas, pm.cands, pm.problem.slot_minutes
    pool: dict[tuple[str, int], list[int]] = defaultdict(list)
    for c in cands:
        if c.kind is not None:
            for t in _slots(c, slot):
                pool[(c.kind, t)].append(c.index)
    rooms_by_kind: dict[str, list] = defaultdict(list)
    for room in problem.rooms:
        rooms_by_kind[room.kind].append(room)
    for (kind, t), idx in pool.items():
        levels = sorted({cands[i].size for i in idx})
        free_rooms = [
            r
            for r in rooms_by_kind[kind]
            if covers(feas.room_windows[r.id], t * slot, (t + 1) * slot)
            and feas.busy.room_free(r.id, t * slot, (t + 1) * slot)
        ]
        for level in levels:
            users = [i for i in idx if cands[i].size >= level]
            cap = sum(1 for r in free_rooms if r.capacity >= level)
            if len(users) > cap:
                pm.model.Add(sum(pm.x[i] for i in users) <= cap)


def add_staff_weekly_hours(pm: PlanModel) -> None:
    """Clinicians' weekly hours (the facility file's max_minutes_per_week)."""
    minutes: dict[tuple[str, int], list[int]] = defaultdict(list)
    for c in pm.cands:
        for s in c.staff:
            minutes[(s, c.week)].append(c.index)
    for (s, week), idx in minutes.items():
        left = pm.feas.staff_week_left(s, week)
        if left is not None and sum(pm.cands[i].minutes for i in idx) > left:
            pm.model.Add(sum(pm.cands[i].minutes * pm.x[i] for i in idx) <= max(0, left))


def status_name(code: int) -> str:
    return {
        cp_model.OPTIMAL: "OPTIMAL",
        cp_model.FEASIBLE: "FEASIBLE",
        cp_model.INFEASIBLE: "INFEASIBLE",
        cp_model.MODEL_INVALID: "MODEL_INVALID",
    }.get(code, "UNKNOWN")


def plan(
    problem: Problem,
    settings: SolverSettings | None = None,
    limits: CandidateLimits | None = None,
    on_progress: ProgressFn | None = None,
    began: float | None = None,
) -> PlanResult:
    """The plan within `settings.time_limit` seconds from `began` (a perf_counter moment; the
    caller's, when reading the facility counts too; default now): every step spends one clock
    (solver/deadline.py) and reports a `Step` through `on_progress`."""
    settings = settings or SolverSettings()
    limits = limits or CandidateLimits()
    clock = Deadline(settings.time_limit, began)
    began = clock.began

    def report(step: Step) -> None:
        if on_progress is not None:
            on_progress(step)

    demands = expand_demands(problem)
    feas = Feasibility(problem)
    report(clock.step("demands", sum(d.count for d in demands if not d.blocked)))

    # The greedy start (solver/baseline.py: group meetings most constrained first, with repair,
    # then patients by first fit): the floor (the plan never places less) and phase 1's hint.
    # It runs first, so that a tight time limit still leaves a plan. As a hint it helped the
    # larger demo weeks ('l': 3.1% from the bound with 76% continuity against 9.0% and 65%
    # without; bench/solver.py, 2026-11-30) and it is the whole difference on group-heavy weeks,
    # where CP-SAT started without it placed no more than file-order first fit in 10 s.
    greedy, _ = greedy_placements(problem, demands, until=clock.start_cutoff(FIRST_FIT_SHARE))
    report(clock.step("greedy start", len(greedy), "placed"))
    # Sessions the greedy start left out: small neighbourhoods around each re-solved on every
    # start (solver/neighbourhood.py); the main model's few starts per clinician-day cannot.
    if len(greedy) < sum(d.count for d in demands if not d.blocked):
        greedy = improve(
            problem,
            demands,
            greedy,
            until=clock.cutoff(NEIGHBOURHOOD_GAINING_SHARE),
            gaining_after=clock.cutoff(NEIGHBOURHOOD_SHARE),
            workers=settings.workers,
            seed=settings.seed,
        )
        report(clock.step("neighbourhoods around unplaced", len(greedy), "placed"))

    builder = CandidateBuilder(problem, feas, limits)
    builder.build(demands, until=clock.cutoff(CANDIDATES_SHARE))
    hint: set[int] = set()
    for demand, appt in greedy:
        day = problem.day_of(appt.start)
        if day is None:
            continue
        if demand.group is not None:
            cand = builder.add_group_choice(demand, appt.start, day.index, appt.room)
        else:
            room_kind = problem.rooms_by_id()[appt.room].kind if appt.room else None
            cand = builder.add_patient_choice(demand, appt.staff[0], appt.start, room_kind)
        if cand is not None:
            hint.add(cand.index)
    cands = builder.candidates
    cut = [
        f"{n} demands {what}"
        for n, what in ((builder.thinned, "thinned"), (builder.skipped, "skipped"))
        if n
    ]
    report(clock.step("candidates", len(cands), "; ".join(["made", *cut])))
    stats = SolveStats(
        status="FEASIBLE", seconds=0.0, workers=settings.workers, candidates=len(cands)
    )
    chosen = sorted(hint)  # the greedy start's plan, unless CP-SAT finds better in time
    if clock.for_solving() < MIN_SOLVE:
        report(clock.step("no time left to solve: the greedy start's plan", len(chosen)))
        return _result(problem, feas, demands, cands, chosen, builder.why_none, stats, began)

    pm = PlanModel(problem, feas, demands, cands)
    m = pm.model
    report(clock.step("model", len(cands), "candidates"))
    first_fit_value = sum(demands[cands[i].demand].priority for i in hint)
    for c in cands:
        m.AddHint(pm.x[c.index], c.index in hint)

    # -- Phase 1: placement, then each candidate's static cost (continuity, preferences) --------
    # One solve, lexicographic by scale: `scale` exceeds any total static cost (one candidate per
    # demand at most), so no saving in cost can buy a lost placement. Phase 1's plan then starts
    # phase 2 from the patients' own clinicians instead of an arbitrary placement.
    worst: dict[int, int] = defaultdict(int)
    for c in cands:
        worst[c.demand] = max(worst[c.demand], c.cost)
    # Spreading joins phase 1's second rank: a patient's sessions on one day beyond the greedy
    # start's count cost SAME_DAY_EXCESS each (the issue: no more same-day pairs than first fit;
    # phase 2 alone often had no time to undo phase 1's pairs on tight weeks).
    extras = pm.same_day_extras()
    hinted = set(hint)
    start_extra = sum(value(hinted) for _, value in pm.aux)  # the extras are all aux so far
    excess = m.NewIntVar(0, pm.extras_top, "same_day_excess")
    m.Add(excess >= sum(extras) - start_extra)
    w_day = problem.weights.same_day_as_other
    scale = sum(worst.values()) + (1 + SAME_DAY_EXCESS) * w_day * pm.extras_top + 1
    static_cost = (
        sum(c.cost * pm.x[c.index] for c in cands if c.cost)
        + w_day * sum(extras)
        + SAME_DAY_EXCESS * w_day * excess
    )
    for var, value in pm.aux:
        m.AddHint(var, value(hinted))
    m.AddHint(excess, 0)
    m.Maximize(scale * pm.placement - static_cost)
    solving = clock.for_solving()
    if solving < MIN_SOLVE:
        report(clock.step("no time left to solve: the greedy start's plan", len(chosen)))
        return _result(problem, feas, demands, cands, chosen, builder.why_none, stats, began)
    solver = cp_model.CpSolver()
    settings.apply(solver, solving * settings.placement_share)
    watch1 = _Watcher("placement", began, on_progress)
    code = solver.Solve(m, watch1)
    stats.status = status_name(code)
    stats.first_solution_seconds = watch1.first
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed_value = solver.Value(pm.placement)
        chosen = [c.index for c in cands if solver.BooleanValue(pm.x[c.index])]
        if placed_value < first_fit_value:  # the floor: never less than first fit
            chosen, placed_value = sorted(hint), first_fit_value
        stats.placement_objective = float(placed_value)
        # scale * P - cost <= bound and 0 <= cost < scale give P <= (bound + scale - 1) / scale.
        stats.placement_bound = float((int(solver.BestObjectiveBound()) + scale - 1) // scale)
        report(clock.step("placement", len(chosen), status_name(code)))
        # -- Phase 2: quality, placement kept ------------------------------------------------
        m.Add(pm.placement >= placed_value)
        picked = set(chosen)
        # Spreading never worse than phase 1's (which weighed it against the greedy start's).
        m.Add(sum(extras) <= sum(value(picked) for _, value in pm.aux))
        m.Minimize(pm.quality_cost(compact=len(cands) <= limits.compact_max_candidates))
        m.ClearHints()
        picked = set(chosen)
        for c in cands:
            m.AddHint(pm.x[c.index], c.index in picked)
        for var, value in pm.aux:
            m.AddHint(var, value(picked))
        left = clock.for_solving()
        if left >= MIN_SOLVE:
            solver2 = cp_model.CpSolver()
            settings.apply(solver2, left)
            # Phase 1's plan with every helper variable filled in: a complete, feasible hint.
            watch2 = _Watcher("quality", began, on_progress)
            code2 = solver2.Solve(m, watch2)
            if code2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                chosen = [c.index for c in cands if solver2.BooleanValue(pm.x[c.index])]
                stats.objective = solver2.ObjectiveValue()
                stats.bound = solver2.BestObjectiveBound()
                both = code == cp_model.OPTIMAL and code2 == cp_model.OPTIMAL
                stats.status = "OPTIMAL" if both else "FEASIBLE"
            report(clock.step("quality", len(chosen), status_name(code2)))
    else:
        stats.status = "FEASIBLE"  # the greedy start's plan: nothing better in time
        report(clock.step("placement: none better than the greedy start", len(chosen)))
    return _result(problem, feas, demands, cands, chosen, builder.why_none, stats, began)


def _result(
    problem: Problem,
    feas: Feasibility,
    demands: list[Demand],
    cands: list[Candidate],
    chosen: list[int],
    why_none: dict[int, str],
    stats: SolveStats,
    began: float,
) -> PlanResult:
    picked = [cands[i] for i in chosen]
    rooms = rooms_for_picked(problem, feas, demands, picked)
    new: list[Placement] = []
    per_demand: dict[int, int] = defaultdict(int)
    reasons = dict(why_none)
    for n, c in enumerate(sorted(picked, key=lambda c: (c.start, c.staff))):
        demand = demands[c.demand]
        room = c.room if c.room else rooms.get(c.index)
        if c.kind is not None and room is None:
            reasons[c.demand] = "no room left at the chosen time"
            continue
        per_demand[c.demand] += 1
        new.append(c.placement(demand, f"plan-{n + 1}", room))
    after = Feasibility(problem, [*problem.booked, *new])
    for d in demands:
        if d.index not in reasons and per_demand.get(d.index, 0) < d.count:
            who = ", ".join(d.staff_options[:4]) or "none"
            reasons[d.index] = short_by_rule(after, d) or (
                "every candidate time was taken by higher-priority sessions or by the "
                f"patient's other sessions (clinicians considered: {who})"
            )
    required, placed, unmet = tally(demands, per_demand, reasons)
    staff_u, room_u = utilization(problem, [*problem.booked, *new])
    stats.seconds = round(time.perf_counter() - began, 3)
    return PlanResult(
        appointments=[*problem.booked, *new],
        new=new,
        unmet=unmet,
        required=required,
        placed=placed,
        stats=stats,
        staff_utilization=staff_u,
        room_utilization=room_u,
    )
