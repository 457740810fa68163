"""What the period asks for: weekly requirements and standing groups, minus what is booked.

One `Demand` per (patient, session type, week) and per (group, week). Requirements for the same
patient and session type from several sources (treatment plan, court order, ...) are minimums,
so the largest one binds; the demand remembers whether a court order is behind it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from solver.model import GroupSpec, Placement, Problem, Window


@dataclass(frozen=True)
class Demand:
    index: int
    key: str
    session_type: str
    patients: tuple[str, ...]
    staff_options: tuple[str, ...]
    """Patient demand: who may provide it (pick one). Group demand: every facilitator attends."""
    count: int
    """Sessions still to place in this week."""
    required: int
    """Sessions the week requires (placed or booked count against it)."""
    week: int
    window: Window
    priority: int
    court: bool = False
    group: GroupSpec | None = None
    blocked: str | None = None
    """Why nothing can be placed at all (known before solving)."""

    @property
    def patient(self) -> str | None:
        return None if self.group else self.patients[0]


def weeks_of(problem: Problem) -> dict[int, Window]:
    spans: dict[int, Window] = {}
    for day in problem.days:
        lo, hi = spans.get(day.week, (day.open[0], day.open[1]))
        spans[day.week] = (min(lo, day.open[0]), max(hi, day.open[1]))
    return spans


def _week_fraction(problem: Problem, week: int, open_days_per_week: int) -> float:
    days = sum(1 for d in problem.days if d.week == week)
    return min(1.0, days / open_days_per_week) if open_days_per_week else 1.0


def _booked_count(
    booked: tuple[Placement, ...], problem: Problem
) -> tuple[dict[tuple[str, str, int], int], dict[tuple[str, int], int]]:
    """Booked sessions per (patient, session type, week) and per (group, week)."""
    by_patient: dict[tuple[str, str, int], int] = defaultdict(int)
    by_group: dict[tuple[str, int], int] = defaultdict(int)
    for appt in booked:
        week = problem.week_of(appt.start)
        if week is None:
            continue
        if appt.group:
            by_group[(appt.group, week)] += 1
        for patient in appt.patients:
            by_patient[(patient, appt.session_type, week)] += 1
    return by_patient, by_group


def attendees(problem: Problem, group: GroupSpec) -> tuple[str, ...]:
    """The members who may attend a meeting (their phase and payer allow the session type)."""
    elig = problem.eligibility
    return tuple(m for m in group.members if elig.may_attend(m, group.session_type))


def group_blocked(problem: Problem, group: GroupSpec, attendees: tuple[str, ...]) -> str | None:
    """Why a standing group cannot meet at all, as the booking would say."""
    elig = problem.eligibility
    most = elig.group_max.get(group.id)
    if most is not None and len(attendees) > most:
        return f"{len(attendees)} members, more than the {most} a meeting may hold (GRP-MAX-SIZE)"
    qualified = elig.qualified.get(group.session_type)
    if qualified is not None:
        unqualified = [s for s in group.facilitators if s not in qualified]
        if unqualified:
            return f"{unqualified[0]} may not facilitate {group.session_type} (STF-CREDENTIAL)"
    if group.members and not attendees:
        return "no member may attend (treatment phase or payer coverage)"
    return None


def expand_demands(problem: Problem, open_days_per_week: int = 5) -> list[Demand]:
    """Every demand of the period, in a stable order (groups first: they bind many people)."""
    elig = problem.eligibility
    weights = problem.weights
    patients = problem.patients_by_id()
    weeks = weeks_of(problem)
    booked_p, booked_g = _booked_count(problem.booked, problem)

    demands: list[Demand] = []

    def add(**kwargs: object) -> None:
        demands.append(Demand(index=len(demands), **kwargs))  # type: ignore[arg-type]

    # Standing groups: sessions_per_week meetings, all facilitators and members together.
    court_members = {
        r.patient for r in elig.requirements if r.source == "court_order" and r.per_week > 0
    }
    for group in problem.groups:
        kind = problem.session_types.get(group.session_type)
        members = attendees(problem, group)
        blocked = group_blocked(problem, group, members) if kind else None
        for week, span in sorted(weeks.items()):
            frac = _week_fraction(problem, week, open_days_per_week)
            required = math.floor(group.sessions_per_week * frac + 0.5)
            count = max(0, required - booked_g.get((group.id, week), 0))
            if required == 0:
                continue
            court = any(m in court_members for m in members)
            add(
                key=f"group:{group.id}:w{week}",
                session_type=group.session_type,
                patients=members,
                staff_options=group.facilitators,
                count=count,
                required=required,
                week=week,
                window=span,
                priority=2 * weights.place + (weights.court_bonus if court else 0),
                court=court,
                group=group,
                blocked=blocked if kind else f"unknown session type {group.session_type!r}",
            )

    # Individual and family requirements (group-type requirements are met by group meetings).
    best: dict[tuple[str, str], tuple[int, bool]] = {}
    for req in elig.requirements:
        key = (req.patient, req.session_type)
        per_week, court = best.get(key, (0, False))
        best[key] = (max(per_week, req.per_week), court or req.source == "court_order")
    group_types = {g.session_type for g in problem.groups}
    for (patient_id, session_type), (per_week, court) in best.items():
        kind = problem.session_types.get(session_type)
        patient = patients.get(patient_id)
        if per_week <= 0 or patient is None:
            continue
        if kind is not None and kind.group:
            if session_type not in group_types or not any(
                patient_id in g.members for g in problem.groups if g.session_type == session_type
            ):
                blocked = f"not a member of any standing {session_type} group"
            else:
                continue  # counted through the groups the patient belongs to
        elif kind is None:
            blocked = f"unknown session type {session_type!r}"
        else:
            blocked = elig.blocked.get((patient_id, session_type))
            if not elig.staff_for.get((patient_id, session_type)) and blocked is None:
                blocked = f"no clinician may provide {session_type} to this patient"
        priority = (
            weights.place
            + weights.acuity_step * (patient.acuity - 1)
            + (weights.court_bonus if court else 0)
        )
        for week, span in sorted(weeks.items()):
            frac = _week_fraction(problem, week, open_days_per_week)
            required = math.floor(per_week * frac + 0.5)
            if required == 0:
                continue
            already = booked_p.get((patient_id, session_type, week), 0)
            count = max(0, required - already)
            add(
                key=f"patient:{patient_id}:{session_type}:w{week}",
                session_type=session_type,
                patients=(patient_id,),
                staff_options=elig.staff_for.get((patient_id, session_type), ()),
                count=count,
                required=required,
                week=week,
                window=span,
                priority=priority,
                court=court,
                blocked=blocked,
            )
    return demands
