"""What any plan must respect, as plain frozen data for the solver (`constraints_for`'s answer).

No ORM objects, no engine: the solver reads these fields directly. Mappings are plain dicts;
treat them as read-only. Minutes are per ISO week (Monday-Sunday, facility time) unless named
otherwise; weekday keys are 'mon'..'sun'; intervals are minutes after local midnight, half-open.
Every limit names the rule it comes from (`rule`), so the solver can explain a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

Windows = Mapping[str, tuple[tuple[int, int], ...]]
"""Weekday -> allowed [start, end) minute intervals. A missing weekday means no time that day."""


def missing_needs(needs: Iterable[str], specializations: Iterable[str]) -> frozenset[str]:
    """STF-NEEDS: the needs (dual_diagnosis, trauma, ...) a clinician's specializations leave
    uncovered; empty when the clinician fits. The one definition of needs-based eligibility."""
    return frozenset(needs) - frozenset(specializations)


@dataclass(frozen=True)
class Requirement:
    """At least `per_week` sessions of `session_type` in every ISO week of the period."""

    session_type: str
    per_week: int
    source: str
    """treatment_plan, court_order, level_of_care or payer."""
    rule: str | None = None
    """The rule that enforces it at booking time (e.g. CRT-REQUIRED-CANCEL), if any."""


@dataclass(frozen=True)
class PatientRules:
    patient: str
    min_weekly_clinical_minutes: int | None = None
    """Lower end of the level-of-care band (LOC-12), counting clinical categories only."""
    max_weekly_clinical_minutes: int | None = None
    """Upper end, inclusive. None: no maximum."""
    clinical_session_types: frozenset[str] = frozenset()
    """Session types that count toward the weekly clinical minutes."""
    requirements: tuple[Requirement, ...] = ()
    allowed_session_types: frozenset[str] = frozenset()
    """Session types the treatment phase allows (LOC-PHASE-SESSION)."""
    windows: Windows | None = None
    """When the patient can attend; None: whenever the facility is open."""
    blocked: tuple[tuple[datetime, datetime, str], ...] = ()
    """Times the patient is elsewhere (court hearings, ...; CRT-COMMITMENT)."""
    max_individual_per_day: int | None = None
    """OPS-ONE-INDIVIDUAL: individual psychotherapy sessions per local day."""
    max_psychotherapy_minutes_per_day: int | None = None
    """OPS-DAILY-PSYCHOTHERAPY-CAP."""
    individual_session_types: frozenset[str] = frozenset()
    psychotherapy_session_types: frozenset[str] = frozenset()
    max_evaluations_per_day: int | None = None
    """OPS-ONE-EVALUATION: diagnostic evaluations (90791, 90792) per local day."""
    evaluation_session_types: frozenset[str] = frozenset()
    em_session_types: frozenset[str] = frozenset()
    """OPS-EVAL-EM-SAME-DAY: E/M visits that may not fall on the local day of a diagnostic
    evaluation (`evaluation_session_types`) by the same prescriber; empty when the rule is off."""
    max_family_per_day: int | None = None
    """OPS-FAMILY-SAME-DAY: family sessions per local day without a review."""
    family_session_types: frozenset[str] = frozenset()
    intake_first_session_types: frozenset[str] = frozenset()
    """LOC-INTAKE-FIRST: session types (group, family) that must come after the patient's intake
    assessment; empty when the rule does not apply (not in the intake phase, or disabled)."""
    assessed_from: datetime | None = None
    """When the patient's first intake assessment on file starts (None: none yet)."""


@dataclass(frozen=True)
class StaffRules:
    staff: str
    session_types: frozenset[str]
    """Session types their role or credentials qualify them for (STF-CREDENTIAL)."""
    windows: Windows | None = None
    """When they may deliver sessions alone; for interns under the hours threshold, the overlap
    of their hours with their supervisor's (STF-INTERN-ONSITE). None: their usual hours."""
    supervisor: str | None = None
    needs_cofacilitator_outside_windows: bool = False


@dataclass(frozen=True)
class UnitBudget:
    """Sessions of `session_types` the payer still pays for between start and end (AUTH-03)."""

    patient: str
    authorization: str
    payer: str
    session_types: frozenset[str]
    start: date
    end: date
    units_left: int
    """`rules.units.ledger`: authorized - used - booked but not yet held, before any new booking."""
    max_per_week: int | None = None


@dataclass(frozen=True)
class MinimumLength:
    """A session of `session_type` is booked for at least `minutes` (COD-IOP-DAY: an IOP day
    billed as H0015 lasts 3 hours); `what` names it for a person."""

    session_type: str
    minutes: int
    rule: str
    what: str


@dataclass(frozen=True)
class GroupRules:
    group: str
    min_members: int | None
    max_members: int | None
    closed_to_new: bool
    """A closed cohort past its last joining meeting (GRP-CLOSED-COHORT)."""


@dataclass(frozen=True)
class Eligibility:
    """Who may treat whom, and every per-patient, per-staff and per-group limit of the period.

    - `staff_for[(patient, session_type)]`: staff who may deliver it to that patient, the
      patient's primary clinician first: credentials (STF-CREDENTIAL), the patient's needs
      (STF-NEEDS) and the treatment phase (LOC-PHASE-SESSION) applied. A missing key means
      nobody may; `blocked[(patient, session_type)]` then says why, in words.
    - `qualified[session_type]`: staff whose role and credentials qualify, patient aside.
    - `max_per_day[session_type]`: per patient per local day (OPS-ONE-INDIVIDUAL).
    - `patients`, `staff`, `groups`: per-person and per-group limits (see those classes).
    - `unit_budgets`: payer units left (AUTH-03); `keep_apart`: pairs never together.
    - `min_minutes[session_type]`: the shortest a session of that type may be (COD-IOP-DAY).
    """

    period: tuple[date, date]
    staff_for: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    qualified: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    blocked: Mapping[tuple[str, str], str] = field(default_factory=dict)
    max_per_day: Mapping[str, int] = field(default_factory=dict)
    patients: Mapping[str, PatientRules] = field(default_factory=dict)
    staff: Mapping[str, StaffRules] = field(default_factory=dict)
    unit_budgets: tuple[UnitBudget, ...] = ()
    keep_apart: frozenset[frozenset[str]] = frozenset()
    groups: Mapping[str, GroupRules] = field(default_factory=dict)
    min_minutes: Mapping[str, MinimumLength] = field(default_factory=dict)

    def may_treat(self, staff: str, patient: str, session_type: str) -> bool:
        return staff in self.staff_for.get((patient, session_type), ())

    def budgets_for(self, patient: str) -> tuple[UnitBudget, ...]:
        return tuple(b for b in self.unit_budgets if b.patient == patient)
