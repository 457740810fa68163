"""A facility's attendance history as plain rows (what the no-show model reads), and a generated
one drawn from the stated process (clinic/attendance_process.py) for tests and benches.

A row is one patient's place in one session whose time came: its outcome (attended, no_show,
late_cancelled; a session cancelled a day or more ahead is no outcome), the facility-local start,
the session type, how many days ahead it was booked (None when the record does not say) and
whether the clinician was the patient's own.

The generated history: `patients` patients over `weeks` weeks. A third are in treatment when it
begins, the rest are referred week by week; each stays 4–16 weeks. Levels of care, in the
shares the demo uses: IOP (three groups a week in a morning or evening cohort, plus one
individual session), OP (one individual session a week, half also a weekly group) and OP with
medication management (an individual session a week, medication management every other
week). The first session is an intake. Standing sessions are mostly booked a week ahead (some a
few days, some two to three weeks); the clinician is the patient's own for most individual
sessions and fewer groups. Every outcome comes from `AttendanceProcess(seed).outcome`, with the
patient's own recent misses and first visit fed back in, and the facility reminds everyone.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinic.attendance_process import AttendanceProcess, Visit

MISSED = ("no_show", "late_cancelled")
"""The outcomes a no-show model predicts (the process draws both from one risk)."""
OUTCOMES = ("attended", *MISSED)
RECENT = 3
"""Recent misses count among this many of the patient's last sessions (as the process does)."""


@dataclass(frozen=True)
class AttendanceRow:
    patient_id: str
    start: datetime  # facility-local (aware); only its date, weekday and hour are read
    session_type: str
    lead_days: int | None  # booked this many days ahead; None: not recorded
    own_clinician: bool
    status: str  # attended | no_show | late_cancelled

    @property
    def missed(self) -> bool:
        return self.status in MISSED


@dataclass(frozen=True)
class GeneratedHistory:
    rows: list[AttendanceRow]  # ordered by start
    true_risk: list[float]  # the process's P(no-show or late cancel) of each row
    start: datetime  # local midnight of the first Monday
    end: datetime  # local midnight after the last week


def generate_history(
    seed: int,
    *,
    patients: int = 300,
    weeks: int = 12,
    first_monday: date = date(2026, 9, 7),
    tz: ZoneInfo = ZoneInfo("America/New_York"),
) -> GeneratedHistory:
    """Draw a history (same seed, same history). See the module's docstring for its shape."""
    if first_monday.weekday() != 0:
        raise ValueError("first_monday must be a Monday")
    rng = random.Random(f"{seed}:history")  # nosec B311  # seeded simulation, not a secret
    process = AttendanceProcess(seed)
    planned: list[tuple[datetime, str, str, int, bool]] = []
    for i in range(1, patients + 1):
        planned += _plan_patient(rng, f"p{i:04d}", weeks, first_monday, tz)
    planned.sort(key=lambda v: (v[0], v[1], v[2]))
    rows: list[AttendanceRow] = []
    risks: list[float] = []
    recent: dict[str, deque[bool]] = {}
    for start, pid, stype, lead, own in planned:
        seen = recent.get(pid)
        visit = Visit(
            patient_id=pid,
            start=start,
            session_type=stype,
            lead_days=lead,
            recent_misses=sum(seen) if seen else 0,
            first_visit=seen is None,
            own_clinician=own,
            reminded=True,
        )
        outcome = process.outcome(visit)
        if outcome not in OUTCOMES:  # cancelled ahead: the session never came
            continue
        rows.append(AttendanceRow(pid, start, stype, lead, own, outcome))
        risks.append(process.no_show_probability(visit))
        recent.setdefault(pid, deque(maxlen=RECENT)).append(outcome in MISSED)
    begin = datetime.combine(first_monday, time(0), tz)
    return GeneratedHistory(rows, risks, begin, begin + timedelta(weeks=weeks))


def _plan_patient(
    rng: random.Random, pid: str, weeks: int, monday: date, tz: ZoneInfo
) -> list[tuple[datetime, str, str, int, bool]]:
    """(start, patient, session type, lead days, own clinician) of one patient's sessions."""
    first_week = 0 if rng.random() < 1 / 3 else rng.randrange(weeks)
    last_week = min(weeks, first_week + rng.randint(4, 16))
    level = rng.choices(("iop", "op", "mat"), (45, 45, 10))[0]
    evening = rng.random() < 0.4
    group_days = (0, 2, 3)  # IOP cohorts meet Mon, Wed, Thu
    individual = (rng.randrange(5), rng.choice((8, 9, 10, 11, 13, 14, 15, 16, 17)))
    op_group = (rng.choice((1, 3, 5)), 18 if rng.random() < 0.5 else 10)  # Tue, Thu or Sat
    medication = (rng.randrange(5), rng.choice((9, 11, 14)))
    week_sessions: list[tuple[int, int, str]] = [(*individual, "individual")]
    if level == "iop":
        week_sessions += [(d, 17 if evening else 9, "group") for d in group_days]
    elif level == "op" and rng.random() < 0.5:
        week_sessions.append((*op_group, "group"))
    out: list[tuple[datetime, str, str, int, bool]] = []
    for week in range(first_week, last_week):
        sessions = list(week_sessions)
        if level == "mat" and (week - first_week) % 2 == 0:
            sessions.append((*medication, "medication_management"))
        if week == first_week:  # the intake opens treatment, on the first day of the week's
            day, hour = min((d, h) for d, h, _ in sessions)
            sessions = [s for s in sessions if s[0] > day]
            sessions.append((day, hour, "intake"))
        for day, hour, stype in sessions:
            start = datetime.combine(monday + timedelta(weeks=week, days=day), time(hour), tz)
            out.append((start, pid, stype, _lead(rng, stype), _own(rng, stype)))
    return out


def _lead(rng: random.Random, session_type: str) -> int:
    if session_type == "intake":
        return rng.choice((0, 1, 1, 2, 3, 5, 7, 10))
    u = rng.random()
    if u < 0.6:
        return 7
    if u < 0.85:
        return rng.randint(1, 6)
    return rng.randint(14, 21)


def _own(rng: random.Random, session_type: str) -> bool:
    share = {"group": 0.4, "intake": 0.5}.get(session_type, 0.85)
    return rng.random() < share
