"""The soft terms, named after what they mean. One definition, used by the plan's objective and
by the slot finder's ranking, so "why this option" and "why this plan" say the same thing.

Every term is a penalty (>= 0, lower is better) computed from plain data; the slot finder shows
them negated as score contributions.
"""

from __future__ import annotations

from solver.model import Day, PatientInfo, Weights
from solver.timegrid import covers


def continuity_penalty(patient: PatientInfo | None, staff: tuple[str, ...], w: Weights) -> int:
    """The patient's primary or recent clinician keeps continuity (OPS-07); anyone else costs."""
    if patient is None:
        return 0
    known = {patient.primary_staff, *patient.seen_by} - {None}
    if not known:
        return 0
    return 0 if known & set(staff) else w.no_continuity


def preference_penalty(
    patient: PatientInfo | None, staff: tuple[str, ...], start: int, end: int, day: Day, w: Weights
) -> int:
    """Preferred clinician, preferred part of day, days the patient would rather avoid."""
    if patient is None:
        return 0
    cost = 0
    if patient.preferred_staff and patient.preferred_staff not in staff:
        cost += w.not_preferred_staff
    if patient.preferred_windows and not covers(patient.preferred_windows, start, end):
        cost += w.outside_preferred_time
    if day.index in patient.avoid_days:
        cost += w.avoided_day
    return cost


def room_penalty(kind_rank: int, spare_seats: int, w: Weights) -> int:
    """The session type's first room kind is best; a much larger room than needed wastes it."""
    return w.room_kind_rank * kind_rank + (1 if spare_seats > 6 else 0)


def static_cost(
    patient: PatientInfo | None,
    staff: tuple[str, ...],
    start: int,
    end: int,
    day: Day,
    kind_rank: int,
    w: Weights,
) -> int:
    return (
        continuity_penalty(patient, staff, w)
        + preference_penalty(patient, staff, start, end, day, w)
        + w.room_kind_rank * kind_rank
    )
