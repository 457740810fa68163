"""Emergency capacity (OPS-EMERGENCY-HOLD): how many assessment slots to hold back each weekday,
and which ones. Pure functions over counts and the solver's plain data; no database here (the
history is read by assistant.usecases.capacity).

The method, stated once:

1. *Arrivals.* An emergency or same-day admission is an assessment booked on the local day it
   takes place (see assistant.usecases.capacity.ARRIVAL). Over the last `weeks` whole weeks they
   are counted by weekday and by hour block of the day (when the assessment started).
2. *How many.* On a weekday the day's arrivals are taken as Poisson with the observed mean
   lambda = arrivals on that weekday / weeks. Hold the smallest k with P(N <= k) >= the service
   level (0.9 by default): on nine such days in ten, every emergency finds a held slot. Why
   Poisson: unscheduled arrivals come from many people who each independently turn up with a
   small chance on a given day, the textbook case for a Poisson count; hospital emergency and
   walk-in arrivals are well described as Poisson with a rate that varies by hour and weekday
   (L. V. Green, "Queueing analysis in healthcare", in Patient Flow, Springer 2006, ch. 10;
   S.-H. Kim and W. Whitt, "Are call center and hospital arrivals well modeled by
   nonhomogeneous Poisson processes?", M&SOM 16(3), 2014). With no history lambda is 0 and k
   is 0, or the facility's stated minimum.
3. *Which.* The k slots are spread over the day's hour blocks in proportion to the arrivals
   seen in each block (largest remainder, the earlier block on a tie); with no arrivals to go
   by, over the open blocks from the morning on. In a block a slot is a start at the block's
   beginning (or the first start after it) with the first qualified clinician who is free then
   and not already holding; an emergency already booked that day in the block uses one up.
4. *Release.* A hold stands until `release_hours` before it starts; then any request may take
   it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from clinic.timeutil import WEEKDAYS
from solver.feasibility import Feasibility
from solver.model import Hold, Problem
from solver.timegrid import covers

RULE = "OPS-EMERGENCY-HOLD"
SESSION_TYPE = "intake_assessment"
"""The assessment an emergency or same-day admission starts with (walk-ins are booked one)."""


@dataclass(frozen=True)
class HoldSettings:
    """A facility's emergency-capacity settings (`data: emergency_hold:` in its rules
    directory; these defaults otherwise)."""

    service_level: float = 0.9
    """P(a day's arrivals <= the slots held) to reach."""
    release_hours: float = 4.0
    """A held slot is offered to anyone this many hours before it starts."""
    weeks: int = 8
    """Weeks of history the estimate reads."""
    minimum: int = 0
    """Slots held on an open day whatever the history says."""
    block_hours: int = 2
    """Arrivals are counted, and holds spread, by blocks of this many hours."""

    def problems(self) -> list[str]:
        out = []
        if not 0 < self.service_level < 1:
            out.append("service_level must be between 0 and 1 (exclusive)")
        if self.release_hours < 0:
            out.append("release_hours must be >= 0")
        if self.weeks < 1:
            out.append("weeks must be >= 1")
        if self.minimum < 0:
            out.append("minimum must be >= 0")
        if not 1 <= self.block_hours <= 24 or 24 % self.block_hours:
            out.append("block_hours must divide 24")
        return out


@dataclass(frozen=True)
class Arrivals:
    """The history: arrivals over `weeks` weeks, by (weekday 0=Monday, block's first hour)."""

    weeks: int
    counts: Mapping[tuple[int, int], int]

    def on(self, weekday: int) -> dict[int, int]:
        return {h: n for (d, h), n in self.counts.items() if d == weekday and n}


@dataclass(frozen=True)
class DayPlan:
    """What to hold on one weekday, and what it was estimated from."""

    weekday: int
    arrivals: int
    """Arrivals seen on this weekday over the weeks read."""
    mean: float
    """lambda: arrivals per such day."""
    hold: int
    blocks: tuple[tuple[int, int], ...]
    """(block's first hour, slots held in it), earliest first; the counts add up to `hold`."""
    arrivals_by_block: tuple[tuple[int, int], ...]


def poisson_cdf(k: int, mean: float) -> float:
    """P(N <= k) for N ~ Poisson(mean)."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    term = total = math.exp(-mean)
    for i in range(1, k + 1):
        term *= mean / i
        total += term
    return min(1.0, total)


def slots_to_hold(mean: float, service_level: float, minimum: int = 0) -> int:
    """The smallest k with P(N <= k) >= service_level under Poisson(mean), at least `minimum`."""
    k = 0
    while poisson_cdf(k, mean) < service_level:
        k += 1
    return max(k, minimum)


def spread(hold: int, by_block: Mapping[int, int], open_blocks: Sequence[int]) -> dict[int, int]:
    """`hold` slots over blocks in proportion to their arrivals (largest remainder, earlier
    block on a tie); with no arrivals, round-robin over `open_blocks` from the first."""
    weights = {b: n for b, n in by_block.items() if n > 0 and (not open_blocks or b in open_blocks)}
    if hold <= 0:
        return {}
    if not weights:
        out: dict[int, int] = {}
        for i in range(hold):
            if open_blocks:
                block = open_blocks[i % len(open_blocks)]
                out[block] = out.get(block, 0) + 1
        return out
    total = sum(weights.values())
    shares = {b: hold * n / total for b, n in weights.items()}
    out = {b: int(s) for b, s in shares.items()}
    left = hold - sum(out.values())
    for b in sorted(weights, key=lambda b: (-(shares[b] - out[b]), b))[:left]:
        out[b] += 1
    return {b: n for b, n in sorted(out.items()) if n}


def estimate(
    arrivals: Arrivals, settings: HoldSettings, open_blocks: Mapping[int, Sequence[int]]
) -> dict[int, DayPlan]:
    """What to hold on each open weekday (`open_blocks`: weekday -> its blocks' first hours)."""
    plans: dict[int, DayPlan] = {}
    weeks = max(1, arrivals.weeks)
    for weekday, blocks in sorted(open_blocks.items()):
        seen = arrivals.on(weekday)
        total = sum(seen.values())
        mean = total / weeks
        hold = slots_to_hold(mean, settings.service_level, settings.minimum)
        plans[weekday] = DayPlan(
            weekday=weekday,
            arrivals=total,
            mean=round(mean, 3),
            hold=hold,
            blocks=tuple(sorted(spread(hold, seen, blocks).items())),
            arrivals_by_block=tuple(sorted(seen.items())),
        )
    return plans


def block_of(hour: int, block_hours: int) -> int:
    return hour - hour % block_hours


def open_blocks(open_minutes: Iterable[tuple[int, int]], block_hours: int) -> list[int]:
    """The first hours of the blocks a day's opening hours touch (local minutes of the day)."""
    out: set[int] = set()
    for lo, hi in open_minutes:
        for minute in range(lo, hi, 60):
            out.add(block_of(minute // 60, block_hours))
    return sorted(out)


# --- which clinician time -------------------------------------------------------------------


@dataclass(frozen=True)
class HeldSlot:
    """One slot held on a given day: who, when, until when."""

    day: date
    block: int
    start: int
    """Minutes in the problem's clock."""
    minutes: int
    staff: str
    release: int
    """From this minute on, anyone may book it."""


def place(
    problem: Problem,
    feas: Feasibility,
    day_index: int,
    blocks: Sequence[tuple[int, int, int, int]],
    release_minutes: int,
    session_type: str = SESSION_TYPE,
) -> tuple[list[HeldSlot], int]:
    """Held slots on one of the problem's days. `blocks`: (block's first hour, its first and
    last minute in the problem's clock, slots to hold). Returns the slots and how many could not
    be placed (nobody qualified free in the block)."""
    kind = problem.session_types.get(session_type)
    day = problem.days[day_index]
    if kind is None:
        return [], sum(n for *_, n in blocks)
    qualified = problem.eligibility.qualified.get(session_type, ())
    taken: list[tuple[str, int, int]] = []
    out: list[HeldSlot] = []
    missing = 0
    for block, lo, hi, n in blocks:
        want = n
        start = max(lo, day.open[0])
        while want and start < hi and start + kind.minutes <= day.open[1]:
            end = start + kind.minutes
            for staff in qualified:
                if not want:
                    break
                if not covers(feas.staff_windows.get(staff, ()), start, end):
                    continue
                if not feas.people_free((staff,), start, end):
                    continue
                if any(s == staff and a < end and start < b for s, a, b in taken):
                    continue
                taken.append((staff, start, end))
                out.append(
                    HeldSlot(day.date, block, start, kind.minutes, staff, start - release_minutes)
                )
                want -= 1
            start += problem.slot_minutes
        missing += want
    return out, missing


def standing(slots: Iterable[HeldSlot], now: int) -> list[HeldSlot]:
    """The held slots still held at `now` (not released, not begun)."""
    return [s for s in slots if now < s.release and now < s.start]


def as_holds(slots: Iterable[HeldSlot], words: Mapping[int, str]) -> tuple[Hold, ...]:
    """The solver's holds; `words[release minute]` says when each is released."""
    return tuple(
        Hold(s.staff, (s.start, s.start + s.minutes), words[s.release], RULE) for s in slots
    )


def release_words(release: datetime, now: datetime) -> str:
    """ "06:00 today", "18:00 tomorrow" or "06:00 Tue 01 Dec" (both in the facility's zone)."""
    days = (release.date() - now.date()).days
    when = {0: "today", 1: "tomorrow"}.get(days, f"{release:%a %d %b}")
    return f"{release:%H:%M} {when}"


def weekday_name(weekday: int) -> str:
    return WEEKDAYS[weekday]


__all__ = [
    "RULE",
    "Arrivals",
    "DayPlan",
    "HeldSlot",
    "HoldSettings",
    "as_holds",
    "block_of",
    "estimate",
    "open_blocks",
    "place",
    "poisson_cdf",
    "release_words",
    "slots_to_hold",
    "spread",
    "standing",
]
