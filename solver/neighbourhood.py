"""Large-neighbourhood search around unplaced demand: improves the greedy start before the
main model is built.

On tight weeks (clinicians booked 90-95 % of their hours) the sessions the greedy start leaves
out are mostly ones with narrow windows (a family's own hours), and the main model cannot place
them either: it keeps a few starts per clinician and day, and a full day can only make room when
its other sessions move to starts the thinning dropped. So, for each session still unplaced,
free a few clinician-days it could use (its patient's other sessions those days too), keep the
rest of the plan as booked, and re-solve only the freed sessions on every start of those days.
A neighbourhood is accepted only when it places more (priority-weighted) than before.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from ortools.sat.python import cp_model

from solver.candidates import (
    Candidate,
    CandidateBuilder,
    CandidateLimits,
    pick_staff,
    rooms_for_picked,
)
from solver.demand import Demand, expand_demands
from solver.feasibility import Feasibility
from solver.model import Placement, Problem

DENSE = CandidateLimits(max_staff=3, starts_per_day=1000)
"""Every start of every freed clinician-day."""
OTHER_DAYS = 2
"""Days of other clinicians freed per neighbourhood, beside the own clinician's week (one more
on each pass)."""
RESTARTS = 4
"""Searches at most, each from the greedy start (`improve`)."""
WIDEST = 5
"""Passes after which the clinician-day neighbourhood grows no wider (odd ones free group
meetings too); the passes go on, with other random days, until `STALE` misses in a row."""
STALE = 12
"""Neighbourhoods in a row that place nothing before the search gives its time back (on the
demo weeks what is left unplaced mostly has no time at all with any clinician)."""
GAINING = 4
"""Misses in a row after which the search counts as no longer placing (`gaining_after`)."""
HOMES = 3
"""Days of own clinicians freed per neighbourhood for patients the target's clinician sees in
their stead (`_homes`)."""
BAND_WIDENS = (0, 30, 60)
"""Minutes the band neighbourhood (`_band`) adds each side of the target's hours, by round."""
BAND_MAX = 100
"""Sessions a band neighbourhood may free (tight-m: 25-80 re-solve in 0.1-0.4 s; 130-200,
the bands of wide windows, took 3-4 s and placed nothing)."""
BAND_MIN_LEFT = 1.5
"""Seconds the search must still have for the band to be tried: its sub-model takes 0.2-0.6 s
of Python to build on demo s (more on a loaded machine), which the clock cannot cut; a plan
with a limit of a few seconds keeps the cheaper neighbourhood only."""
SUB_SECONDS = 2.0
"""CP-SAT time per neighbourhood (small models; most prove optimal well before)."""

Placed = list[tuple[Demand, Placement]]


def improve(
    problem: Problem,
    demands: list[Demand],
    placed: Placed,
    until: float,
    workers: int = 2,
    seed: int = 0,
    gaining_after: float | None = None,
) -> Placed:
    """`placed` with unplaced one-patient sessions fitted in by re-solving small neighbourhoods
    around them, until `until` (a perf_counter moment) or nothing is left to try; past
    `gaining_after` only while it is still placing (fewer than `GAINING` misses in a row)."""
    rng = random.Random(seed)  # nosec B311: which clinician-days to free, not a secret
    by_key = {d.key: d for d in demands}
    feas = Feasibility(problem)
    start = list(placed)
    best = _search(problem, demands, start, until, workers, rng, feas, by_key, gaining_after)
    # The search commits to each gain, and on a tight week an early one can take the hour a
    # later target needed (tight-m: three families and the working patients in the same
    # early hours). With time left and the search still short, start again from the greedy
    # start, targets in another order, and keep the better.
    runs = 1
    while runs < RESTARTS and _value(best) > _value(start) and _short(demands, best):
        now = time.perf_counter()
        if now >= until or (gaining_after is not None and now >= gaining_after):
            break
        runs += 1
        again = _search(
            problem, demands, start, until, workers, rng, feas, by_key, gaining_after, True
        )
        if _value(again) > _value(best):
            best = again
    return best


def _value(placed: Placed) -> int:
    return sum(d.priority for d, _ in placed)


def _short(demands: list[Demand], placed: Placed) -> list[Demand]:
    """One-patient demands placed fewer times than asked."""
    count = Counter(d.index for d, _ in placed)
    return [
        d
        for d in demands
        if not d.blocked and d.group is None and d.count > 0 and count[d.index] < d.count
    ]


def _search(
    problem: Problem,
    demands: list[Demand],
    placed: Placed,
    until: float,
    workers: int,
    rng: random.Random,
    feas: Feasibility,
    by_key: dict[str, Demand],
    gaining_after: float | None,
    shuffle: bool = False,
) -> Placed:
    """One pass of the search from `placed`: rounds over what is short until `STALE` misses in
    a row or the time is up; `shuffle` takes the targets in a random order."""
    placed = list(placed)
    misses = 0
    attempt = -1
    took = 0.0  # the last target's neighbourhoods, building included (the clock cannot cut it)
    while True:
        attempt += 1
        short = _short(demands, placed)
        if not short:
            break
        if shuffle:
            rng.shuffle(short)
        for demand in short:
            now = time.perf_counter()
            if now + took >= until or (
                gaining_after is not None and now >= gaining_after and misses >= GAINING
            ):
                return placed  # (a target begun that cannot end in time would overrun the limit)
            # First the hours of its window all week (cheap when the window is narrow), then
            # its own clinician's week and a few other clinician-days; every other round the
            # latter also frees the group meetings of the patient and the clinician (the greedy
            # start's group times can wall off a narrow window).
            widen = BAND_WIDENS[attempt % len(BAND_WIDENS)]
            better = None
            if until - now >= BAND_MIN_LEFT:
                better = _band(problem, by_key, demand, placed, until, workers, rng, feas, widen)
            if better is None and time.perf_counter() < until:
                wide = attempt if attempt <= WIDEST else WIDEST - 1 + attempt % 2
                better = _neighbourhood(
                    problem, by_key, demand, placed, until, workers, rng, feas, wide
                )
            took = time.perf_counter() - now
            if better is not None:
                placed, misses = better, 0
            else:
                misses += 1
                if misses >= STALE:  # what is left is likely out of reach: leave the time
                    return placed
    return placed


def _neighbourhood(
    problem: Problem,
    by_key: dict[str, Demand],
    target: Demand,
    placed: Placed,
    until: float,
    workers: int,
    rng: random.Random,
    feas: Feasibility,
    attempt: int = 0,
) -> Placed | None:
    """`placed` with `target` placed once more, or None. `feas` answers availability only."""
    kind = problem.session_types[target.session_type]
    patient = target.patients[0]
    # The target's own clinician's whole week (its sessions can only move within it on a tight
    # week), then a random few days of the others it could see.
    staff_ids = pick_staff(problem, target, DENSE.max_staff + attempt)
    if not staff_ids:
        return None
    own = staff_ids[0]
    nb = {(own, d.index) for d in problem.days if _works(feas, own, d.open)}
    others: list[tuple[str, int]] = []
    for staff_id in staff_ids:
        for a, b in feas.session_windows(kind, (patient,), (staff_id,)):
            lo, hi = max(a, target.window[0]), min(b, target.window[1])
            day = problem.day_of(lo)
            if day is not None and hi - lo >= kind.minutes:
                others.append((staff_id, day.index))
    if not others:  # no clinician and day where the patient could come at all
        return None
    others = sorted(set(others) - nb)
    rng.shuffle(others)
    nb |= set(others[: OTHER_DAYS + attempt])  # wider on each pass
    nb |= _homes(problem, feas, own, placed, nb, rng)
    groups = attempt % 2 == 1
    days = {d for _, d in nb}

    def frees(a: Placement) -> bool:
        if a.pinned:
            return False
        if a.group is not None:
            return groups and (patient in a.patients or own in a.staff)
        day = _day_index(problem, a)
        return (a.staff[0], day) in nb or (patient in a.patients and day in days)

    return _resolve(problem, by_key, target, placed, nb, frees, until, workers, rng)


def _band(
    problem: Problem,
    by_key: dict[str, Demand],
    target: Demand,
    placed: Placed,
    until: float,
    workers: int,
    rng: random.Random,
    feas: Feasibility,
    widen: int = 0,
) -> Placed | None:
    """`placed` with `target` placed once more, or None: the hours of the day its window allows
    (widened by `widen` minutes each way) freed on every day, for every clinician who could see
    it then and the own clinicians of the patients seen then. On a tight week a narrow window
    (a family's 07:00-07:50) competes with working patients who can only come in the same hours
    on other days: the chain that frees it runs through those hours all week, not a whole week
    of one clinician."""
    kind = problem.session_types[target.session_type]
    patient = target.patients[0]
    offsets: list[tuple[int, int]] = []
    staff: set[str] = set()
    for staff_id in target.staff_options:
        for a, b in feas.session_windows(kind, (patient,), (staff_id,)):
            lo, hi = max(a, target.window[0]), min(b, target.window[1])
            day = problem.day_of(lo)
            if day is None or hi - lo < kind.minutes:
                continue
            staff.add(staff_id)
            offsets.append((lo - day.open[0], hi - day.open[0]))
    if not offsets:
        return None
    lo_off = min(a for a, _ in offsets) - widen
    hi_off = max(b for _, b in offsets) + widen

    def in_band(a: Placement) -> bool:
        day = problem.day_of(a.start)
        if day is None:
            return False
        return a.start < day.open[0] + hi_off and day.open[0] + lo_off < a.end

    # The own clinicians of patients seen in the band by those clinicians (sent home, they
    # free the lender's hour), and theirs in turn once.
    for _ in range(2):
        for _, a in placed:
            if a.group is None and not a.pinned and a.staff[0] in staff and in_band(a):
                info = feas.patients.get(a.patients[0])
                if info is not None and info.primary_staff:
                    staff.add(info.primary_staff)
    nb = {
        (s, d.index)
        for s in staff
        for d in problem.days
        if _works(feas, s, (d.open[0] + lo_off, d.open[0] + hi_off))
    }

    def frees(a: Placement) -> bool:
        if a.pinned or a.group is not None:
            return False
        in_nb = (a.staff[0], _day_index(problem, a)) in nb
        return (in_nb and in_band(a)) or patient in a.patients

    if sum(frees(a) for _, a in placed) > BAND_MAX:  # a wide window: the other neighbourhood
        return None
    return _resolve(problem, by_key, target, placed, nb, frees, until, workers, rng)


def _day_index(problem: Problem, a: Placement) -> int | None:
    day = problem.day_of(a.start)
    return day.index if day else None


def _resolve(
    problem: Problem,
    by_key: dict[str, Demand],
    target: Demand,
    placed: Placed,
    nb: set[tuple[str, int]],
    frees: Callable[[Placement], bool],
    until: float,
    workers: int,
    rng: random.Random,
) -> Placed | None:
    """`placed` with the sessions `frees` picks re-solved, with `target`, on every start of the
    clinician-days `nb` (and of their own clinician-days), or None when that places no more."""
    # Building a sub-model costs Python time the solver's limit does not bound: on a loaded
    # machine a 2 s plan of demo s spent 5 s here. Check the clock before each costly part.
    if time.perf_counter() >= until:
        return None
    day_index = partial(_day_index, problem)
    freed = [(d, a) for d, a in placed if frees(a)]
    freed_ids = {a.id for _, a in freed}
    nb |= {(a.staff[0], day_index(a)) for _, a in freed if a.group is None}  # type: ignore[misc]
    kept = [(d, a) for d, a in placed if a.id not in freed_ids]
    # The rest of the plan is added to the index as the greedy start adds it (payer budgets and
    # rule limits count it), and booked only for netting the demand.
    sub_feas = Feasibility(problem)
    for _, a in kept:
        sub_feas.add(a)
    sub_demands = expand_demands(replace(problem, booked=(*problem.booked, *(a for _, a in kept))))
    keys = {d.key for d, _ in freed} | {target.key}
    todo = [d for d in sub_demands if d.key in keys and d.count > 0 and not d.blocked]
    builder = CandidateBuilder(problem, sub_feas, replace(DENSE, max_staff=len(problem.staff)))
    builder.only = nb
    builder.build(todo)
    if time.perf_counter() >= until:
        return None
    hint_old: set[int] = set()
    sub_by_key = {d.key: d for d in sub_demands}
    for d, a in freed:
        day = problem.day_of(a.start)
        if a.group is not None and day is not None:
            cand = builder.add_group_choice(sub_by_key[d.key], a.start, day.index, a.room)
        else:
            room_kind = problem.rooms_by_id()[a.room].kind if a.room else None
            cand = builder.add_patient_choice(sub_by_key[d.key], a.staff[0], a.start, room_kind)
        if cand is not None:
            hint_old.add(cand.index)
    cands: list[Candidate] = [
        c
        for c in builder.candidates
        if (c.staff[0], c.day) in nb or sub_demands[c.demand].group is not None
    ]
    if len(cands) < len(builder.candidates):  # indexes are the model's variables: renumber
        hint_old = {n for n, c in enumerate(cands) if c.index in hint_old}
        cands = [replace(c, index=n) for n, c in enumerate(cands)]
    hint = [c.index in hint_old for c in cands]
    if not cands:
        return None
    from solver.plan import SAME_DAY_EXCESS, PlanModel  # here: solver.plan imports this module

    pm = PlanModel(problem, sub_feas, sub_demands, cands)
    for c, h in zip(cands, hint, strict=True):
        pm.model.AddHint(pm.x[c.index], h)
    before = sum(sub_demands[c.demand].priority for c, h in zip(cands, hint, strict=True) if h)
    worst: dict[int, int] = {}
    for c in cands:
        worst[c.demand] = max(worst.get(c.demand, 0), c.cost)
    # Second to placement: continuity and preferences, and a patient's sessions on one day
    # (weighed as the main model's phase 1 weighs sessions beyond the greedy start's).
    extras = pm.same_day_extras()
    hinted = {c.index for c, h in zip(cands, hint, strict=True) if h}
    for var, value in pm.aux:
        pm.model.AddHint(var, value(hinted))
    w_day = problem.weights.same_day_as_other * (1 + SAME_DAY_EXCESS)
    scale = sum(worst.values()) + w_day * pm.extras_top + 1
    cost = sum(c.cost * pm.x[c.index] for c in cands) + w_day * sum(extras)
    pm.model.Maximize(scale * pm.placement - cost)
    left = until - time.perf_counter()
    if left <= 0.05:
        return None
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = min(SUB_SECONDS, left)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = rng.randrange(1 << 16)
    # Presolve's probing costs more than the search on these small models: without it the first
    # 27 sub-models of tight-l each proved optimal on half the CPU (3.4 s against 7.2, 1 worker).
    solver.parameters.cp_model_probing_level = 0
    if solver.Solve(pm.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if solver.Value(pm.placement) <= before:
        return None
    picked = [c for c in cands if solver.BooleanValue(pm.x[c.index])]
    new = _placements(problem, sub_feas, sub_demands, picked, by_key)
    if new is None:
        return None
    return [*kept, *new]


def _homes(
    problem: Problem,
    feas: Feasibility,
    own: str,
    placed: Placed,
    nb: set[tuple[str, int]],
    rng: random.Random,
) -> set[tuple[str, int]]:
    """Days of the own clinicians of patients `own` sees in their stead (the day of that session,
    where the patient evidently can come): on a tight week the greedy start lends clinicians
    out, and sending those patients home is what frees the lender's time (tight-m: p0119's
    family hour needs c009's Thursday 07:00, which c009 spends on other clinicians' patients)."""
    homes: set[tuple[str, int]] = set()
    for _, a in placed:
        if a.group is not None or a.pinned or own not in a.staff:
            continue
        patient = feas.patients.get(a.patients[0])
        home = patient.primary_staff if patient is not None else None
        day = problem.day_of(a.start)
        if home and home != own and day is not None and _works(feas, home, day.open):
            homes.add((home, day.index))
    picks = sorted(homes - nb)
    rng.shuffle(picks)
    return set(picks[:HOMES])


def _works(feas: Feasibility, staff_id: str, span: tuple[int, int]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in feas.staff_windows.get(staff_id, ()))


def _placements(
    problem: Problem,
    feas: Feasibility,
    demands: list[Demand],
    picked: list[Candidate],
    by_key: dict[str, Demand],
) -> Placed | None:
    """The chosen candidates as placements with rooms (None when a room cannot be found)."""
    rooms = rooms_for_picked(problem, feas, demands, picked)  # as solver.plan._result
    out: Placed = []
    stamp = time.perf_counter_ns()
    for n, c in enumerate(picked):
        room = c.room or (rooms.get(c.index) if c.kind is not None else None)
        if c.kind is not None and room is None:
            return None
        demand = demands[c.demand]
        out.append((by_key[demand.key], c.placement(demand, f"lns-{stamp}-{n}", room)))
    return out
