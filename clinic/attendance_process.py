"""The stated process that decides whether a patient comes to a session, so that generated
histories (the demo's weeks, the month simulation) are drawn from something written down and a
no-show prediction can be scored against it.

    logit P(no-show) = INTERCEPT + propensity[patient] + lead time + weekday + hour
                       + session type + recent misses + first visit + other clinician
                       + week shock + weather shock
    P(no-show | reminded) = P(no-show) × REMINDER_RISK_RATIO

Before that, a patient cancels ahead (CANCEL_AHEAD) or late (a share of their no-show risk).
Effects and their sources (../shared/domain/rules-catalogue.md, OPS-01..OPS-04):
- base rate: outpatient no-shows 37.4 % before and 19.9 % after the NIATx process changes
  (67 organisations); the intercept puts this process at about 24 % overall (OPS-01);
- first appointments are missed far more often, and more when booked over 48 h out: > 70 % kept
  within 48 h, 53 % beyond (OPS-02);
- SMS reminders: risk ratio 0.77 for non-attendance (meta-analysis of 12 studies, OPS-03);
- recent misses and "planning consistency" (the same clinician) predict non-attendance (OPS-04);
- weekday, hour, session type and weather-like shocks are this program's assumptions, stated
  here so they can be changed and scored, not sourced.

Every draw is seeded by (seed, patient, start, session type), so an outcome does not depend on
the order sessions are drawn in: two policies simulated on the same seed meet the same patients
behaving the same way at the same times.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime

INTERCEPT = -1.75
PROPENSITY_SD = 0.9  # spread of patients' own tendencies, on the logit scale
LEAD_PER_DAY = 0.04  # per day booked ahead beyond two, up to LEAD_CAP_DAYS
LEAD_CAP_DAYS = 21
FIRST_VISIT = 0.5
FIRST_VISIT_BOOKED_LATE = 0.45  # a first visit booked more than 48 h out (OPS-02)
PER_RECENT_MISS = 0.55  # each miss among the patient's last three sessions (OPS-04)
OTHER_CLINICIAN = 0.2  # not the patient's own clinician (OPS-04, planning consistency)
WEEKDAY = {0: 0.15, 1: 0.0, 2: 0.0, 3: 0.05, 4: 0.3, 5: 0.4, 6: 0.4}
SESSION_TYPE = {
    "group": -0.2,  # an IOP cohort expects you
    "medication_management": -0.4,  # the prescription depends on it
    "intake": 0.3,
    "assessment": 0.3,
    "case_management": 0.2,
    "family": 0.2,
}
WEEK_SHOCK_SD = 0.2
WEATHER_DAY_PROBABILITY = 0.04  # a storm day: everyone is likelier to stay home
WEATHER_SHOCK = 1.2
REMINDER_RISK_RATIO = 0.77  # OPS-03
CANCEL_AHEAD = 0.06  # the patient calls a day or more ahead
LATE_CANCEL_SHARE = 0.25  # of the no-show risk, taken as a late cancellation instead
OUTCOMES = ("attended", "no_show", "late_cancelled", "cancelled")


@dataclass(frozen=True)
class Visit:
    """What the process knows about one patient's place in one session."""

    patient_id: str
    start: datetime  # the facility's local wall time
    session_type: str
    lead_days: int  # booked this many days before `start`
    recent_misses: int = 0  # no-shows and late cancellations among the last three sessions
    first_visit: bool = False
    own_clinician: bool = True
    reminded: bool = False


def hour_effect(hour: int) -> float:
    if hour < 9:
        return 0.35
    if hour < 12:
        return 0.0
    if hour < 14:
        return 0.1
    if hour < 17:
        return 0.05
    return 0.25


class AttendanceProcess:
    """One seeded world of patients' tendencies, weekly moods and storm days."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def propensity(self, patient_id: str) -> float:
        return random.Random(f"{self.seed}:propensity:{patient_id}").gauss(0.0, PROPENSITY_SD)  # nosec B311  # seeded simulation, not a secret

    def week_shock(self, day: date) -> float:
        year, week, _ = day.isocalendar()
        return random.Random(f"{self.seed}:week:{year}-{week}").gauss(0.0, WEEK_SHOCK_SD)  # nosec B311  # seeded simulation, not a secret

    def stormy(self, day: date) -> bool:
        return random.Random(f"{self.seed}:weather:{day}").random() < WEATHER_DAY_PROBABILITY  # nosec B311  # seeded simulation, not a secret

    def logit(self, visit: Visit) -> float:
        day = visit.start.date()
        value = INTERCEPT + self.propensity(visit.patient_id)
        value += LEAD_PER_DAY * max(0, min(visit.lead_days, LEAD_CAP_DAYS) - 2)
        value += WEEKDAY[visit.start.weekday()] + hour_effect(visit.start.hour)
        value += SESSION_TYPE.get(visit.session_type, 0.0)
        value += PER_RECENT_MISS * min(visit.recent_misses, 3)
        if visit.first_visit:
            value += FIRST_VISIT + (FIRST_VISIT_BOOKED_LATE if visit.lead_days > 2 else 0.0)
        if not visit.own_clinician:
            value += OTHER_CLINICIAN
        value += self.week_shock(day) + (WEATHER_SHOCK if self.stormy(day) else 0.0)
        return value

    def no_show_probability(self, visit: Visit) -> float:
        """The true risk of a no-show or late cancellation (what a model tries to learn)."""
        p = 1.0 / (1.0 + math.exp(-self.logit(visit)))
        return p * REMINDER_RISK_RATIO if visit.reminded else p

    def outcome(self, visit: Visit) -> str:
        """attended | no_show | late_cancelled | cancelled, the same every time it is asked."""
        draw = random.Random(  # nosec B311  # seeded simulation, not a secret
            f"{self.seed}:outcome:{visit.patient_id}:{visit.start.isoformat()}:{visit.session_type}"
        )
        if draw.random() < CANCEL_AHEAD:
            return "cancelled"
        risk = self.no_show_probability(visit)
        u = draw.random()
        if u < risk * LATE_CANCEL_SHARE:
            return "late_cancelled"
        if u < risk:
            return "no_show"
        return "attended"
