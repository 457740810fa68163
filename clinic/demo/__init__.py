"""Realistic, deterministic synthetic facilities (`rota demo`): a US outpatient and intensive
outpatient (IOP) addiction program, valid against the facility schema.

Same size, seed and start date → the same file, byte for byte. Names come from Faker, never from
real people. The README's "The demo facility" states the proportions and the generating process:

- `facility`: the people and the weekly plan (caseloads, IOP cohorts, OP groups, medication
  management, case management, everyone's hours sized to their planned load);
- `history`: that plan lived for 12 weeks (by default) before the week of `start` (attendance drawn
  from `clinic.attendance_process`, one patient at a time in time order) and booked in that week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Size:
    patients: int


SIZES = {
    "s": Size(60),
    "m": Size(220),
    "l": Size(600),
    "xl": Size(1600),
}

SPECIALIZATIONS = [
    "dual_diagnosis",
    "trauma",
    "adolescent",
    "family_systems",
    "mat",
    "womens",
    "spanish_speaking",
    "veterans",
]


def generate_demo(
    size: str = "s", seed: int = 7, start: date | None = None, *, history_weeks: int = 12
) -> dict[str, Any]:
    """The demo facility of `size`; `history_weeks` (default 12) shortens or lengthens the history
    alone (the people and the plan stay the same), for tests that need no history."""
    if size not in SIZES:
        from clinic.errors import InvalidInput

        raise InvalidInput(f"unknown demo size {size!r}: use one of {', '.join(SIZES)}")
    from clinic.demo.facility import FacilityPlan
    from clinic.demo.history import live

    plan = FacilityPlan(size, SIZES[size].patients, seed, start or date.today())
    return live(plan, history_weeks)
