"""The plain data every caller of the booking service sees: requests, the appointment as a view,
the change the policy judges and its decision, and the policy seam itself."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from clinic.errors import InvalidInput, RuleViolation
from clinic.models import APPOINTMENT_STATUSES, Appointment


@dataclass(frozen=True)
class BookingRequest:
    session_type: str
    start: datetime
    staff: list[str]
    patients: list[str]
    room: str | None = None
    minutes: int | None = None  # default: the session type's minutes
    group: str | None = None
    pinned: bool = False
    note: str | None = None
    appointment_id: str | None = None  # generated when None
    status: str = "booked"


@dataclass(frozen=True)
class MoveRequest:
    appointment_id: str
    start: datetime | None = None
    staff: list[str] | None = None
    room: str | None = None
    minutes: int | None = None
    patients: list[str] | None = None
    """Who takes part after the move (a group's member joining or leaving); None keeps them."""


@dataclass(frozen=True)
class AppointmentView:
    id: str
    session_type: str
    start: datetime
    end: datetime
    staff: list[str]
    patients: list[str]
    room: str | None
    group: str | None
    status: str
    pinned: bool
    note: str | None
    outcomes: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    """Participants whose own outcome is not `status` (a group member's no-show, say)."""

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def outcome_of(self, patient: str) -> str:
        """What happened to (or is planned for) one participant."""
        return self.outcomes.get(patient, self.status)

    def for_patient(self, patient: str) -> AppointmentView:
        """The session as one participant lived it: theirs alone, with their own outcome (what
        the rules judge when one member's attendance is recorded)."""
        return replace(self, patients=[patient], status=self.outcome_of(patient), outcomes={})

    def as_record(self) -> dict[str, Any]:
        """JSON-ready (UTC ISO times), for audit events and machine output."""
        record = asdict(self)
        record["start"] = self.start.isoformat()
        record["end"] = self.end.isoformat()
        return record


@dataclass(frozen=True)
class ProposedChange:
    """What the policy hook judges: the appointment as it would be after the change."""

    action: str  # "book" | "cancel" | "move" | "set_status"
    actor: str
    appointment: AppointmentView
    before: AppointmentView | None
    reason: str | None
    override_reason: str | None


@dataclass(frozen=True)
class PolicyDecision:
    allowed: bool
    fired: list[dict[str, Any]] = field(default_factory=list)  # {"id", "severity", "message"}
    obligations: list[str] = field(default_factory=list)
    message: str = ""

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


class BookingPolicy(Protocol):
    """The seam where the rules layer plugs in; called inside the booking transaction."""

    def check(self, session: Session, change: ProposedChange) -> PolicyDecision: ...


class AllowAll:
    """The policy until the rules layer is wired in: everything the hard checks let through."""

    def check(self, session: Session, change: ProposedChange) -> PolicyDecision:
        return PolicyDecision(allowed=True)


def judge(policy: BookingPolicy, session: Session, change: ProposedChange) -> PolicyDecision:
    """The policy's decision on a change, or RuleViolation with its words when it refuses."""
    decision = policy.check(session, change)
    if not decision.allowed:
        raise RuleViolation(
            decision.message or "not allowed by the facility's rules", decision=decision
        )
    return decision


def view_of(appointment: Appointment) -> AppointmentView:
    return AppointmentView(
        id=appointment.id,
        session_type=appointment.session_type_id,
        start=appointment.start,
        end=appointment.end,
        staff=appointment.staff_ids,
        patients=appointment.patient_ids,
        room=appointment.room_id,
        group=appointment.group_id,
        status=appointment.status,
        pinned=appointment.pinned,
        note=appointment.note,
        outcomes=appointment.outcomes,
    )


def require_known_status(status: str) -> None:
    if status not in APPOINTMENT_STATUSES:
        raise InvalidInput(
            f"unknown status {status!r}: use one of {', '.join(APPOINTMENT_STATUSES)}"
        )


def new_appointment_id() -> str:
    return f"appt-{uuid.uuid4().hex[:12]}"
