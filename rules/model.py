"""The situation a rule decision is about, as plain frozen dataclasses.

`evaluate` takes these (not ORM objects) so it is fast and testable: tests build them by hand,
`rules.facts` builds them from the database. Everything is already resolved: ids, aware UTC
datetimes, facility-local dates. Derived numbers (units left, weekly hours, ...) are not stored
here; `rules.derive` computes them from this data for every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from clinic.timeutil import Weekly


@dataclass(frozen=True, slots=True)
class StaffFacts:
    id: str
    role: str
    credentials: frozenset[str] = frozenset()
    specializations: frozenset[str] = frozenset()
    supervisor: str | None = None
    supervised_hours: int | None = None
    """Interns only: supervised hours so far (facility rules data); None = unknown, treated as 0."""
    extra_roles: frozenset[str] = frozenset()
    """Roles the facility file cannot express (e.g. `director`), from the rules data file."""
    availability: Weekly | None = None
    unavailable: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def roles(self) -> frozenset[str]:
        return frozenset({self.role}) | self.extra_roles


@dataclass(frozen=True, slots=True)
class AuthorizationFacts:
    id: str
    payer: str
    session_types: frozenset[str]
    units: int
    used: int
    start: date
    end: date
    max_units_per_week: int | None = None


@dataclass(frozen=True, slots=True)
class CourtOrderFacts:
    start: date
    end: date
    requirements: Mapping[str, int]
    """Session type id -> sessions required per ISO week."""
    liaison: str | None = None
    report_to: str | None = None


@dataclass(frozen=True, slots=True)
class Commitment:
    """A time the patient is elsewhere (court hearing, probation meeting, work shift)."""

    start: datetime
    end: datetime
    what: str


@dataclass(frozen=True, slots=True)
class PatientFacts:
    id: str
    age: int | None = None
    level_of_care: str | None = None
    phase: str | None = None
    admitted: date | None = None
    needs: frozenset[str] = frozenset()
    primary_clinician: str | None = None
    availability: Weekly | None = None
    authorizations: tuple[AuthorizationFacts, ...] = ()
    court_order: CourtOrderFacts | None = None
    consents: frozenset[str] = frozenset()
    """Part 2 consent recipients (lower-case): 'family', 'court', 'probation', a name, ..."""
    consent_reminders: bool = False
    groups: frozenset[str] = frozenset()
    requirements: tuple[tuple[str, int, str], ...] = ()
    """Treatment-plan weekly minimums: (session type, per week, source)."""
    commitments: tuple[Commitment, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionTypeFacts:
    id: str
    minutes: int
    cpt: str | None = None
    staff_roles: frozenset[str] = frozenset()
    credentials_any: frozenset[str] = frozenset()
    min_patients: int = 1
    max_patients: int = 1


@dataclass(frozen=True, slots=True)
class GroupFacts:
    id: str
    session_type: str
    members: frozenset[str]
    facilitators: tuple[str, ...] = ()
    capacity: int | None = None
    closed: bool = False
    sessions_held_before: int = 0
    """Meetings of this group before the appointment in question (to know if a cohort started)."""


@dataclass(frozen=True, slots=True)
class AppointmentFacts:
    id: str
    session_type: str
    start: datetime
    end: datetime
    staff: tuple[str, ...]
    patients: tuple[str, ...]
    room: str | None = None
    group: str | None = None
    status: str = "booked"
    outcomes: tuple[tuple[str, str], ...] = ()
    """(patient, status) of participants whose own outcome is not `status` (a group's no-show)."""

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def outcome_of(self, patient: str) -> str:
        return dict(self.outcomes).get(patient, self.status)

    def for_patient(self, patient: str) -> AppointmentFacts:
        """The session as one participant lived it (their own outcome as its status): what a
        patient's history, unit ledger and court count read."""
        if not self.outcomes:
            return self
        return replace(self, status=self.outcome_of(patient), outcomes=())


@dataclass(frozen=True, slots=True)
class Disclosure:
    """Something about a patient is about to leave the scheduler (a message, a report, a prompt)."""

    patient: str | None
    """None when no particular patient is concerned (a de-identified model prompt)."""
    channel: str
    """public_channel, private_channel, shared_channel, dm, email, sms, court_report, llm, ehr."""
    recipient: str
    """workforce, patient, family, court, probation, payer, other_provider, llm_vendor, public."""
    content: str = "schedule"
    """minimal, schedule, attendance, clinical."""
    recipient_staff: str | None = None
    recipient_name: str | None = None
    identifies_patient: bool = True
    vendor_baa: bool = False
    deidentified: bool = False


@dataclass(frozen=True)
class Situation:
    """Everything one decision looks at. `appointment` is the appointment as it would be after
    the change (for a cancel: the appointment being cancelled); `existing` holds the other active
    appointments of the people involved (never the one being changed)."""

    tz: ZoneInfo
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    appointment: AppointmentFacts | None = None
    before: AppointmentFacts | None = None
    patients: Mapping[str, PatientFacts] = field(default_factory=dict)
    staff: Mapping[str, StaffFacts] = field(default_factory=dict)
    session_types: Mapping[str, SessionTypeFacts] = field(default_factory=dict)
    groups: Mapping[str, GroupFacts] = field(default_factory=dict)
    existing: tuple[AppointmentFacts, ...] = ()
    keep_apart: frozenset[frozenset[str]] = frozenset()
    program_capability: str = "DDC"
    """Co-occurring capability of the program (STF-08): AOS, DDC or DDE."""
    new_status: str | None = None
    override_reason: str | None = None
    subject_patient: str | None = None
    """For actions about a patient without an appointment (view, enroll, reports)."""
    subject_group: str | None = None
    disclosure: Disclosure | None = None
    week_of: date | None = None
    """For `review_week`: a day of the ISO week to review (default: today in the facility)."""
