"""Plan-level figures: what was required, what was placed, what stays unmet, how busy people are."""

from __future__ import annotations

from collections.abc import Iterable

from solver.demand import Demand
from solver.model import Placement, Problem, Unmet
from solver.timegrid import intersect, normalize


def clinicians(problem: Problem) -> frozenset[str]:
    """Staff who deliver sessions: anyone the eligibility lets provide at least one."""
    return frozenset(s for pool in problem.eligibility.staff_for.values() for s in pool)


def utilization(problem: Problem, appointments: Iterable[Placement]) -> tuple[float, float]:
    """(staff, room): booked minutes / available minutes inside the period's open hours. Staff
    utilization counts the clinicians only (front desk and other non-clinical staff would
    dilute it), as the directors' report does (assistant.reports.utilization)."""
    open_ = normalize(d.open for d in problem.days)
    lo, hi = problem.horizon
    who = clinicians(problem)
    staff_avail = {s.id: intersect(s.available, open_) for s in problem.staff if s.id in who}
    room_avail = {
        r.id: intersect(r.available, open_) for r in problem.rooms if r.kind != "telehealth"
    }
    staff_total = sum(b - a for ws in staff_avail.values() for a, b in ws)
    room_total = sum(b - a for ws in room_avail.values() for a, b in ws)
    staff_used = room_used = 0
    for appt in appointments:
        if appt.end <= lo or appt.start >= hi:
            continue
        staff_used += appt.minutes * sum(1 for s in appt.staff if s in staff_avail)
        if appt.room in room_avail:
            room_used += appt.minutes
    return (
        round(staff_used / staff_total, 4) if staff_total else 0.0,
        round(room_used / room_total, 4) if room_total else 0.0,
    )


def tally(
    demands: list[Demand], new_per_demand: dict[int, int], reasons: dict[int, str]
) -> tuple[int, int, list[Unmet]]:
    """(required sessions, placed sessions, unmet). Booked sessions count as placed."""
    required = placed = 0
    unmet: list[Unmet] = []
    for d in demands:
        new = min(d.count, new_per_demand.get(d.index, 0))
        required += d.required
        placed += (d.required - d.count) + new
        missing = d.count - new
        if missing > 0:
            unmet.append(
                Unmet(
                    session_type=d.session_type,
                    missing=missing,
                    reason=d.blocked or reasons.get(d.index) or "no room in the schedule",
                    patient=d.patient,
                    group=d.group.id if d.group else None,
                    week=d.week,
                )
            )
    return required, placed, unmet


def quality(problem: Problem, new: Iterable[Placement]) -> dict[str, float]:
    """How good the new sessions are for people (shares of non-group sessions, 0..1):
    with the patient's own clinician, fitting the patient's preferences, and patient-days
    carrying more than one session."""
    from collections import Counter

    from solver.scoring import continuity_penalty, preference_penalty

    patients = problem.patients_by_id()
    w = problem.weights
    total = cont = pref = 0
    per_day: Counter[tuple[str, int]] = Counter()
    for appt in new:
        day = problem.day_of(appt.start)
        if day is None:
            continue
        for p in appt.patients:
            per_day[(p, day.index)] += 1
        if appt.group:
            continue
        patient = patients.get(appt.patients[0])
        total += 1
        cont += continuity_penalty(patient, appt.staff, w) == 0
        pref += preference_penalty(patient, appt.staff, appt.start, appt.end, day, w) == 0
    doubled = sum(1 for n in per_day.values() if n > 1)
    return {
        "continuity": round(cont / total, 4) if total else 1.0,
        "preferences_met": round(pref / total, 4) if total else 1.0,
        "patient_days_with_two_or_more": doubled,
    }
