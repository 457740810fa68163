"""The single writer of appointments: book, cancel, move, set status.

Every change runs in one transaction that re-checks the facility's hours, people's availability,
rooms and conflicts at commit time (clinic.placement), asks the policy hook (the rules layer plugs in here), writes
the appointment and one audit event. The database is the backstop: on PostgreSQL exclusion
constraints, on SQLite triggers inside `BEGIN IMMEDIATE`, so two racing bookings cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.changes import (
    AllowAll,
    AppointmentView,
    BookingPolicy,
    BookingRequest,
    MoveRequest,
    PolicyDecision,
    ProposedChange,
    judge,
    new_appointment_id,
    require_known_status,
    view_of,
)
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput, NotFound
from clinic.models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
)
from clinic.placement import Placement, check_outcome_time, place
from clinic.timeutil import now_utc

# The plain data is defined in clinic.changes; callers import it from here too.
__all__ = [
    "AllowAll",
    "AppointmentView",
    "BookingPolicy",
    "BookingRequest",
    "BookingService",
    "MoveRequest",
    "PolicyDecision",
    "ProposedChange",
    "new_appointment_id",
    "require_known_status",
    "view_of",
]

# --- the service -------------------------------------------------------------------------------

TERMINAL = frozenset(TERMINAL_STATUSES)
OPEN_OUTCOMES = frozenset({"proposed", "booked", "checked_in"})
"""A participant's outcomes that are not final: the session's status still speaks for them."""
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
        patients: list[str] | None = None,
        reason: str,
        override_reason: str | None = None,
    ) -> AppointmentView:
        if not reason or not reason.strip():
            raise InvalidInput("a move needs a reason (e.g. --reason 'clinician out sick')")
        with self._transaction() as session:
            return self._move_one(
                session,
                actor,
                MoveRequest(appointment_id, start, staff, room, minutes, patients),
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
            patients=move.patients if move.patients is not None else before.patients,
            room=room if room is not None else (None if staff or start else before.room),
            minutes=length,
            group=appointment.group_id,
        )
        # Keep the room when it still fits; otherwise let placement pick one.
        if room is None and before.room is not None:
            request = replace(request, room=before.room)
            try:
                placement = place(session, request, exclude_id=appointment.id)
            except BookingConflict:
                placement = place(session, replace(request, room=None), exclude_id=appointment.id)
        else:
            placement = place(session, request, exclude_id=appointment.id)
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
            check_outcome_time(appointment_id, status, appointment.start, now)
            active = status in ACTIVE_STATUSES
            if active and not appointment.active:
                raise InvalidInput(f"appointment {appointment_id} was cancelled; book a new one")
            appointment.status = status
            appointment.active = active
            for staff_link in appointment.staff_links:
                staff_link.active = active
            for link in appointment.patient_links:
                # A member who already has an outcome of their own keeps it (the group's
                # no-show stays one when the session is marked attended).
                if link.status in OPEN_OUTCOMES or len(appointment.patient_links) == 1:
                    link.status = status
                link.active = active and link.status in ACTIVE_STATUSES
            appointment.updated_at, appointment.updated_by = now, actor
            appointment.change_reason = reason
            action = "cancel" if status in {"cancelled", "late_cancelled"} else "set_status"
            return self._settle(
                session, action, actor, appointment, before, reason, override_reason, now
            )

    def set_participant_status(
        self,
        actor: str,
        appointment_id: str,
        patient: str,
        status: str,
        *,
        reason: str | None = None,
        override_reason: str | None = None,
    ) -> AppointmentView:
        """Record one participant's outcome. For a one-patient session that is the session's
        status (set_status); in a group only that member changes, and the rules judge the
        session as that member lived it. A member's late cancel frees their time, not the
        group's. When no member is left open the session itself takes the outcome."""
        require_known_status(status)
        if status in {"cancelled", "late_cancelled"} and not (reason or "").strip():
            raise InvalidInput("a cancellation needs a reason (e.g. --reason 'patient ill')")
        with self._transaction() as session:
            appointment = self._get(session, appointment_id)
            link = next((x for x in appointment.patient_links if x.patient_id == patient), None)
            if link is None:
                raise InvalidInput(
                    f"patient: {patient!r} is not in appointment {appointment_id} "
                    f"(its patients: {', '.join(appointment.patient_ids) or 'none'})"
                )
        if len(appointment.patient_ids) == 1:
            return self.set_status(
                actor, appointment_id, status, reason=reason, override_reason=override_reason
            )
        with self._transaction() as session:
            appointment = self._get(session, appointment_id)
            link = next(x for x in appointment.patient_links if x.patient_id == patient)
            before = view_of(appointment)
            allowed = TRANSITIONS.get(link.status, set())
            if status not in allowed:
                raise InvalidInput(
                    f"{patient} is {link.status} in appointment {appointment_id}; they cannot "
                    f"become {status}"
                    + (f" (they can become: {', '.join(sorted(allowed))})" if allowed else "")
                )
            if not appointment.active:
                raise InvalidInput(f"appointment {appointment_id} was cancelled; book a new one")
            now = self.clock()
            check_outcome_time(appointment_id, status, appointment.start, now)
            link.status = status
            link.active = status in ACTIVE_STATUSES
            self._close_when_all_marked(appointment)
            appointment.updated_at, appointment.updated_by = now, actor
            appointment.change_reason = reason
            action = "cancel" if status in {"cancelled", "late_cancelled"} else "set_status"
            return self._settle(
                session,
                action,
                actor,
                appointment,
                before,
                reason,
                override_reason,
                now,
                patient=patient,
            )

    @staticmethod
    def _close_when_all_marked(appointment: Appointment) -> None:
        """A group whose every member has an outcome is over: the session is attended when
        anyone attended, else a no-show when anyone was one, else cancelled like its members
        (and then it frees the room and the staff's time)."""
        outcomes = [link.status for link in appointment.patient_links]
        if any(o in OPEN_OUTCOMES for o in outcomes):
            return
        for status in ("attended", "no_show", "late_cancelled", "cancelled"):
            if status in outcomes:
                appointment.status = status
                break
        appointment.active = appointment.status in ACTIVE_STATUSES
        for staff_link in appointment.staff_links:
            staff_link.active = appointment.active

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
        placement = place(session, request, exclude_id=None)
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
        *,
        patient: str | None = None,
    ) -> AppointmentView:
        """The end of every change: the rules judge it, the database guards fire, and one audit
        event records who, what, why and the decision. With `patient`, the change is that one
        participant's: the rules judge the session as they lived it."""
        after = view_of(appointment)
        judged, was = after, before
        if patient is not None and before is not None:
            judged, was = after.for_patient(patient), before.for_patient(patient)
        change = ProposedChange(action, actor, judged, was, reason, override_reason)
        # Flushed first: the rules' first query would autoflush, and a booking that another
        # server committed a moment ago would then escape as an internal error (a 500), not
        # as the conflict below.
        self._flush(session)
        decision = judge(self.policy, session, change)
        self._flush(session)
        append_event(
            session,
            actor=actor,
            action=f"appointment.{action}" + (".participant" if patient else ""),
            entity_type="appointment",
            entity_id=appointment.id,
            before=before.as_record() if before else None,
            after=after.as_record(),
            reason=reason,
            decision=decision.as_record(),
            at=at,
        )
        return after

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
        self, session: Session, appointment: Appointment, placement: Placement
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
        # A member who keeps their place keeps their own outcome (a late cancel stays one, and
        # their time stays free) when the session moves.
        kept = {link.patient_id: link.status for link in appointment.patient_links}
        appointment.patient_links = [
            AppointmentPatient(
                patient_id=p.id,
                start=placement.start,
                end=placement.end,
                active=kept.get(p.id, "booked") in ACTIVE_STATUSES,
                status=kept.get(p.id, appointment.status or "booked"),
                position=i,
            )
            for i, p in enumerate(placement.patients)
        ]
        session.flush() if appointment in session else None
