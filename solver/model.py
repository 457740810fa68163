"""The solver's vocabulary: plain dataclasses in, plain dataclasses out.

Time is an integer number of minutes since `Problem.origin` (an aware instant, normally local
midnight of the first day of the period). Every window is half-open: [start, end). Whoever builds
a Problem (assistant.problem_builder, or a test) converts the outside world into these shapes;
nothing here knows about databases, rules engines or time zones.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

Window = tuple[int, int]
"""[start, end) in minutes since Problem.origin."""

REQUIREMENT_SOURCES = ("court_order", "level_of_care", "payer", "treatment_plan")


@dataclass(frozen=True)
class Day:
    """One open day of the period. `week` indexes `Problem.weeks` (ISO weeks)."""

    index: int
    date: date
    weekday: str
    week: int
    open: Window


@dataclass(frozen=True)
class StaffInfo:
    id: str
    role: str
    credentials: frozenset[str] = frozenset()
    specializations: frozenset[str] = frozenset()
    available: tuple[Window, ...] = ()
    """Working windows with unavailability already removed."""
    max_minutes_per_week: int | None = None
    minutes_elsewhere: tuple[int, ...] = ()
    """Minutes held at other sites of a network in each of `Problem.weeks` (empty: none):
    the weekly cap counts them, since it is the person's, not one site's."""

    def week_minutes_elsewhere(self, week: int) -> int:
        return self.minutes_elsewhere[week] if week < len(self.minutes_elsewhere) else 0


@dataclass(frozen=True)
class RoomInfo:
    id: str
    kind: str
    capacity: int
    available: tuple[Window, ...] = ()
    """Open windows with closures already removed."""
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientInfo:
    id: str
    acuity: int = 3
    """1..5; 5 = highest clinical priority."""
    available: tuple[Window, ...] | None = None
    """None: whenever the facility is open."""
    primary_staff: str | None = None
    preferred_staff: str | None = None
    preferred_windows: tuple[Window, ...] = ()
    """Parts of day the patient prefers, expanded over the period; empty = no preference."""
    avoid_days: frozenset[int] = frozenset()
    """Day indexes the patient would rather not come in."""
    family_windows: tuple[Window, ...] | None = None
    """When the family can attend; family sessions must fit inside (None: no family constraint)."""
    seen_by: tuple[str, ...] = ()
    """Clinicians who saw the patient recently, most recent first (continuity)."""


@dataclass(frozen=True)
class SessionKind:
    id: str
    minutes: int
    room_kinds: tuple[str, ...] = ("individual",)
    """Acceptable room kinds, best first; empty = no room needed."""
    room_features: tuple[str, ...] = ()
    """Features the room must have (e.g. 'accessible')."""
    max_patients: int = 1
    group: bool = False
    family: bool = False
    family_size: int = 2
    """People the family brings (counted against room capacity)."""


@dataclass(frozen=True)
class WeeklyMinimum:
    """A weekly minimum: `per_week` sessions of `session_type` for `patient`."""

    patient: str
    session_type: str
    per_week: int
    source: str = "treatment_plan"


@dataclass(frozen=True)
class UnitBudget:
    """A payer authorization: at most `remaining` more sessions of these types inside `window`
    (AUTH-UNITS; none outside it, AUTH-DATE-SPAN), and at most `per_week` in any ISO week
    (AUTH-WEEK-CAP), counting what is already booked that week."""

    patient: str
    session_types: frozenset[str]
    window: Window
    remaining: int
    label: str = ""
    per_week: int | None = None


@dataclass(frozen=True)
class PatientLimit:
    """At most `most` sessions (or, with `minutes`, minutes) of `session_types` for `patient` in
    one local day or one ISO week, counting what is already booked. `rule` names the rule it
    comes from (OPS-ONE-INDIVIDUAL, OPS-DAILY-PSYCHOTHERAPY-CAP, LOC-ABOVE-BAND, ...)."""

    patient: str
    session_types: frozenset[str]
    per: str
    """'day' or 'week'."""
    most: int
    minutes: bool = False
    rule: str = ""
    what: str = ""
    """What is limited, in words ("individual psychotherapy"), for the reasons a person reads."""

    def words(self) -> str:
        unit = "minutes of " if self.minutes else ""
        what = self.what or ", ".join(sorted(self.session_types))
        return f"at most {self.most} {unit}{what} a {self.per} ({self.rule})".replace(" ()", "")


@dataclass(frozen=True)
class SameDayApart:
    """`patient` may not have a session of `first` and one of `second` with the same clinician on
    one local day (OPS-EVAL-EM-SAME-DAY: a diagnostic evaluation and an E/M visit by one
    prescriber are not billable together). `what` says it for a person."""

    patient: str
    first: frozenset[str]
    second: frozenset[str]
    rule: str
    what: str = ""

    def words(self) -> str:
        return f"no {self.what} with the same clinician on one day ({self.rule})"


@dataclass(frozen=True)
class MinimumLength:
    """A session of `session_type` lasts at least `minutes` (COD-IOP-DAY: an IOP day billed as
    H0015 is at least 3 hours); a shorter one is never placed."""

    session_type: str
    minutes: int
    rule: str
    what: str = ""

    def words(self) -> str:
        return f"{self.what or self.session_type}: at least {self.minutes} minutes ({self.rule})"


@dataclass(frozen=True)
class RuleWindows:
    """When a person may take part in sessions by a rule, on top of their own hours (an intern's
    supervisor on site, STF-INTERN-ONSITE; a patient's court commitments, CRT-COMMITMENT)."""

    allowed: tuple[Window, ...]
    rule: str
    cofacilitated: bool = False
    """True: the limit is lifted when someone else in the session qualifies for it and is under
    no such limit (a licensed co-facilitator)."""


@dataclass(frozen=True)
class Hold:
    """Clinician time held back for emergency admissions (OPS-EMERGENCY-HOLD): an ordinary
    request is not offered `staff` inside `window` while the hold stands; the emergency flow
    searches without holds, so it may take the time. Whoever builds the holds decides which
    still stand at a given moment (they are released some hours before they start)."""

    staff: str
    window: Window
    until: str
    """When the hold is released, in words a person reads ("06:00 today")."""
    rule: str = "OPS-EMERGENCY-HOLD"

    def words(self) -> str:
        return f"time held for emergency admissions until {self.until} ({self.rule})"


SAME_TYPE_PER_DAY = 1
"""A plan's own convention (not a rule): a patient has at most one session of each non-group
type a day; the rules' limits come on top."""


@dataclass
class PlanRules:
    """What the rules allow, in plain data: the rules layer's `constraints_for`, converted by
    assistant.problem_builder.derive_eligibility (the one mapping; tests prove it complete).

    - `staff_for[(patient, session_type)]`: who may provide it, best fit first. A missing key
      means nobody may; `blocked[(patient, session_type)]` then says why.
    - `qualified[session_type]`: who may provide it, patient aside (group facilitators, covers).
    - `requirements`: weekly minimums (level of care, treatment plan, court order, payer).
    - `limits`: per-patient caps per day or ISO week (sessions or minutes), each naming its rule.
    - `windows[person]`: rule-imposed windows for a patient or a staff member; absent = none.
    - `keep_apart`: pairs of people (staff or patients) who must never share a session.
    - `budgets`: payer unit budgets.
    - `group_max[group]`: most patients a meeting may hold (GRP-MAX-SIZE, GRP-CAPACITY).
    - `apart_same_day`: pairs of session types a patient may not have with the same clinician on
      one day (OPS-EVAL-EM-SAME-DAY).
    - `min_minutes[session_type]`: the shortest a session of that type may be (COD-IOP-DAY).
    """

    staff_for: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    qualified: dict[str, tuple[str, ...]] = field(default_factory=dict)
    requirements: list[WeeklyMinimum] = field(default_factory=list)
    limits: list[PatientLimit] = field(default_factory=list)
    windows: dict[str, RuleWindows] = field(default_factory=dict)
    keep_apart: frozenset[frozenset[str]] = frozenset()
    budgets: list[UnitBudget] = field(default_factory=list)
    blocked: dict[tuple[str, str], str] = field(default_factory=dict)
    group_max: dict[str, int] = field(default_factory=dict)
    apart_same_day: list[SameDayApart] = field(default_factory=list)
    min_minutes: dict[str, MinimumLength] = field(default_factory=dict)

    def may_attend(self, patient: str, session_type: str) -> bool:
        """Nothing about the patient rules the session type out (phase, payer coverage)."""
        return (patient, session_type) not in self.blocked

    def apart(self, people: set[str] | frozenset[str]) -> bool:
        """True when two of `people` must be kept apart."""
        return any(pair <= people for pair in self.keep_apart)


@dataclass(frozen=True)
class GroupSpec:
    id: str
    session_type: str
    facilitators: tuple[str, ...]
    members: tuple[str, ...]
    sessions_per_week: int
    capacity: int | None = None
    min_days_apart: int = 0
    """Days between two meetings; 0 allows several meetings on the same day (the contract's
    default: IOP and PHP days hold several groups)."""
    room: str | None = None
    available: tuple[Window, ...] | None = None
    fixed_starts: tuple[tuple[int, str | None], ...] = ()
    """A standing schedule: (start, room) of each meeting in the period; when given, the
    group meets only then (if everyone is free), otherwise the optimizer chooses times."""


@dataclass(frozen=True)
class Placement:
    """A session in time: booked (kept), proposed by the solver, or moved by a repair."""

    id: str
    session_type: str
    start: int
    minutes: int
    staff: tuple[str, ...]
    patients: tuple[str, ...]
    room: str | None = None
    group: str | None = None
    pinned: bool = False
    court: bool = False
    """Required by a court order: never moved when another choice exists."""

    @property
    def end(self) -> int:
        return self.start + self.minutes

    @property
    def people(self) -> frozenset[str]:
        return frozenset(self.staff) | frozenset(self.patients)


@dataclass(frozen=True)
class Weights:
    """Objective weights (documented in solver/README.md). Placement is optimized first
    (lexicographic phase 1); the rest are traded off in phase 2 with the placement kept.

    Phase 1: each placed required session earns `place` x its priority, where priority is
    `acuity_step` per acuity point above 1 plus `court_bonus` for court-ordered sessions.
    Phase 2 penalties (per session unless stated): `no_continuity` when not the patient's
    primary/recent clinician, `not_preferred_staff`, `outside_preferred_time`, `avoided_day`,
    `same_day_as_other` (spreading), `staff_day_block` per separate block of work in a
    clinician's day (compactness), `over_fair_share` per hour above a clinician's fair share.
    """

    place: int = 100
    acuity_step: int = 10
    court_bonus: int = 50
    no_continuity: int = 20
    not_preferred_staff: int = 8
    outside_preferred_time: int = 6
    avoided_day: int = 10
    same_day_as_other: int = 6
    staff_day_block: int = 3
    over_fair_share: int = 2
    room_kind_rank: int = 1


@dataclass(frozen=True)
class Problem:
    origin: datetime
    slot_minutes: int
    days: tuple[Day, ...]
    staff: tuple[StaffInfo, ...]
    rooms: tuple[RoomInfo, ...]
    patients: tuple[PatientInfo, ...]
    session_types: dict[str, SessionKind]
    eligibility: PlanRules
    groups: tuple[GroupSpec, ...] = ()
    booked: tuple[Placement, ...] = ()
    weights: Weights = Weights()
    weeks: tuple[Window, ...] = ()
    """ISO weeks (local Monday 00:00 to the next) around the period; `Day.week` indexes them.
    Empty: 7-day blocks from the origin."""
    holds: tuple[Hold, ...] = ()
    """Clinician time held for emergency admissions (OPS-EMERGENCY-HOLD): every placer that
    asks `Feasibility.refusal` leaves it alone."""

    def staff_by_id(self) -> dict[str, StaffInfo]:
        return {s.id: s for s in self.staff}

    def rooms_by_id(self) -> dict[str, RoomInfo]:
        return {r.id: r for r in self.rooms}

    def patients_by_id(self) -> dict[str, PatientInfo]:
        return {p.id: p for p in self.patients}

    def week_of(self, minute: int) -> int | None:
        """The week a minute falls in (also outside the open days), None outside every week."""
        if not self.weeks:
            return minute // (7 * 24 * 60)
        for index, (start, end) in enumerate(self.weeks):
            if start <= minute < end:
                return index
        return None

    def day_of(self, minute: int) -> Day | None:
        starts = self._day_starts
        if starts is None:
            return next((d for d in self.days if d.open[0] <= minute < d.open[1]), None)
        i = bisect_right(starts, minute) - 1  # asked ~400,000 times in a tight-m plan
        return self.days[i] if i >= 0 and minute < self.days[i].open[1] else None

    @cached_property
    def _day_starts(self) -> list[int] | None:
        """The days' opening minutes when they are in order without overlap (a binary search
        then finds a minute's day), else None."""
        starts = [d.open[0] for d in self.days]
        ordered = all(
            a.open[1] <= b.open[0] for a, b in zip(self.days, self.days[1:], strict=False)
        )
        return starts if ordered else None

    @property
    def horizon(self) -> Window:
        return (self.days[0].open[0], self.days[-1].open[1]) if self.days else (0, 0)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unmet:
    session_type: str
    missing: int
    reason: str
    patient: str | None = None
    group: str | None = None
    week: int = 0


@dataclass
class SolveStats:
    status: str
    """OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN or MODEL_INVALID (CP-SAT's names)."""
    seconds: float
    workers: int = 1
    objective: float | None = None
    bound: float | None = None
    first_solution_seconds: float | None = None
    placement_objective: float | None = None
    placement_bound: float | None = None
    candidates: int = 0

    @property
    def gap(self) -> float | None:
        """Relative gap of the phase-2 objective (a cost, minimized) to its bound, in percent."""
        return _gap(self.objective, self.bound)

    @property
    def placement_gap(self) -> float | None:
        """Relative gap of the placement objective (maximized) to CP-SAT's bound, in percent."""
        return _gap(self.placement_objective, self.placement_bound)


def _gap(value: float | None, bound: float | None) -> float | None:
    if value is None or bound is None:
        return None
    scale = max(abs(value), abs(bound), 1e-9)
    return round(100.0 * abs(bound - value) / scale, 3)


@dataclass
class PlanResult:
    appointments: list[Placement]
    """The whole schedule of the period: kept bookings first, then the new ones."""
    new: list[Placement]
    unmet: list[Unmet]
    required: int
    placed: int
    stats: SolveStats
    staff_utilization: float = 0.0
    room_utilization: float = 0.0


@dataclass(frozen=True)
class SlotRequest:
    patients: tuple[str, ...]
    session_type: str
    window: Window
    staff: str | None = None
    room: str | None = None
    minutes: int | None = None
    group: str | None = None
    """Set when the request is for a standing group (staff = its facilitators)."""


@dataclass(frozen=True)
class SlotOption:
    start: int
    end: int
    staff: tuple[str, ...]
    room: str | None
    score: float
    why: dict[str, float]
    """Score terms (each a signed contribution) that explain the rank."""


@dataclass
class SlotAnswer:
    options: list[SlotOption]
    reason: str | None = None
    """Why there are fewer than k options (None when k were found)."""
    nearest: list[SlotOption] = field(default_factory=list)
    """When the window holds nothing: the nearest options just outside it."""


@dataclass(frozen=True)
class Disruption:
    """What changed: a clinician out, a room closed, or both, over `window`."""

    window: Window
    staff: str | None = None
    room: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Move:
    before: Placement
    after: Placement
    changes: tuple[str, ...]
    """What changed: 'staff', 'room', 'time', 'day'."""
    cost: int
    reason: str


@dataclass(frozen=True)
class Unplaced:
    appointment: Placement
    reason: str


@dataclass
class RepairResult:
    moves: list[Move]
    unplaced: list[Unplaced]
    kept: int
    """Appointments outside the disruption, all left exactly as they were."""
    stats: SolveStats


@dataclass(frozen=True)
class Bump:
    """For an emergency: an appointment that could be moved to make room, and where to."""

    appointment: Placement
    moved_to: Placement | None
    cost: int


@dataclass
class EmergencyAnswer:
    free: list[SlotOption]
    """Earliest options that need no other change."""
    with_bumps: list[tuple[SlotOption, list[Bump], int]]
    """Earlier options that need lower-priority appointments moved: (option, bumps, total cost)."""
    reason: str | None = None
