"""The single writer of appointments: book, cancel, move, set status.

Every change runs in one transaction that re-checks the facility's hours, people's availability,
rooms and conflicts at commit time, asks the policy hook (the rules layer plugs in here), writes
the appointment and one audit event. The database is the backstop: on PostgreSQL exclusion
constraints, on SQLite triggers inside `BEGIN IMMEDIATE`, so two racing bookings cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput, NotFound, RuleViolation
from clinic.models import (
    ACTIVE_STATUSES,
    APPOINTMENT_STATUSES,
    TERMINAL_STATUSES,
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    Facility,
    Group,
    Patient,
    Room,
    RoomUnavailability,
    SessionType,
    Staff,
    StaffUnavailability,
)
from clinic.timeutil import local_iso, now_utc, parse_weekly, within_weekly, zone

# --- the plain data every caller sees ----------------------------------------------------------


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

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

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
    )


def require_known_status(status: str) -> None:
    if status not in APPOINTMENT_STATUSES:
        raise InvalidInput(
            f"unknown status {status!r}: use one of {', '.join(APPOINTMENT_STATUSES)}"
        )


def new_appointment_id() -> str:
    return f"appt-{uuid.uuid4().hex[:12]}"


# --- the service -------------------------------------------------------------------------------

TERMINAL = frozenset(TERMINAL_STATUSES)
TRANSITIONS: dict[str, set[str]] = {
    "proposed": {"booked", "cancelled"},
    "booked": {"checked_in", "attended", "no_show", "cancelled", "late_cancelled"},
    "checked_in": {"attended", "no_show", "booked"},
}
_DB_GUARD_WORDS = {
    "staff_overlap": "a clinician",
    "patient_overlap": "a patient",
    "room_overlap": "the room",
}


@dataclass(frozen=True)
class _Placement:
    session_type: SessionType
    start: datetime
    end: datetime
    staff: list[Staff]
    patients: list[Patient]
    room: Room | None
    group: Group | None


class BookingService:
    def __init__(
        self,
        db: Database,
        policy: BookingPolicy | None = None,
        clock: Callable[[], datetime] = now_utc,
        *,
        session: Session | None = None,
    ) -> None:
        """With `session`, every change joins that transaction (a use case's unit of work,
        which commits or rolls back everything at once) instead of opening its own."""
        self.db = db
        self.policy: BookingPolicy = policy or AllowAll()
        self.clock = clock
        self.session = session

    # -- public operations ---------------------------------------------------------------------

    def book(
        self,
        actor: str,
        request: BookingRequest,
        *,
        reason: str | None = None,
        override_reason: str | None = None,
    ) -> AppointmentView:
        return self.book_many(actor, [request], reason=reason, override_reason=override_reason)[0]

    def book_many(
        self,
        actor: str,
        requests: Sequence[BookingRequest],
        *,
        reason: str | None = None,
        override_reason: str | None = None,
    ) -> list[AppointmentView]:
        """All or nothing: the first request that fails rolls every one back."""
        with self._transaction() as session:
            booked = []
            for index, request in enumerate(requests):
                try:
                    booked.append(self._book_one(session, actor, request, reason, override_reason))
                except BookingConflict as exc:
                    if len(requests) == 1:
                        raise
                    raise BookingConflict(f"request {index + 1} of {len(requests)}: {exc}") from exc
            return booked

    def cancel(
        self,
        actor: str,
        appointment_id: str,
        *,
        reason: str,
        late: bool = False,
        override_reason: str | None = None,
    ) -> AppointmentView:
        if not reason or not reason.strip():
            raise InvalidInput("a cancellation needs a reason (e.g. --reason 'patient ill')")
        status = "late_cancelled" if late else "cancelled"
        return self.set_status(
            actor, appointment_id, status, reason=reason, override_reason=override_reason
        )

    def move(
        self,
        actor: str,
        appointment_id: str,
        *,
        start: datetime | None = None,
        staff: list[str] | None = None,
        room: str | None = None,
        minutes: int | None = None,
        reason: str,
        override_reason: str | None = None,
    ) -> AppointmentView:
        if not reason or not reason.strip():
            raise InvalidInput("a move needs a reason (e.g. --reason 'clinician out sick')")
        with self._transaction() as session:
            return self._move_one(
                session,
                actor,
                MoveRequest(appointment_id, start, staff, room, minutes),
                reason,
                override_reason,
            )

    def move_many(
        self,
        actor: str,
        moves: Sequence[MoveRequest],
        *,
        reason: str,
        override_reason: str | None = None,
    ) -> list[AppointmentView]:
        """All or nothing. Moves may depend on each other (one frees what another takes), so
        they are tried in passes inside one transaction until none is left or none fits."""
        if not reason or not reason.strip():
            raise InvalidInput("a move needs a reason")
        with self._transaction() as session:
            done: list[AppointmentView] = []
            pending = list(moves)
            while pending:
                failed: list[tuple[MoveRequest, BookingConflict]] = []
                for move in pending:
                    try:
                        with session.begin_nested():
                            done.append(
                                self._move_one(session, actor, move, reason, override_reason)
                            )
                    except BookingConflict as exc:
                        failed.append((move, exc))
                if len(failed) == len(pending):
                    move, exc = failed[0]
                    raise BookingConflict(
                        f"{len(failed)} move(s) no longer fit the schedule (first: "
                        f"{move.appointment_id}: {exc}); nothing was changed"
                    )
                pending = [move for move, _ in failed]
            return done

    def _move_one(
        self,
        session: Session,
        actor: str,
        move: MoveRequest,
        reason: str,
        override_reason: str | None,
    ) -> AppointmentView:
        appointment_id, start, staff, room, minutes = (
            move.appointment_id,
            move.start,
            move.staff,
            move.room,
            move.minutes,
        )
        appointment = self._get(session, appointment_id)
        if not appointment.active or appointment.status in TERMINAL:
            raise InvalidInput(
                f"appointment {appointment_id} is {appointment.status} and cannot be moved"
            )
        before = view_of(appointment)
        new_start = start or appointment.start
        length = minutes if minutes is not None else before.minutes
        request = BookingRequest(
            session_type=appointment.session_type_id,
            start=new_start,
            staff=staff or before.staff,
            patients=before.patients,
            room=room if room is not None else (None if staff or start else before.room),
            minutes=length,
            group=appointment.group_id,
        )
        # Keep the room when it still fits; otherwise let placement pick one.
        if room is None and before.room is not None:
            request = replace(request, room=before.room)
            try:
                placement = self._place(session, request, exclude_id=appointment.id)
            except BookingConflict:
                placement = self._place(
                    session, replace(request, room=None), exclude_id=appointment.id
                )
        else:
            placement = self._place(session, request, exclude_id=appointment.id)
        self._apply_placement(session, appointment, placement)
        appointment.updated_at, appointment.updated_by = self.clock(), actor
        appointment.change_reason = reason
        return self._settle(
            session,
            "move",
            actor,
            appointment,
            before,
            reason,
            override_reason,
            appointment.updated_at,
        )

    def set_status(
        self,
        actor: str,
        appointment_id: str,
        status: str,
        *,
        reason: str | None = None,
        override_reason: str | None = None,
    ) -> AppointmentView:
        require_known_status(status)
        with self._transaction() as session:
            appointment = self._get(session, appointment_id)
            before = view_of(appointment)
            allowed = TRANSITIONS.get(appointment.status, set())
            if status not in allowed:
                raise InvalidInput(
                    f"appointment {appointment_id} is {appointment.status}; it cannot become "
                    f"{status}"
                    + (f" (it can become: {', '.join(sorted(allowed))})" if allowed else "")
                )
            now = self.clock()
            if status in {"attended", "no_show"} and now < appointment.start:
                raise InvalidInput(
                    f"appointment {appointment_id} has not started yet; it cannot be {status}"
                )
            active = status in ACTIVE_STATUSES
            if active and not appointment.active:
                raise InvalidInput(f"appointment {appointment_id} was cancelled; book a new one")
            appointment.status = status
            appointment.active = active
            for link in (*appointment.staff_links, *appointment.patient_links):
                link.active = active
            appointment.updated_at, appointment.updated_by = now, actor
            appointment.change_reason = reason
            action = "cancel" if status in {"cancelled", "late_cancelled"} else "set_status"
            return self._settle(
                session, action, actor, appointment, before, reason, override_reason, now
            )

    def get(self, appointment_id: str) -> AppointmentView:
        with self._transaction() as session:
            return view_of(self._get(session, appointment_id))

    # -- internals -----------------------------------------------------------------------------

    def _transaction(self) -> Any:
        return nullcontext(self.session) if self.session is not None else self.db.session()

    def _get(self, session: Session, appointment_id: str) -> Appointment:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise NotFound(f"no appointment {appointment_id!r}")
        return appointment

    def _book_one(
        self,
        session: Session,
        actor: str,
        request: BookingRequest,
        reason: str | None,
        override_reason: str | None,
    ) -> AppointmentView:
        if request.status not in ACTIVE_STATUSES:
            raise InvalidInput(f"a new appointment cannot start as {request.status!r}")
        appointment_id = request.appointment_id or new_appointment_id()
        if session.get(Appointment, appointment_id) is not None:
            raise InvalidInput(f"appointment id {appointment_id!r} is already used")
        placement = self._place(session, request, exclude_id=None)
        now = self.clock()
        appointment = Appointment(
            id=appointment_id,
            session_type_id=placement.session_type.id,
            status=request.status,
            active=True,
            pinned=request.pinned,
            note=request.note,
            created_at=now,
            created_by=actor,
            updated_at=now,
            updated_by=actor,
            change_reason=reason,
            start=placement.start,
            end=placement.end,
        )
        self._apply_placement(session, appointment, placement)
        session.add(appointment)
        return self._settle(session, "book", actor, appointment, None, reason, override_reason, now)

    def _settle(
        self,
        session: Session,
        action: str,
        actor: str,
        appointment: Appointment,
        before: AppointmentView | None,
        reason: str | None,
        override_reason: str | None,
        at: datetime,
    ) -> AppointmentView:
        """The end of every change: the rules judge it, the database guards fire, and one audit
        event records who, what, why and the decision."""
        after = view_of(appointment)
        decision = self._judge(session, action, actor, after, before, reason, override_reason)
        self._flush(session)
        append_event(
            session,
            actor=actor,
            action=f"appointment.{action}",
            entity_type="appointment",
            entity_id=appointment.id,
            before=before.as_record() if before else None,
            after=after.as_record(),
            reason=reason,
            decision=decision.as_record(),
            at=at,
        )
        return after

    def _judge(
        self,
        session: Session,
        action: str,
        actor: str,
        after: AppointmentView,
        before: AppointmentView | None,
        reason: str | None,
        override_reason: str | None,
    ) -> PolicyDecision:
        change = ProposedChange(
            action=action,
            actor=actor,
            appointment=after,
            before=before,
            reason=reason,
            override_reason=override_reason,
        )
        decision = self.policy.check(session, change)
        if not decision.allowed:
            raise RuleViolation(
                decision.message or "not allowed by the facility's rules", decision=decision
            )
        return decision

    def _flush(self, session: Session) -> None:
        """Flush now so a database guard fires here, as a conflict a person understands."""
        try:
            session.flush()
        except IntegrityError as exc:
            text = str(exc.orig)
            who = next((w for key, w in _DB_GUARD_WORDS.items() if key in text), None)
            if who is None:
                raise
            raise BookingConflict(
                f"that time was just taken for {who} by another booking; choose another time"
            ) from exc
        except OperationalError as exc:  # SQLite busy past the timeout
            raise BookingConflict("the schedule is busy; try again in a moment") from exc

    def _apply_placement(
        self, session: Session, appointment: Appointment, placement: _Placement
    ) -> None:
        appointment.session_type_id = placement.session_type.id
        appointment.start, appointment.end = placement.start, placement.end
        appointment.room_id = placement.room.id if placement.room else None
        appointment.group_id = placement.group.id if placement.group else None
        appointment.staff_links = [
            AppointmentStaff(
                staff_id=s.id, start=placement.start, end=placement.end, active=True, position=i
            )
            for i, s in enumerate(placement.staff)
        ]
        appointment.patient_links = [
            AppointmentPatient(
                patient_id=p.id, start=placement.start, end=placement.end, active=True, position=i
            )
            for i, p in enumerate(placement.patients)
        ]
        session.flush() if appointment in session else None

    def _place(
        self, session: Session, request: BookingRequest, exclude_id: str | None
    ) -> _Placement:
        """Every hard check, in the order a person would ask; returns the placement or raises."""
        facility = session.scalar(select(Facility).limit(1))
        if facility is None:
            raise InvalidInput("no facility is loaded: run `rota load FILE` or `rota demo --load`")
        tz = zone(facility.timezone)
        session_type = session.get(SessionType, request.session_type)
        if session_type is None:
            known = ", ".join(
                session.scalars(select(SessionType.id).order_by(SessionType.position))
            )
            raise NotFound(f"unknown session type {request.session_type!r} (known: {known})")
        if request.start.tzinfo is None:
            raise InvalidInput("the start time needs a timezone (internal error: naive datetime)")
        minutes = request.minutes if request.minutes is not None else session_type.minutes
        if minutes < 5:
            raise InvalidInput(f"a session lasts at least 5 minutes, not {minutes}")
        start = request.start.astimezone(tz)
        end = start + timedelta(minutes=minutes)
        local = start.astimezone(tz)
        if (local.hour * 60 + local.minute) % facility.slot_minutes or local.second:
            raise InvalidInput(
                f"{local_iso(start, tz)} is not on the facility's {facility.slot_minutes}-minute "
                "grid; pick a start such as :00, :15, :30 or :45"
            )
        if not request.staff:
            raise InvalidInput("an appointment needs at least one staff member")
        staff = [self._load(session, Staff, sid, "staff member") for sid in request.staff]
        patients = [self._load(session, Patient, pid, "patient") for pid in request.patients]
        if len(set(request.staff)) != len(request.staff) or len(set(request.patients)) != len(
            request.patients
        ):
            raise InvalidInput("the same person is listed twice in one appointment")
        group = self._load(session, Group, request.group, "group") if request.group else None
        if not (session_type.min_patients <= len(patients) <= session_type.max_patients):
            raise InvalidInput(
                f"a {session_type.id} session takes {session_type.min_patients}"
                f"–{session_type.max_patients} patients, not {len(patients)}"
            )
        when = f"{local_iso(start, tz)}–{end.astimezone(tz).strftime('%H:%M')}"

        # Facility hours and open days.
        hours = parse_weekly(
            {day: [f"{facility.open}-{facility.close}"] for day in facility.open_days}
        )
        if not within_weekly(hours, start, end, tz):
            raise BookingConflict(
                f"{when} is outside facility hours ({', '.join(facility.open_days)} "
                f"{facility.open}–{facility.close} {tz.key})"
            )
        # Staff: weekly availability, unavailability, existing appointments.
        for member in staff:
            if not within_weekly(parse_weekly(member.availability), start, end, tz):
                raise BookingConflict(f"{member.name} ({member.id}) does not work at {when}")
            away = session.scalar(
                select(StaffUnavailability)
                .where(
                    StaffUnavailability.staff_id == member.id,
                    StaffUnavailability.start < end,
                    StaffUnavailability.end > start,
                )
                .limit(1)
            )
            if away is not None:
                why = f" ({away.reason})" if away.reason else ""
                raise BookingConflict(f"{member.name} ({member.id}) is unavailable at {when}{why}")
            clash = self._clash(
                session,
                AppointmentStaff,
                AppointmentStaff.staff_id,
                member.id,
                start,
                end,
                exclude_id,
            )
            if clash is not None:
                raise BookingConflict(
                    f"{member.name} ({member.id}) already has appointment {clash.id} at "
                    f"{local_iso(clash.start, tz)}"
                )
        for patient in patients:
            clash = self._clash(
                session,
                AppointmentPatient,
                AppointmentPatient.patient_id,
                patient.id,
                start,
                end,
                exclude_id,
            )
            if clash is not None:
                raise BookingConflict(
                    f"patient {patient.id} already has appointment {clash.id} at "
                    f"{local_iso(clash.start, tz)}"
                )
        room = self._choose_room(
            session,
            request.room,
            session_type,
            start,
            end,
            len(staff) + len(patients),
            exclude_id,
            when,
        )
        return _Placement(
            session_type, start.astimezone(end.tzinfo), end, staff, patients, room, group
        )

    def _choose_room(
        self,
        session: Session,
        room_id: str | None,
        session_type: SessionType,
        start: datetime,
        end: datetime,
        people: int,
        exclude_id: str | None,
        when: str,
    ) -> Room | None:
        kinds = session_type.room_kinds or []
        if room_id is not None:
            room = self._load(session, Room, room_id, "room")
            problem = self._room_problem(session, room, kinds, start, end, people, exclude_id)
            if problem:
                raise BookingConflict(f"{room.name} ({room.id}) {problem} at {when}")
            return room
        if not kinds:
            return None
        candidates = session.scalars(
            select(Room).where(Room.kind.in_(kinds)).order_by(Room.position)
        ).all()
        # Prefer the first kind the session type lists (in-person before telehealth).
        candidates = sorted(candidates, key=lambda r: (kinds.index(r.kind), r.position))
        for room in candidates:
            if not self._room_problem(session, room, kinds, start, end, people, exclude_id):
                return room
        raise BookingConflict(f"no {' or '.join(kinds)} room for {people} people is free at {when}")

    def _room_problem(
        self,
        session: Session,
        room: Room,
        kinds: list[str],
        start: datetime,
        end: datetime,
        people: int,
        exclude_id: str | None,
    ) -> str | None:
        if kinds and room.kind not in kinds:
            return f"is a {room.kind} room; this session needs {' or '.join(kinds)}"
        if room.capacity < people:
            return f"holds {room.capacity} people, not {people}"
        closed = session.scalar(
            select(RoomUnavailability)
            .where(
                RoomUnavailability.room_id == room.id,
                RoomUnavailability.start < end,
                RoomUnavailability.end > start,
            )
            .limit(1)
        )
        if closed is not None:
            return "is closed" + (f" ({closed.reason})" if closed.reason else "")
        query = select(Appointment).where(
            Appointment.room_id == room.id,
            Appointment.active,
            Appointment.start < end,
            Appointment.end > start,
        )
        if exclude_id is not None:
            query = query.where(Appointment.id != exclude_id)
        taken = session.scalar(query.limit(1))
        if taken is not None:
            return f"is taken by appointment {taken.id}"
        return None

    @staticmethod
    def _clash(
        session: Session,
        link: Any,
        column: Any,
        key: str,
        start: datetime,
        end: datetime,
        exclude_id: str | None,
    ) -> Appointment | None:
        query = (
            select(Appointment)
            .join(link, link.appointment_id == Appointment.id)
            .where(column == key, link.active, link.start < end, link.end > start)
        )
        if exclude_id is not None:
            query = query.where(Appointment.id != exclude_id)
        return session.scalar(query.limit(1))

    @staticmethod
    def _load(session: Session, model: Any, key: str, what: str) -> Any:
        found = session.get(model, key)
        if found is None:
            raise NotFound(f"no {what} with id {key!r}")
        return found
