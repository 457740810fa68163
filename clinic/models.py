"""The domain, as SQLAlchemy 2 typed ORM models. Times are stored in UTC (see `UTCDateTime`).

Nested, rarely-queried shapes (weekly templates, preferences, contact, family contacts, group
schedules) are JSON columns holding exactly the facility file's shape; everything the booking
service, the rules or the solver query on has its own table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Appointment statuses, one definition each (every layer imports these).
SCHEDULED_STATUSES = ("proposed", "booked", "checked_in")
"""Booked but not yet held: the session is still to come (AUTH-03 'scheduled')."""
ACTIVE_STATUSES = (*SCHEDULED_STATUSES, "attended", "no_show")
"""Statuses that hold the time: cancelled and late-cancelled appointments free it."""
OUTCOME_STATUSES = ("attended", "no_show", "late_cancelled")
"""What happened to a session whose time came: attendance rates and payer units count these."""
TERMINAL_STATUSES = ("attended", "no_show", "cancelled", "late_cancelled")
"""Final: an appointment in one of these can no longer be moved or change status."""
APPOINTMENT_STATUSES = (*ACTIVE_STATUSES, "cancelled", "late_cancelled")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out. SQLite keeps no offset, so values are
    converted to UTC before they are written (naive input is a programming error)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; convert to UTC first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Facility(Base):
    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    open_days: Mapped[list[str]] = mapped_column(JSON)
    open: Mapped[str] = mapped_column(String(5))
    close: Mapped[str] = mapped_column(String(5))
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)
    calendar_patient_initials: Mapped[bool] = mapped_column(Boolean, default=False)
    """Calendar feeds may show patients' initials (the file's `calendar_patient_initials`)."""


class Room(Base):
    __tablename__ = "room"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[str] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)  # keeps the file's order on export

    closures: Mapped[list[RoomUnavailability]] = relationship(
        back_populates="room", cascade="all, delete-orphan", order_by="RoomUnavailability.id"
    )


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    credentials: Mapped[list[str] | None] = mapped_column(JSON)
    specializations: Mapped[list[str] | None] = mapped_column(JSON)
    supervisor_id: Mapped[str | None] = mapped_column(String(64))
    max_minutes_per_week: Mapped[int | None] = mapped_column(Integer)
    availability: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    slack_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    unavailability: Mapped[list[StaffUnavailability]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="StaffUnavailability.id"
    )


class StaffUnavailability(Base):
    __tablename__ = "staff_unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(500))

    staff: Mapped[Staff] = relationship(back_populates="unavailability")


class RoomUnavailability(Base):
    __tablename__ = "room_unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(500))

    room: Mapped[Room] = relationship(back_populates="closures")


class SessionType(Base):
    __tablename__ = "session_type"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    cpt: Mapped[str | None] = mapped_column(String(32))
    room_kinds: Mapped[list[str] | None] = mapped_column(JSON)
    room_features: Mapped[list[str] | None] = mapped_column(JSON)
    staff_roles: Mapped[list[str] | None] = mapped_column(JSON)
    credentials_any: Mapped[list[str] | None] = mapped_column(JSON)
    min_patients: Mapped[int] = mapped_column(Integer, default=1)
    max_patients: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    dob: Mapped[date | None] = mapped_column(Date)
    mrn: Mapped[str | None] = mapped_column(String(64), index=True)
    level_of_care: Mapped[str | None] = mapped_column(String(8))
    phase: Mapped[str | None] = mapped_column(String(32))
    admitted: Mapped[date | None] = mapped_column(Date)
    acuity: Mapped[int | None] = mapped_column(Integer)
    needs: Mapped[list[str] | None] = mapped_column(JSON)
    sex: Mapped[str | None] = mapped_column(String(10))
    primary_clinician_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), index=True)
    availability: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    family_contacts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)

    requirements: Mapped[list[PatientRequirement]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="PatientRequirement.id"
    )
    court_order: Mapped[CourtOrder | None] = relationship(
        back_populates="patient", cascade="all, delete-orphan", uselist=False
    )
    authorizations: Mapped[list[Authorization]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Authorization.pk"
    )


class PatientRequirement(Base):
    """A weekly treatment-plan minimum (beyond what the level of care implies)."""

    __tablename__ = "patient_requirement"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    session_type_id: Mapped[str] = mapped_column(ForeignKey("session_type.id"))
    per_week: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(32))

    patient: Mapped[Patient] = relationship(back_populates="requirements")


class CourtOrder(Base):
    __tablename__ = "court_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), unique=True
    )
    case_number: Mapped[str] = mapped_column(String(64))
    court: Mapped[str | None] = mapped_column(String(200))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    liaison_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    report_to: Mapped[str | None] = mapped_column(String(200))

    patient: Mapped[Patient] = relationship(back_populates="court_order")
    requirements: Mapped[list[CourtOrderRequirement]] = relationship(
        back_populates="court_order",
        cascade="all, delete-orphan",
        order_by="CourtOrderRequirement.id",
    )


class CourtOrderRequirement(Base):
    __tablename__ = "court_order_requirement"

    id: Mapped[int] = mapped_column(primary_key=True)
    court_order_id: Mapped[int] = mapped_column(ForeignKey("court_order.id", ondelete="CASCADE"))
    session_type_id: Mapped[str] = mapped_column(ForeignKey("session_type.id"))
    per_week: Mapped[int] = mapped_column(Integer)

    court_order: Mapped[CourtOrder] = relationship(back_populates="requirements")


class Authorization(Base):
    """A payer's prior authorization: `units` sessions of `session_types` between start and end."""

    __tablename__ = "authorization"

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    payer: Mapped[str] = mapped_column(String(200))
    session_types: Mapped[list[str]] = mapped_column(JSON)
    units: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)

    patient: Mapped[Patient] = relationship(back_populates="authorizations")


group_facilitator = Table(
    "group_facilitator",
    Base.metadata,
    Column("group_id", ForeignKey("therapy_group.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

group_member = Table(
    "group_member",
    Base.metadata,
    Column("group_id", ForeignKey("therapy_group.id", ondelete="CASCADE"), primary_key=True),
    Column("patient_id", ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)


class Group(Base):
    __tablename__ = "therapy_group"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    session_type_id: Mapped[str] = mapped_column(ForeignKey("session_type.id"))
    capacity: Mapped[int | None] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    sessions_per_week: Mapped[int | None] = mapped_column(Integer)
    min_days_apart: Mapped[int] = mapped_column(Integer, default=0)
    schedule: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    room_id: Mapped[str | None] = mapped_column(ForeignKey("room.id"))
    availability: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)

    facilitators: Mapped[list[Staff]] = relationship(
        secondary=group_facilitator, order_by=group_facilitator.c.position
    )
    members: Mapped[list[Patient]] = relationship(
        secondary=group_member, order_by=group_member.c.position
    )


class Appointment(Base):
    """One session: its people are in `staff_links` and `patient_links`, which repeat the
    time range and an `active` flag so the database itself can forbid overlaps per person."""

    __tablename__ = "appointment"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_type_id: Mapped[str] = mapped_column(ForeignKey("session_type.id"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    room_id: Mapped[str | None] = mapped_column(ForeignKey("room.id"))
    group_id: Mapped[str | None] = mapped_column(ForeignKey("therapy_group.id"))
    status: Mapped[str] = mapped_column(String(20), default="booked")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))
    change_reason: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    staff_links: Mapped[list[AppointmentStaff]] = relationship(
        back_populates="appointment",
        cascade="all, delete-orphan",
        order_by="AppointmentStaff.position",
    )
    patient_links: Mapped[list[AppointmentPatient]] = relationship(
        back_populates="appointment",
        cascade="all, delete-orphan",
        order_by="AppointmentPatient.position",
    )

    __table_args__ = (
        Index("ix_appointment_room_time", "room_id", "start", "end"),
        Index("ix_appointment_start", "start"),
    )

    @property
    def staff_ids(self) -> list[str]:
        return [link.staff_id for link in self.staff_links]

    @property
    def patient_ids(self) -> list[str]:
        return [link.patient_id for link in self.patient_links]

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def outcomes(self) -> dict[str, str]:
        """Participants whose own outcome is not the session's (a group's no-show, say)."""
        return {
            link.patient_id: link.status
            for link in self.patient_links
            if link.status != self.status
        }

    def outcome_of(self, patient_id: str) -> str:
        """What happened to (or is planned for) one participant."""
        return self.outcomes.get(patient_id, self.status)


class AppointmentStaff(Base):
    __tablename__ = "appointment_staff"

    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    appointment: Mapped[Appointment] = relationship(back_populates="staff_links")

    __table_args__ = (Index("ix_appointment_staff_time", "staff_id", "start", "end"),)


class AppointmentPatient(Base):
    __tablename__ = "appointment_patient"

    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="booked", server_default="booked")
    """This participant's own outcome (one of APPOINTMENT_STATUSES). For a one-patient session
    it always follows the appointment's status; in a group one member may be a no-show or
    cancel late while the session goes on (their `active` is then their own too)."""
    position: Mapped[int] = mapped_column(Integer, default=0)

    appointment: Mapped[Appointment] = relationship(back_populates="patient_links")

    __table_args__ = (Index("ix_appointment_patient_time", "patient_id", "start", "end"),)


class FacilityClosure(Base):
    """The whole facility closed for a period (a holiday, a snow day): nothing is booked then.
    The facility file has no holidays, so a closure is the holiday (`clinic.placement` refuses
    any session that overlaps one, with its reason)."""

    __tablename__ = "facility_closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(500))


class Series(Base):
    """A recurring series: one patient with one clinician, weekly on `weekday` at `time`
    (facility-local), `count` sessions or until `until`. Its appointments are ordinary ones,
    linked in order by `SeriesOccurrence`; the pattern here is what "all" and "following"
    changes update."""

    __tablename__ = "series"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    session_type_id: Mapped[str] = mapped_column(ForeignKey("session_type.id"))
    weekday: Mapped[str] = mapped_column(String(3))
    time: Mapped[str] = mapped_column(String(5))
    minutes: Mapped[int | None] = mapped_column(Integer)
    room_id: Mapped[str | None] = mapped_column(ForeignKey("room.id"))
    count: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))

    occurrences: Mapped[list[SeriesOccurrence]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="SeriesOccurrence.position"
    )


class SeriesOccurrence(Base):
    """The series' `position`-th session (1-based) is this appointment (moves keep the id)."""

    __tablename__ = "series_occurrence"

    series_id: Mapped[str] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )

    series: Mapped[Series] = relationship(back_populates="occurrences")


class AuditEvent(Base):
    """Append-only and hash-chained: `hash` covers every field and the previous event's hash."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AccessEvent(Base):
    """One read of one patient's information (HIPAA §164.312(b)): who, through which door, what,
    and whether it was allowed, refused or an emergency access. Append-only (the database rejects
    UPDATE and DELETE); never in the audit log, whose newest event is the facility's version."""

    __tablename__ = "access_event"
    __table_args__ = (Index("ix_access_event_patient_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(64))
    door: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ConversationState(Base):
    """Per-user dialogue state (filled by the assistant); kept here so every door shares it."""

    __tablename__ = "conversation_state"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), index=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token for one staff member; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Proposal(Base):
    """A change waiting for someone's approval (a sick call's repair plan), and its outcome."""

    __tablename__ = "proposal"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|applied|rejected
    created_by: Mapped[str] = mapped_column(String(100))
    subject_staff_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
