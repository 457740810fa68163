"""Small synthetic problems for the solver tests: a Monday-to-Friday week, facility 08:00-18:00,
minutes counted from Monday 00:00. Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from solver.model import (
    Day,
    GroupSpec,
    PatientInfo,
    Placement,
    PlanRules,
    Problem,
    RoomInfo,
    SessionKind,
    StaffInfo,
    UnitBudget,
    WeeklyMinimum,
)

MONDAY = date(2026, 11, 30)
DAY = 24 * 60
OPEN, CLOSE = 8 * 60, 18 * 60
SPECS = ("dual_diagnosis", "trauma", "family_systems", "womens")

KINDS = {
    "individual": SessionKind("individual", 60, ("individual", "telehealth")),
    "family": SessionKind("family", 60, ("family",), family=True, max_patients=1),
    "group": SessionKind("group", 90, ("group",), group=True, max_patients=12),
    "psychiatric_evaluation": SessionKind("psychiatric_evaluation", 60, ("medical",)),
}


def day_window(i: int, start: int = OPEN, end: int = CLOSE) -> tuple[int, int]:
    return (i * DAY + start, i * DAY + end)


def days(n: int = 5) -> tuple[Day, ...]:
    return tuple(
        Day(
            i,
            MONDAY + timedelta(days=i),
            ("mon", "tue", "wed", "thu", "fri")[i % 5],
            0,
            day_window(i),
        )
        for i in range(n)
    )


def make_problem(
    n_staff: int = 6,
    n_rooms: int = 4,
    n_patients: int = 20,
    n_groups: int = 1,
    seed: int = 1,
    n_days: int = 5,
    booked: int = 3,
) -> Problem:
    rng = random.Random(seed)
    week = days(n_days)
    staff: list[StaffInfo] = []
    for i in range(n_staff):
        role = "psychiatrist" if i == n_staff - 1 else ("therapist" if i % 2 else "counselor")
        off = rng.randrange(n_days) if i % 3 == 0 else -1
        windows = tuple(
            day_window(d, OPEN + (60 if i % 4 == 1 else 0), CLOSE - (120 if i % 4 == 2 else 0))
            for d in range(n_days)
            if d != off
        )
        staff.append(
            StaffInfo(
                id=f"S{i + 1}",
                role=role,
                credentials=frozenset({"MD"} if role == "psychiatrist" else {"LCSW"}),
                specializations=frozenset(rng.sample(SPECS, 2)),
                available=windows,
                max_minutes_per_week=None if i % 2 else 20 * 60,
            )
        )
    kinds_cycle = ("individual", "individual", "group", "family", "medical", "telehealth")
    rooms = []
    for i in range(n_rooms):
        kind = kinds_cycle[i % len(kinds_cycle)]
        cap = {"group": 14, "family": 6}.get(kind, 3)
        avail = tuple(day_window(d) for d in range(n_days))
        if i == 1:  # one room closed Wednesday morning
            avail = (*tuple(w for w in avail if w[0] // DAY != 2), day_window(2, 13 * 60))
        rooms.append(RoomInfo(f"R{i + 1}", kind, cap, tuple(sorted(avail))))

    clinicians = [s for s in staff if s.role != "psychiatrist"]
    psychiatrists = [s for s in staff if s.role == "psychiatrist"]
    patients: list[PatientInfo] = []
    elig = PlanRules()
    for i in range(n_patients):
        pid = f"P{i + 1}"
        needs = frozenset(rng.sample(SPECS, 1)) if i % 3 == 0 else frozenset()
        if i == n_patients - 1 and n_patients > 3:
            needs = frozenset({"veterans"})  # nobody here has it
        eligible = tuple(s.id for s in clinicians if needs <= s.specializations)
        available = None
        if i % 4 == 1:
            available = tuple(day_window(d, OPEN, 12 * 60) for d in range(n_days))
        elif i % 4 == 2:
            available = tuple(day_window(d, 13 * 60, CLOSE) for d in range(n_days))
        preferred = tuple(day_window(d, OPEN, 12 * 60) for d in range(n_days)) if i % 5 == 0 else ()
        family = tuple(day_window(d, 15 * 60, CLOSE) for d in range(n_days)) if i % 6 == 0 else None
        patients.append(
            PatientInfo(
                id=pid,
                acuity=1 + i % 5,
                available=available,
                primary_staff=eligible[i % len(eligible)] if eligible else None,
                preferred_windows=preferred,
                avoid_days=frozenset({4}) if i % 7 == 0 else frozenset(),
                family_windows=family,
            )
        )
        if eligible:
            elig.staff_for[(pid, "individual")] = eligible
            elig.staff_for[(pid, "family")] = eligible
        else:
            elig.blocked[(pid, "individual")] = "nobody has " + ", ".join(sorted(needs))
        elig.staff_for[(pid, "psychiatric_evaluation")] = tuple(s.id for s in psychiatrists)
        source = "court_order" if i % 8 == 3 else "treatment_plan"
        elig.requirements.append(WeeklyMinimum(pid, "individual", 1 + (i % 3 == 0), source))
        if family is not None:
            elig.requirements.append(WeeklyMinimum(pid, "family", 1))
        if i % 10 == 4:
            elig.requirements.append(WeeklyMinimum(pid, "psychiatric_evaluation", 1))
        if i % 9 == 2:
            elig.budgets.append(UnitBudget(pid, frozenset({"individual"}), (0, n_days * DAY), 0))
    elig.qualified["group"] = tuple(s.id for s in clinicians)

    groups = []
    for g in range(n_groups):
        members = tuple(p.id for p in patients[g * 7 + 3 : g * 7 + 11] if p.available is None)
        groups.append(
            GroupSpec(
                id=f"G{g + 1}",
                session_type="group",
                facilitators=(clinicians[g % len(clinicians)].id,),
                members=members,
                sessions_per_week=2,
                min_days_apart=1,
            )
        )
    booked_list = []
    for b in range(booked):
        s = clinicians[b % len(clinicians)]
        p = patients[(b * 5 + 1) % n_patients]
        start = (b % n_days) * DAY + 9 * 60 + 60 * b
        booked_list.append(
            Placement(
                id=f"B{b + 1}",
                session_type="individual",
                start=start,
                minutes=60,
                staff=(s.id,),
                patients=(p.id,),
                room=rooms[0].id,
                pinned=b == 0,
            )
        )
    return Problem(
        origin=datetime(2026, 11, 30, 5, tzinfo=UTC),
        slot_minutes=15,
        days=week,
        staff=tuple(staff),
        rooms=tuple(rooms),
        patients=tuple(patients),
        session_types=dict(KINDS),
        eligibility=elig,
        groups=tuple(groups),
        booked=tuple(booked_list),
    )


def make_group_heavy(
    seed: int = 1, n_cohorts: int = 8, n_staff: int = 8, n_rooms: int = 4, hours: int = 12
) -> Problem:
    """A week shaped like course timetabling: cohorts of patients who attend `hours` or a few more one-hour group
    meetings a week across several groups (several a day; some groups meet more often than there
    are days), facilitators with unavailable half-days, rooms of mixed capacities. Open 08:00 to
    16:00, so a cohort is busy up to half its week."""
    rng = random.Random(seed)
    week = tuple(
        Day(
            i,
            MONDAY + timedelta(days=i),
            ("mon", "tue", "wed", "thu", "fri")[i],
            0,
            day_window(i, OPEN, 16 * 60),
        )
        for i in range(5)
    )
    kinds = {"group": SessionKind("group", 60, ("group",), group=True, max_patients=40)}
    staff = []
    for i in range(n_staff):
        off = {(rng.randrange(5), rng.randrange(2)) for _ in range(2)}
        windows = tuple(
            day_window(d, OPEN + 240 * h, OPEN + 240 * (h + 1))
            for d in range(5)
            for h in range(2)
            if (d, h) not in off
        )
        staff.append(StaffInfo(f"S{i + 1}", "counselor", frozenset({"LCSW"}), frozenset(), windows))
    cohorts = [tuple(f"P{c + 1}_{k + 1}" for k in range(1 + c % 3)) for c in range(n_cohorts)]
    patients = [PatientInfo(id=p, acuity=2) for cohort in cohorts for p in cohort]
    rooms = tuple(
        RoomInfo(f"R{i + 1}", "group", cap, tuple(day_window(d, OPEN, 16 * 60) for d in range(5)))
        for i, cap in enumerate([12, 8, 6, 4, 12, 8][:n_rooms])
    )
    groups: list[GroupSpec] = []
    load = dict.fromkeys(range(n_cohorts), 0)
    staff_load = dict.fromkeys(range(n_staff), 0)
    g = 0
    while any(v < hours for v in load.values()):
        short = [c for c, v in load.items() if v < hours]
        first = rng.choice(short)
        others = [c for c in rng.sample(short, min(len(short), 2)) if c != first]
        members_of = [first, *others[: rng.randrange(2)]]
        per_week = rng.choice((2, 3, 3, 4, 6))
        fac = min(range(n_staff), key=lambda s: (staff_load[s], rng.random()))
        staff_load[fac] += per_week
        for c in members_of:
            load[c] += per_week
        g += 1
        groups.append(
            GroupSpec(
                id=f"G{g}",
                session_type="group",
                facilitators=(f"S{fac + 1}",),
                members=tuple(p for c in members_of for p in cohorts[c]),
                sessions_per_week=per_week,
            )
        )
    elig = PlanRules()
    elig.qualified["group"] = tuple(s.id for s in staff)
    return Problem(
        origin=datetime(2026, 11, 30, 5, tzinfo=UTC),
        slot_minutes=15,
        days=week,
        staff=tuple(staff),
        rooms=rooms,
        patients=tuple(patients),
        session_types=kinds,
        eligibility=elig,
        groups=tuple(groups),
    )
