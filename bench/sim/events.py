"""What happens to the facility that no scheduling policy chooses: drawn once, before either
policy runs, from stated distributions and one seed (same seed, same month; both policies live
the very same month — common random numbers).

The streams and their rates (`Rates`; per day means per business day, Mon-Fri):

- Attendance is drawn from the one stated process, clinic.attendance_process
  (`AttendanceProcess(seed)`: patients' own tendencies, lead time, weekday, hour, session type,
  recent misses, first visit, own clinician, weekly and storm shocks; sourced from the rules
  catalogue OPS-01..OPS-04). What is drawn here, up front, is only one uniform per patient,
  day and n-th session of that day (common random numbers): the engine compares it with the
  process's risk of the session the policy actually booked (`Draws.outcome`), a late
  cancellation being the first LATE_CANCEL_SHARE of that risk on the same uniform, so
  whichever session a policy booked for a patient that day meets a fate drawn from the same
  number under both policies, and a lower risk never turns an attendance into a miss. Both
  policies send the standard reminders: every visit is `reminded` (the process's risk ratio
  0.77, OPS-03). An extra, risk-targeted reminder (Rota's reminders hook) further lowers that
  session's risk by REMINDER_EFFECT (relative), on the same uniform.
- Sick calls: each clinician, each business day, calls in sick with probability 0.025 (about
  six days a year; US absence rates for healthcare practitioners run around 2-3% of scheduled
  days), for 1, 2 or 3 business days with weights 0.7 / 0.2 / 0.1. Reported at 06:30.
- Emergency and same-day admissions: Poisson per business day with mean 0.6 per 100 patients
  in care at the start, arriving uniformly between 09:00 and 16:00; each is a new patient who
  needs an intake assessment, the target being within 30 minutes of arrival.
- New referrals: Poisson per week with mean 5 per 100 patients, each on a uniform business day
  at a uniform time between 09:00 and 16:00; admitted (level of care drawn in the demo's own
  proportions, a primary therapist or counselor with the smallest starting caseload), needing
  an intake assessment and then their level of care's weekly sessions.
- Discharges: each patient in care, each week, is discharged with probability 0.05 (a mean
  stay of about 20 weeks), on a uniform business day of that week at 12:00; a referral only
  from the week after their admission.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from clinic.attendance_process import LATE_CANCEL_SHARE, AttendanceProcess, Visit
from clinic.demo.roster import LEVELS

CLINICAL_ROLES = frozenset(
    {"therapist", "counselor", "intern", "psychiatrist", "nurse_practitioner", "physician"}
)
PRIMARY_ROLES = frozenset({"therapist", "counselor"})
SESSIONS_PER_DAY_DRAWN = 4
"""Outcomes drawn per patient and day (a patient rarely has more sessions in a day)."""
ARRIVAL_WINDOW = (9 * 60, 16 * 60)
REMINDER_EFFECT = 0.2
"""Relative cut in a patient's no-show probability when a policy sends an extra, risk-targeted
reminder. An assumption, not an established effect (reminders are one of several NIATx
practices behind Molfenter's drop; Gallefoss et al. 2022, doi:10.1186/s13011-022-00489-9,
found no effect of a pre-admission phone reminder); used only through the reminders hook."""


@dataclass(frozen=True)
class Rates:
    sick_per_clinician_day: float = 0.025
    sick_length_weights: tuple[float, ...] = (0.7, 0.2, 0.1)
    emergencies_per_day_per_100: float = 0.6
    referrals_per_week_per_100: float = 5.0
    discharge_per_patient_week: float = 0.05


@dataclass(frozen=True)
class SickCall:
    staff: str
    day: int
    """Index of the first business day out (0 = the first day simulated)."""
    days: int


@dataclass(frozen=True)
class Arrival:
    """A new patient: an emergency walk-in or a referral, at `minute` past local midnight."""

    patient: str
    day: int
    minute: int
    record: dict[str, Any]
    emergency: bool


@dataclass(frozen=True)
class Discharge:
    patient: str
    day: int


@dataclass
class Draws:
    seed: int
    days: list[date]
    rates: Rates
    uniforms: dict[str, list[list[float]]]
    """patient → per day index → SESSIONS_PER_DAY_DRAWN uniforms (one per session that day)."""
    sick: list[SickCall] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    discharges: list[Discharge] = field(default_factory=list)

    @property
    def process(self) -> AttendanceProcess:
        """The stated attendance process, on this month's seed."""
        return AttendanceProcess(self.seed)

    def risk(self, visit: Visit, extra_reminder: bool = False) -> float:
        """The process's no-show-or-late-cancellation risk of `visit`, less REMINDER_EFFECT when
        a policy sent an extra reminder."""
        p = self.process.no_show_probability(visit)
        return p * (1 - REMINDER_EFFECT) if extra_reminder else p

    def outcome(self, day: int, nth: int, visit: Visit, extra_reminder: bool = False) -> str:
        """attended, no_show or late_cancel for `visit`, the patient's `nth` session (0-based,
        in start order) of day index `day`."""
        risk = self.risk(visit, extra_reminder)
        u = self.uniforms[visit.patient_id][day][min(nth, SESSIONS_PER_DAY_DRAWN - 1)]
        if u < risk * LATE_CANCEL_SHARE:
            return "late_cancel"
        if u < risk:
            return "no_show"
        return "attended"

    def digest(self) -> str:
        """A fingerprint of every draw (what the test compares across runs and policies)."""
        body = {
            "seed": self.seed,
            "days": [d.isoformat() for d in self.days],
            "uniforms": sorted(self.uniforms.items()),
            "sick": [asdict(s) for s in self.sick],
            "arrivals": [asdict(a) for a in self.arrivals],
            "discharges": [asdict(d) for d in self.discharges],
        }
        text = json.dumps(body, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def counts(self) -> dict[str, int]:
        return {
            "sick_calls": len(self.sick),
            "sick_days": sum(s.days for s in self.sick),
            "emergencies": sum(a.emergency for a in self.arrivals),
            "referrals": sum(not a.emergency for a in self.arrivals),
            "discharges": len(self.discharges),
        }


def business_days(start: date, weeks: int) -> list[date]:
    monday = start - timedelta(days=start.weekday())
    return [monday + timedelta(days=7 * w + d) for w in range(weeks) for d in range(5)]


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (the means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def draw(demo: dict[str, Any], start: date, weeks: int, seed: int, rates: Rates | None = None):
    """Every exogenous event of `weeks` weeks from the Monday of `start`, for the demo facility
    `demo` (the facility file `clinic.demo.generate_demo` returns)."""
    rates = rates or Rates()
    rng = random.Random(f"rota-sim:{seed}")
    days = business_days(start, weeks)
    patients = [p for p in demo["patients"] if p.get("phase") != "discharged"]
    clinicians = sorted(s["id"] for s in demo["staff"] if s["role"] in CLINICAL_ROLES)
    census = len(patients)

    # New patients first (their ids are fixed here, so both policies admit the same people).
    arrivals: list[Arrival] = []
    caseload: dict[str, int] = defaultdict(int)
    for p in patients:
        caseload[p.get("primary_clinician", "")] += 1
    primaries = sorted(s["id"] for s in demo["staff"] if s["role"] in PRIMARY_ROLES)
    for d in range(len(days)):
        for _ in range(poisson(rng, rates.emergencies_per_day_per_100 * census / 100)):
            arrivals.append(_arrival(rng, d, True, len(arrivals), None))
    for w in range(weeks):
        for _ in range(poisson(rng, rates.referrals_per_week_per_100 * census / 100)):
            d = 5 * w + rng.randrange(5)
            primary = min(primaries, key=lambda s: (caseload[s], s))
            caseload[primary] += 1
            arrivals.append(_arrival(rng, d, False, len(arrivals), primary))
    arrivals.sort(key=lambda a: (a.day, a.minute, a.patient))

    everyone = [p["id"] for p in patients] + [a.patient for a in arrivals]
    uniforms: dict[str, list[list[float]]] = {}
    for pid in everyone:
        uniforms[pid] = [
            [rng.random() for _ in range(SESSIONS_PER_DAY_DRAWN)] for _ in range(len(days))
        ]

    sick: list[SickCall] = []
    out_until: dict[str, int] = {}
    for d in range(len(days)):
        for sid in clinicians:
            if rng.random() < rates.sick_per_clinician_day and out_until.get(sid, -1) < d:
                length = rng.choices([1, 2, 3], rates.sick_length_weights)[0]
                length = min(length, len(days) - d)
                sick.append(SickCall(sid, d, length))
                out_until[sid] = d + length - 1

    discharges: list[Discharge] = []
    admitted_week = {a.patient: a.day // 5 for a in arrivals if not a.emergency}
    for pid in [p["id"] for p in patients] + list(admitted_week):
        for w in range(admitted_week.get(pid, -1) + 1, weeks):
            if rng.random() < rates.discharge_per_patient_week:
                discharges.append(Discharge(pid, 5 * w + rng.randrange(5)))
                break
    discharges.sort(key=lambda x: (x.day, x.patient))
    return Draws(seed, days, rates, uniforms, sick, arrivals, discharges)


FIRST = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Kai", "Logan"]
LAST = ["Abernathy", "Brightwater", "Castellano", "Delacroix", "Eastwood", "Fairbanks", "Galloway"]


def _arrival(rng: random.Random, day: int, emergency: bool, n: int, primary: str | None) -> Arrival:
    """A new patient's record in the facility file's shape (the admit use case's input)."""
    pid = f"sim-{'e' if emergency else 'r'}{n + 1:03d}"
    name = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}-{n + 1}"
    record: dict[str, Any] = {"id": pid, "name": name, "phase": "intake"}
    if emergency:
        record["acuity"] = 5
    else:
        record["level_of_care"] = rng.choices([lv for lv, _ in LEVELS], [w for _, w in LEVELS])[0]
        record["acuity"] = rng.choices([1, 2, 3, 4, 5], [10, 30, 35, 18, 7])[0]
        record["primary_clinician"] = primary
    minute = rng.randrange(*ARRIVAL_WINDOW)
    return Arrival(pid, day, minute, record, emergency)
