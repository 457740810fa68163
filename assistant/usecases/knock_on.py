"""A patient running late, or a session running over: what it does to the rest of that
clinician's and room's day, and the ways to absorb it. Nothing moves until a person picks one.

The effect: every later session of the day that shares a clinician or the room and now
overlaps the delayed one or keeps less than BUFFER_MINUTES between them. The ways:
- "shorten" (a late patient only): the session starts late and ends as booked, so nothing
  moves (the record keeps its booked times);
- "push": the session runs its full length (its record ends N minutes later) and every session it
  runs into moves later by as much as it must, to the facility's start grid, in a chain, all or
  nothing through the booking service (every check and rule runs again; a trial inside a
  savepoint says beforehand whether it fits).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.access import authorize
from assistant.usecases import appointments
from assistant.usecases.appointments import MARK_ATTENDANCE, authorize_for_patients
from assistant.usecases.notices import tell_patients, who_to_tell
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.booking import AppointmentView, MoveRequest
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput, PermissionDenied, RuleViolation
from clinic.models import Appointment, Facility, Proposal
from clinic.queries import appointments_between
from clinic.timeutil import day_bounds, now_utc
from clinic.tokens import Caller

BUFFER_MINUTES = 10
"""Less than this between two sessions of one clinician or room is a lost buffer."""
MAX_DELAY = 240
Kind = Literal["late", "over"]
OPEN = ("booked", "checked_in")


@dataclass(frozen=True)
class Delay:
    appointment_id: str
    minutes: int
    kind: Kind = "late"
    """late: the patient arrives `minutes` late; over: the session ends `minutes` later."""


@dataclass(frozen=True)
class Effect:
    appointment: AppointmentView
    shares: tuple[str, ...]
    """What it shares with the delayed session: staff ids and/or the room id."""
    gap_before: int
    """Minutes between the delayed session's booked end and this one's start."""
    gap_after: int
    """The same after the delay (negative: they overlap by that much)."""


@dataclass(frozen=True)
class Way:
    key: Literal["shorten", "push"]
    moves: tuple[tuple[str, datetime, int], ...]
    """(appointment id, new start, new length in minutes), in order."""
    fits: bool = True
    problem: str | None = None
    """Why it does not fit the schedule (judged as the facility would, whoever asks)."""
    not_yours: str | None = None
    """Why the caller may not make these moves themselves (someone who may can apply it)."""


@dataclass(frozen=True)
class KnockOn:
    appointment: AppointmentView
    delay: Delay
    start: datetime
    end: datetime
    """When the delayed session now runs, at full length."""
    effects: list[Effect] = field(default_factory=list)
    ways: list[Way] = field(default_factory=list)


def _check(cmd: Delay) -> None:
    if cmd.kind not in ("late", "over"):
        raise InvalidInput(f"kind: must be late or over, not {cmd.kind!r}")
    if not 1 <= cmd.minutes <= MAX_DELAY:
        raise InvalidInput(f"minutes: must be between 1 and {MAX_DELAY}, not {cmd.minutes}")


def knock_on(db: Database, caller: Caller, cmd: Delay) -> KnockOn:
    """The effect of the delay and the ways to absorb it (nothing is written)."""
    _check(cmd)
    appointment = appointments.current(db, cmd.appointment_id)
    if appointment.status not in OPEN:
        raise InvalidInput(
            f"appointment {appointment.id} is {appointment.status}; only a booked or "
            "checked-in session can run late or over"
        )
    authorize(db, caller, MARK_ATTENDANCE, appointment=appointment)
    delta = timedelta(minutes=cmd.minutes)
    start = appointment.start + delta if cmd.kind == "late" else appointment.start
    end = appointment.end + delta
    later = _later_the_same_day(db, appointment)
    effects = []
    for row in later:
        gap_after = int((row.start - end).total_seconds() // 60)
        gap_before = int((row.start - appointment.end).total_seconds() // 60)
        if gap_after < min(BUFFER_MINUTES, gap_before):
            effects.append(Effect(row, _shares(appointment, row), gap_before, gap_after))
    result = KnockOn(appointment, cmd, start, end, effects)
    if cmd.kind == "late" and appointment.minutes - cmd.minutes >= 5:
        result.ways.append(Way("shorten", ()))
    grid = timedelta(minutes=_grid(db))
    result.ways.append(_trial(db, caller, _push(appointment, end, later, grid)))
    return result


TRIAL_ACTOR = "operator"
"""Whose rights a trial runs with: whether the moves fit is the schedule's question; whether
this caller may make them is asked separately (`Way.not_yours`)."""


def _grid(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(Facility.slot_minutes).limit(1)) or 15


def _later_the_same_day(db: Database, appointment: AppointmentView) -> list[AppointmentView]:
    """Open sessions after this one, the same local day, sharing a clinician or its room."""
    tz = db.facility_tz()
    _, day_end = day_bounds(appointment.start.astimezone(tz).date(), tz)
    with db.read() as session:
        rows = appointments_between(session, appointment.start, day_end, include_cancelled=False)
    return [
        r
        for r in rows
        if r.id != appointment.id
        and r.status in OPEN
        and r.start >= appointment.start
        and _shares(appointment, r)
    ]


def _shares(a: AppointmentView, b: AppointmentView) -> tuple[str, ...]:
    shared = [s for s in a.staff if s in b.staff]
    if a.room is not None and a.room == b.room:
        shared.append(a.room)
    return tuple(shared)


def _push(
    appointment: AppointmentView, end: datetime, later: list[AppointmentView], grid: timedelta
) -> Way:
    """The delayed session ending at `end`, and each later session that it (or a session pushed
    before it) runs into moved just far enough to keep the buffer it had (up to BUFFER), rounded
    up to the facility's start grid."""
    minutes = int((end - appointment.start).total_seconds() // 60)
    moves = [(appointment.id, appointment.start, minutes)]
    placed = [(appointment, appointment.start, end)]
    for row in later:
        need = row.start
        for before, _, before_end in placed:
            if not _shares(before, row):
                continue
            booked_gap = row.start - before.end
            keep = min(max(booked_gap, timedelta(0)), timedelta(minutes=BUFFER_MINUTES))
            need = max(need, before_end + keep)
        if need > row.start:
            need = _round_up(need, row.start, grid)
            moves.append((row.id, need, row.minutes))
            placed.append((row, need, need + _len(row)))
    return Way("push", tuple(moves))


def _round_up(moment: datetime, booked: datetime, grid: timedelta) -> datetime:
    """The first grid start at or after `moment` (the booked start is on the grid)."""
    steps = -((booked - moment) // grid)  # ceil((moment - booked) / grid)
    return booked + steps * grid


def _len(a: AppointmentView) -> timedelta:
    return a.end - a.start


def _trial(db: Database, caller: Caller, way: Way) -> Way:
    """Try the moves inside a savepoint and take them back: does the chain fit? And may the
    caller make them?"""
    not_yours = None
    try:
        for appointment_id, _, _ in way.moves:
            patients = appointments.current(db, appointment_id).patients
            authorize_for_patients(db, caller, "move", patients)
    except PermissionDenied as exc:
        not_yours = str(exc)
    try:
        with db.session() as session:
            trial = session.begin_nested()
            try:
                _apply(db, session, TRIAL_ACTOR, way, "trying a knock-on")
            finally:
                trial.rollback()
    except (BookingConflict, RuleViolation, InvalidInput) as exc:
        return Way(way.key, way.moves, fits=False, problem=str(exc), not_yours=not_yours)
    return Way(way.key, way.moves, not_yours=not_yours)


def _apply(db: Database, session: Session, actor: str, way: Way, reason: str) -> None:
    booking_service(db, session).move_many(
        actor,
        [MoveRequest(i, start, None, None, minutes) for i, start, minutes in way.moves],
        reason=reason,
    )


@dataclass(frozen=True)
class Absorb:
    """Apply one way (recomputed now, so the schedule it moves is the current one)."""

    delay: Delay
    way: Literal["shorten", "push"]


def absorb(db: Database, caller: Caller, cmd: Absorb) -> list[AppointmentView]:
    """Make the chosen way's moves, all or nothing; returns the sessions as they now are (for
    "shorten", nothing moves: the delayed session, as booked)."""
    result = knock_on(db, caller, cmd.delay)
    way = next((w for w in result.ways if w.key == cmd.way), None)
    if way is None:
        offered = ", ".join(w.key for w in result.ways)
        raise InvalidInput(f"way: {cmd.way!r} is not one of the ways offered ({offered})")
    for appointment_id, _, _ in way.moves:
        authorize_for_patients(
            db, caller, "move", appointments.current(db, appointment_id).patients
        )
    if not way.moves:
        return [result.appointment]
    reason = f"{result.appointment.id} running {cmd.delay.kind} by {cmd.delay.minutes} min"
    before = {aid: appointments.current(db, aid) for aid, _, _ in way.moves}
    moves = [
        {
            "appointment": aid,
            "before": {
                "staff": before[aid].staff,
                "start": before[aid].start,
                "patients": before[aid].patients,
            },
            "after": {"staff": before[aid].staff, "start": start},
        }
        for aid, start, _ in way.moves
    ]
    change = hashlib.sha1(
        repr([(m["appointment"], m["after"]["start"]) for m in moves]).encode(),
        usedforsecurity=False,  # a name for the change, not a secret
    )
    with db.session() as session:
        _apply(db, session, caller.staff_id, way, reason)
        tell_patients(session, moves, change=f"push:{change.hexdigest()[:16]}")
    return [appointments.current(db, appointment_id) for appointment_id, _, _ in way.moves]


# --- a push the caller may not make: a proposal for those who may --------------------------------

KIND = "knock_on"
APPROVE = "approve_knock_on"
"""The permissions pack's action for applying one: moving the rest of a clinician's day is the
front desk's or a director's call (a therapist may see the push but not move others' patients)."""


@dataclass(frozen=True)
class ProposePush:
    """Store the push for the delay as a pending proposal (recomputed now)."""

    delay: Delay


def propose_push(db: Database, caller: Caller, cmd: ProposePush) -> dict[str, Any]:
    """The push as a stored proposal, applied in one step through
    assistant.usecases.absences.apply_proposal (the one way every proposal is applied): each
    session it moves must still be where the proposal found it, then every move runs through
    the booking service at once, or none does."""
    result = knock_on(db, caller, cmd.delay)
    way = next(w for w in result.ways if w.key == "push")
    if not way.fits:
        raise BookingConflict(f"the push does not fit the schedule now: {way.problem}")
    payload = _push_payload(db, result, way)
    with db.session() as session:
        proposal_id = f"P-{uuid.uuid4().hex[:6]}"
        session.add(
            Proposal(
                id=proposal_id,
                kind=KIND,
                status="pending",
                created_by=caller.staff_id,
                subject_staff_id=result.appointment.staff[0] if result.appointment.staff else None,
                payload=payload,
                created_at=now_utc(),
            )
        )
        append_event(
            session,
            actor=caller.staff_id,
            action="proposal.create",
            entity_type="proposal",
            entity_id=proposal_id,
            after={"kind": KIND, "appointment": result.appointment.id, "affected": len(way.moves)},
            reason=payload["reason"],
        )
    return {"id": proposal_id, "kind": KIND, **payload}


def apply_in(db: Database, session: Session, caller: Caller, proposal: Proposal) -> dict[str, Any]:
    """Make the push's moves inside the claiming transaction: a conflict rolls all of it back,
    the claim included, so the proposal stays pending and nothing has changed."""
    payload, pid = dict(proposal.payload), proposal.id
    try:
        for move in payload["moves"]:
            _still_there(session, move)
        _apply(
            db,
            session,
            caller.staff_id,
            Way(
                "push",
                tuple(
                    (m["appointment"], datetime.fromisoformat(m["after"]["start"]), m["minutes"])
                    for m in payload["moves"]
                ),
            ),
            f"{payload['reason']} (proposal {pid})",
        )
    except (BookingConflict, RuleViolation) as exc:
        raise BookingConflict(
            f"proposal {pid} no longer fits the schedule ({exc}); nothing was changed and it "
            "is still pending"
        ) from exc
    notify = [{**n, "proposal": pid} for n in who_to_tell(session, payload["moves"])]
    tell_patients(session, payload["moves"], change=f"proposal:{pid}")
    outcome = {
        "id": pid,
        "kind": KIND,
        "moved": len(payload["moves"]),
        "unplaced": [],
        "notify": notify,
    }
    proposal.outcome = outcome
    append_event(
        session,
        actor=caller.staff_id,
        action="proposal.apply",
        entity_type="proposal",
        entity_id=pid,
        after={"moved": len(payload["moves"]), "notify": notify},
    )
    return outcome


def _push_payload(db: Database, result: KnockOn, way: Way) -> dict[str, Any]:
    """Each move with the session as it was and as it will be (the shape the proposals' doors
    and who_to_tell read: appointment, before, after)."""
    moves = []
    for appointment_id, start, minutes in way.moves:
        a = appointments.current(db, appointment_id)
        before = {
            "start": a.start.isoformat(),
            "end": a.end.isoformat(),
            "staff": list(a.staff),
            "room": a.room,
            "patients": list(a.patients),
            "session_type": a.session_type,
            "group": a.group,
        }
        after = {**before, "start": start.isoformat()}
        after["end"] = (start + timedelta(minutes=minutes)).isoformat()
        moves.append({"appointment": a.id, "before": before, "after": after, "minutes": minutes})
    delay = result.delay
    return {
        "appointment": result.appointment.id,
        "delay": {"minutes": delay.minutes, "kind": delay.kind},
        "reason": f"{result.appointment.id} running {delay.kind} by {delay.minutes} min",
        "moves": moves,
        "unplaced": [],  # the shape every proposal shares
        "affected": len(moves) - 1,
    }


def _still_there(session: Session, move: dict[str, Any]) -> None:
    """A session the push moves must be as the proposal found it: otherwise the chain was
    worked out for another schedule."""
    row = session.get(Appointment, move["appointment"])
    was = move["before"]
    if (
        row is None
        or not row.active
        or row.status not in OPEN
        or row.start != datetime.fromisoformat(was["start"])
        or row.end != datetime.fromisoformat(was["end"])
    ):
        raise BookingConflict(f"the session at {was['start']} it moves has changed since")
