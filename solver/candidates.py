"""Candidate placements for the plan: (demand, staff, start, room or room kind), each already
legal on its own against availability, bookings, eligibility and room fit.

The CP-SAT model then only has to choose a compatible subset. To keep it tractable on two
cores, each demand gets its continuity clinicians plus a few others, and at most `starts_per_day`
starts per clinician and day, spread over the day (offset per demand, so that patients do not all
compete for the same few starts). CP-SAT's bound is therefore a bound over these candidates; the
greedy start's choices (solver/baseline.py) are always added, so the optimized plan is never worse than it.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from solver.demand import Demand
from solver.feasibility import Feasibility
from solver.model import Placement, Problem, RoomInfo
from solver.rooms import RoomNeed, assign_rooms
from solver.scoring import continuity_penalty, preference_penalty
from solver.timegrid import intersect, starts_within


@dataclass(frozen=True)
class Candidate:
    index: int
    demand: int
    staff: tuple[str, ...]
    start: int
    minutes: int
    day: int
    week: int
    room: str | None
    """A specific room (groups, and fixed-room requests)."""
    kind: str | None
    """A room kind drawn from the pool (rooms are assigned after solving); None: no room."""
    size: int
    """People in the room."""
    cost: int

    @property
    def end(self) -> int:
        return self.start + self.minutes

    def placement(self, demand: Demand, id: str, room: str | None) -> Placement:
        """This candidate, chosen for `demand`, as a session in `room` (the plan's result and the
        neighbourhood search both make their placements here)."""
        return Placement(
            id=id,
            session_type=demand.session_type,
            start=self.start,
            minutes=self.minutes,
            staff=self.staff,
            patients=demand.patients,
            room=room,
            group=demand.group.id if demand.group else None,
            court=demand.court,
        )


@dataclass(frozen=True)
class CandidateLimits:
    max_staff: int = 3
    """Clinicians considered per patient demand beyond the continuity ones."""
    starts_per_day: int = 4
    """Starts kept per clinician and day for a patient demand."""
    group_starts_per_day: int = 10
    rooms_per_group_start: int = 2
    compact_max_candidates: int = 6000
    """Above this many candidates the compact-day term is left out of phase 2 (see plan.py)."""

    def thinned(self) -> CandidateLimits:
        """Fewer choices per demand, for when the time limit would run out before the end."""
        return replace(self, max_staff=1, starts_per_day=1, group_starts_per_day=4)


SKIPPED = (
    "not considered: the time limit ran out before its candidate times were made "
    "(a longer --time-limit considers it)"
)


def pick_staff(problem: Problem, demand: Demand, limit: int) -> tuple[str, ...]:
    """Continuity first (primary, recent, preferred), then others in a rotation per demand."""
    options = demand.staff_options
    patient = problem.patients_by_id().get(demand.patients[0]) if demand.patients else None
    first: list[str] = []
    if patient is not None:
        for sid in (patient.primary_staff, *patient.seen_by, patient.preferred_staff):
            if sid and sid in options and sid not in first:
                first.append(sid)
    rest = [s for s in options if s not in first]
    if rest:
        offset = (demand.index * 7919) % len(rest)
        rest = rest[offset:] + rest[:offset]
    return tuple(first + rest[: max(0, limit - min(len(first), 1))])


def _spread(items: list[tuple[int, int]], n: int, offset: int) -> list[tuple[int, int]]:
    """Up to n (cost, start) items: cheapest cost tiers first, evenly spread within a tier."""
    if len(items) <= n:
        return items
    out: list[tuple[int, int]] = []
    by_cost: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for item in items:
        by_cost[item[0]].append(item)
    for cost in sorted(by_cost):
        tier = sorted(by_cost[cost], key=lambda it: it[1])
        room = n - len(out)
        if room <= 0:
            break
        if len(tier) <= room:
            out.extend(tier)
            continue
        stride = len(tier) / room
        base = offset % max(1, int(stride))
        out.extend(tier[min(len(tier) - 1, base + int(j * stride))] for j in range(room))
    return out


class CandidateBuilder:
    def __init__(self, problem: Problem, feas: Feasibility, limits: CandidateLimits) -> None:
        self.problem = problem
        self.feas = feas
        self.limits = limits
        self.candidates: list[Candidate] = []
        self.why_none: dict[int, str] = {}
        self._seen: dict[tuple[object, ...], Candidate] = {}
        self.thinned = 0
        """Demands given fewer choices because the time limit was running out."""
        self.skipped = 0
        """Demands given none (the time limit ran out; first fit's choice may still stand)."""
        self._rooms_at: dict[tuple[object, ...], tuple[int, RoomInfo] | None] = {}
        """(session type, size, room kind, start, end) -> a free room: rooms do not change
        while candidates are made, and many demands ask about the same starts."""
        self.only: set[tuple[str, int]] | None = None
        """When set, patient candidates only on these (clinician, day index) pairs (the
        neighbourhoods of solver/neighbourhood.py)."""
        self._only_open: dict[str, tuple[tuple[int, int], ...]] | None = None

    def add(self, **kw: object) -> Candidate:
        key = (kw["demand"], kw["staff"], kw["start"], kw["room"], kw["kind"])
        if key not in self._seen:
            cand = Candidate(index=len(self.candidates), **kw)  # type: ignore[arg-type]
            self.candidates.append(cand)
            self._seen[key] = cand
        return self._seen[key]

    def build(self, demands: list[Demand], until: float | None = None) -> list[Candidate]:
        """Candidates for every demand, in order (groups first). With `until` (a perf_counter
        moment), demands are thinned when the pace says the rest would overrun it, and skipped
        once it has passed."""
        todo = [d for d in demands if not d.blocked and d.count > 0]
        self._only_open = None
        if self.only is not None:  # each clinician's hours on its allowed days, to start from
            day_open = {d.index: d.open for d in self.problem.days}
            open_hours: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for staff_id, day_index in self.only:
                open_hours[staff_id].append(day_open[day_index])
            self._only_open = {s: tuple(sorted(w)) for s, w in open_hours.items()}
        began = time.perf_counter()
        for n, demand in enumerate(todo):
            if until is not None and n:
                now = time.perf_counter()
                if now >= until:
                    self.skipped = len(todo) - n
                    for rest in todo[n:]:
                        self.why_none[rest.index] = SKIPPED
                    break
                if not self.thinned and now + (now - began) / n * (len(todo) - n) > until:
                    self.limits = self.limits.thinned()
                    self.thinned = len(todo) - n
            before = len(self.candidates)
            blockers: Counter[str] = Counter()
            if demand.group is not None:
                self._group(demand, blockers)
            else:
                self._patient(demand, blockers)
            if len(self.candidates) == before:
                self.why_none[demand.index] = explain(blockers)
        return self.candidates

    # -- one patient, one clinician ---------------------------------------------------------

    def _patient(self, demand: Demand, blockers: Counter[str]) -> None:
        problem, feas = self.problem, self.feas
        kind = problem.session_types[demand.session_type]
        patient_id = demand.patients[0]
        patient = feas.patients.get(patient_id)
        size = feas.people_in_room(kind, 1, 1)
        rooms = feas.room_choices(kind, size)
        if kind.room_kinds and not rooms:
            blockers["no room of a suitable kind and size"] += 1
            return
        if feas.budget_left(patient_id, demand.session_type, demand.window[0]) == 0 and all(
            feas.budget_left(patient_id, demand.session_type, t) == 0
            for t in range(demand.window[0], demand.window[1], 24 * 60)
        ):
            blockers["the payer authorization has no units left (or has ended)"] += 1
            return
        days = {d.index: d for d in problem.days}
        staff_ids = pick_staff(problem, demand, self.limits.max_staff)
        only_staff = {s for s, _ in self.only} if self.only is not None else None
        for staff_id in staff_ids:
            if staff_id not in feas.staff or (
                only_staff is not None and staff_id not in only_staff
            ):
                continue
            if problem.eligibility.apart(frozenset({staff_id, patient_id})):
                blockers["a keep-apart rule"] += 1
                continue
            left = feas.staff_week_left(staff_id, demand.week)
            if left is not None and left < kind.minutes:
                blockers["the clinicians' weekly hours are used up"] += 1
                continue
            windows = intersect(
                feas.session_windows(kind, (patient_id,), (staff_id,)), (demand.window,)
            )
            if self._only_open is not None:  # a neighbourhood: only its days, not the week's
                windows = intersect(windows, self._only_open.get(staff_id, ()))
            if not windows:
                blockers[
                    "no time when the patient and an eligible clinician are both available"
                ] += 1
                continue
            per_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for start in starts_within(windows, kind.minutes, problem.slot_minutes):
                end = start + kind.minutes
                day = problem.day_of(start)
                if day is None or (
                    self.only is not None and (staff_id, day.index) not in self.only
                ):
                    continue
                refused = feas.refusal((patient_id,), (staff_id,), kind, start)
                if refused is not None:
                    blockers[refused] += 1
                    continue
                if not feas.people_free((staff_id, patient_id), start, end):
                    blockers["existing appointments of the patient or clinicians"] += 1
                    continue
                if rooms and self._free_room(kind.id, size, None, rooms, start) is None:
                    blockers["no suitable room free"] += 1
                    continue
                cost = continuity_penalty(
                    patient, (staff_id,), problem.weights
                ) + preference_penalty(patient, (staff_id,), start, end, day, problem.weights)
                per_day[day.index].append((cost, start))
            for day_index, items in per_day.items():
                for cost, start in _spread(items, self.limits.starts_per_day, demand.index):
                    self._add_patient_candidate(demand, staff_id, start, days[day_index], cost)

    def _add_patient_candidate(
        self,
        demand: Demand,
        staff_id: str,
        start: int,
        day: object,
        cost: int,
        room_kind: str | None = None,
    ) -> Candidate | None:
        feas = self.feas
        kind = self.problem.session_types[demand.session_type]
        size = feas.people_in_room(kind, 1, 1)
        rooms = feas.room_choices(kind, size)
        if room_kind is not None:
            rooms = [(rank, room) for rank, room in rooms if room.kind == room_kind]
        chosen = self._free_room(kind.id, size, room_kind, rooms, start) if rooms else None
        if rooms and chosen is None:
            return None
        rank = chosen[0] if chosen else 0
        return self.add(
            demand=demand.index,
            staff=(staff_id,),
            start=start,
            minutes=kind.minutes,
            day=day.index,  # type: ignore[attr-defined]
            week=demand.week,
            room=None,
            kind=chosen[1].kind if chosen else None,
            size=size,
            cost=cost + self.problem.weights.room_kind_rank * rank,
        )

    def _free_room(
        self,
        kind: str,
        size: int,
        room_kind: str | None,
        rooms: list[tuple[int, RoomInfo]],
        start: int,
    ) -> tuple[int, RoomInfo] | None:
        minutes = self.problem.session_types[kind].minutes
        key = (kind, size, room_kind, start)
        if key not in self._rooms_at:
            self._rooms_at[key] = self.feas.free_room(rooms, start, start + minutes)
        return self._rooms_at[key]

    def add_patient_choice(
        self, demand: Demand, staff_id: str, start: int, room_kind: str | None = None
    ) -> Candidate | None:
        """Make sure a given choice (e.g. the greedy plan's) is among the candidates."""
        day = self.problem.day_of(start)
        if day is None:
            return None
        patient = self.feas.patients.get(demand.patients[0])
        end = start + self.problem.session_types[demand.session_type].minutes
        cost = continuity_penalty(patient, (staff_id,), self.problem.weights) + (
            preference_penalty(patient, (staff_id,), start, end, day, self.problem.weights)
        )
        return self._add_patient_candidate(demand, staff_id, start, day, cost, room_kind)

    # -- a standing group -------------------------------------------------------------------

    def _group(self, demand: Demand, blockers: Counter[str]) -> None:
        problem, feas = self.problem, self.feas
        group = demand.group
        assert group is not None
        kind = problem.session_types[demand.session_type]
        size = group.capacity or feas.people_in_room(
            kind, len(demand.patients), len(group.facilitators)
        )
        size = max(size, len(demand.patients) + len(group.facilitators))
        rooms = feas.room_choices(kind, size, only=group.room)
        if kind.room_kinds and not rooms:
            blockers[f"no room of a suitable kind for {size} people"] += 1
            return
        if problem.eligibility.apart(frozenset(demand.patients) | frozenset(group.facilitators)):
            blockers["two members must be kept apart"] += 1
            return
        for staff_id in group.facilitators:
            left = feas.staff_week_left(staff_id, demand.week)
            if left is not None and left < kind.minutes:
                blockers["a facilitator's weekly hours are used up"] += 1
                return
        windows = intersect(
            feas.session_windows(kind, demand.patients, group.facilitators), (demand.window,)
        )
        if group.available is not None:
            windows = intersect(windows, group.available)
        if not windows:
            blockers["no time when all members, facilitators and the group can meet"] += 1
            return
        per_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
        people = (*group.facilitators, *demand.patients)
        if group.fixed_starts:
            for start, room_id in group.fixed_starts:
                day = problem.day_of(start)
                if not (demand.window[0] <= start < demand.window[1]) or day is None:
                    continue
                end = start + kind.minutes
                if not any(a <= start and end <= b for a, b in windows):
                    blockers["a member or facilitator is not available at the set time"] += 1
                elif (
                    refused := feas.refusal(demand.patients, group.facilitators, kind, start)
                ) is not None:
                    blockers[f"a member: {refused}"] += 1
                elif not feas.people_free(people, start, end):
                    blockers["existing appointments of members or facilitators"] += 1
                elif self.add_group_choice(demand, start, day.index, room_id) is None:
                    blockers["the group's room is not free at the set time"] += 1
            return
        for start in starts_within(windows, kind.minutes, problem.slot_minutes):
            end = start + kind.minutes
            day = problem.day_of(start)
            if day is None:
                continue
            refused = feas.refusal(demand.patients, group.facilitators, kind, start)
            if refused is not None:
                blockers[f"a member: {refused}"] += 1
                continue
            if not feas.people_free(people, start, end):
                blockers["existing appointments of members or facilitators"] += 1
                continue
            if rooms and feas.free_room(rooms, start, end) is None:
                blockers["no suitable room free"] += 1
                continue
            per_day[day.index].append((0, start))
        for day_index, items in per_day.items():
            for _, start in _spread(items, self.limits.group_starts_per_day, demand.index):
                self.add_group_choice(demand, start, day_index)

    def add_group_choice(
        self, demand: Demand, start: int, day_index: int, room_id: str | None = None
    ) -> Candidate | None:
        group = demand.group
        assert group is not None
        feas = self.feas
        kind = self.problem.session_types[demand.session_type]
        end = start + kind.minutes
        size = max(
            group.capacity or 0,
            feas.people_in_room(kind, len(demand.patients), len(group.facilitators)),
        )
        rooms = feas.room_choices(kind, size, only=room_id or group.room)
        free = [(r, room) for r, room in rooms if feas.room_free(room, start, end)]
        if rooms and not free:
            return None
        first: Candidate | None = None
        for rank, room in free[: self.limits.rooms_per_group_start] or [(0, None)]:
            cand = self.add(
                demand=demand.index,
                staff=group.facilitators,
                start=start,
                minutes=kind.minutes,
                day=day_index,
                week=demand.week,
                room=room.id if room else None,
                kind=room.kind if room else None,
                size=size,
                cost=self.problem.weights.room_kind_rank * rank,
            )
            first = first or cand
        return first


def explain(blockers: Counter[str]) -> str:
    if not blockers:
        return "no eligible clinician is available in the period"
    (top, _), *rest = blockers.most_common()
    more = ", then " + rest[0][0] if rest else ""
    return f"blocked by {top}{more}"


def rooms_for_picked(
    problem: Problem, feas: Feasibility, demands: list[Demand], picked: list[Candidate]
) -> dict[int, str | None]:
    """Rooms for chosen candidates, by candidate index: groups' named rooms are marked busy
    first, then pooled sessions get actual rooms (None: no room could be found)."""
    for c in picked:
        if c.room:
            feas.busy.add_room(c.room, c.start, c.end)
    needs = [
        RoomNeed(
            key=c.index,
            kind=problem.session_types[demands[c.demand].session_type],
            preferred_kind=c.kind,
            size=c.size,
            start=c.start,
            end=c.end,
        )
        for c in picked
        if c.room is None and c.kind is not None
    ]
    return assign_rooms(feas, needs)
