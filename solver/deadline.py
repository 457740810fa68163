"""The whole plan inside the time limit the user gave: reading the facility, first fit,
candidates, the model and both CP-SAT phases all spend one clock.

Each early step gets a cutoff at a share of the time still left when it begins, and stops or
thins its work when it passes it; the CP-SAT phases get what is left, less a reserve for
assigning rooms and writing the result. Steps report what they did (`Step`) as they finish.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

FIRST_FIT_SHARE = 0.4
"""The greedy start (the floor and the hint) stops placing when 40% of the time left is spent."""
NEIGHBOURHOOD_SHARE = 0.6
"""Re-solving neighbourhoods around what the greedy start left out stops at 60% of the time
left after it (solver/neighbourhood.py)..."""
NEIGHBOURHOOD_GAINING_SHARE = 0.75
"""...or at 75% while it is still placing sessions (on the tight weeks it was stopped mid-way
at 60% and the main model placed none more; on the demo weeks it mostly misses, and the main
model needs the time)."""
CANDIDATES_SHARE = 0.35
"""Candidate generation thins, then stops, when 35% of the time left after the greedy start is
spent: the CP-SAT phases need the rest (on demo 'l' candidates alone took 17 s)."""
START_GRACE = 0.1
"""The greedy start always gets this share of the limit, even when reading the facility has
used it all: a plan late by a tenth beats an empty plan on time."""
RESULT_RESERVE = 0.05
"""Kept back for assigning rooms and tallying the result (at least `MIN_RESERVE` seconds)."""
MIN_RESERVE = 0.15
MIN_SOLVE = 0.1
"""Below this many seconds a CP-SAT phase is skipped: first fit's plan (or phase 1's) stands."""


@dataclass(frozen=True)
class Step:
    """One step of a plan finished: what, seconds since the start, and how many it made."""

    what: str
    seconds: float
    count: int
    note: str = ""


class Deadline:
    def __init__(self, seconds: float, began: float | None = None) -> None:
        self.began = time.perf_counter() if began is None else began
        self.seconds = seconds
        self.end = self.began + seconds

    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def left(self) -> float:
        return self.end - time.perf_counter()

    def cutoff(self, share: float) -> float:
        """The moment (perf_counter) by which a step ending at `share` of the time still left
        must stop (shares of what is left, so that a slow read of the facility does not starve
        the greedy start: on demo xl reading took 23 s of 60)."""
        now = time.perf_counter()
        return now + share * max(0.0, self.end - now)

    def start_cutoff(self, share: float) -> float:
        """The greedy start's cutoff: `cutoff(share)`, but never less than START_GRACE."""
        return max(self.cutoff(share), time.perf_counter() + START_GRACE * self.seconds)

    def reserve(self) -> float:
        return max(MIN_RESERVE, RESULT_RESERVE * self.seconds)

    def for_solving(self) -> float:
        """Seconds the CP-SAT phases may still use."""
        return self.left() - self.reserve()

    def step(self, what: str, count: int, note: str = "") -> Step:
        return Step(what, round(self.elapsed(), 3), count, note)


StepFn = Callable[[Step], None]
