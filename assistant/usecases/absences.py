"""Sick calls: an absence recorded at once with a repair plan, which an approver then applies,
adjusts (another cover for a session), rejects or withdraws (the absence is taken back).

Every decision on a proposal claims it in the database first (`pending` → its outcome, guarded
by the status), in the same transaction as everything it changes: two approvers pressing
"Apply" together apply it once, and a failure leaves the proposal pending and nothing moved.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.access import authorize
from assistant.optimize import interactive_settings, repair_out
from assistant.problem_builder import BuiltProblem
from assistant.usecases import emergencies, knock_on, morning_plan, waitlist
from assistant.usecases.notices import tell_patients, who_to_tell
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.booking import MoveRequest
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput, NotFound, RuleViolation
from clinic.models import Proposal, RoomUnavailability, Staff, StaffUnavailability
from clinic.placement import load_row
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from solver.model import RepairResult

APPROVE = "approve_changes"  # the permissions pack's action for deciding on a proposal


@dataclass(frozen=True)
class ReportAbsence:
    staff_id: str
    start: datetime
    end: datetime
    now: datetime
    reason: str | None = None
    """Why (planned leave, a course); default: who reported it."""


@dataclass(frozen=True)
class ApplyProposal:
    proposal_id: str | None = None
    """None: the newest pending proposal."""


@dataclass(frozen=True)
class RejectProposal:
    proposal_id: str | None = None


@dataclass(frozen=True)
class ChangeCover:
    """Another clinician covers one session of the proposal, at the session's own time."""

    proposal_id: str | None
    appointment_id: str
    staff: tuple[str, ...]


@dataclass(frozen=True)
class WithdrawAbsence:
    """The absence is taken back: its unavailability is removed and nothing moves."""

    proposal_id: str | None = None


# --- report ------------------------------------------------------------------------------------


def report_absence(db: Database, caller: Caller, cmd: ReportAbsence) -> dict[str, Any]:
    """Record the absence and propose how to repair the schedule; returns the proposal."""
    authorize(db, caller, "report_absence", staff_id=cmd.staff_id)
    if cmd.end <= cmd.start:
        raise InvalidInput("that absence is already over")
    return propose_absence(
        db,
        caller,
        cmd.staff_id,
        cmd.start,
        cmd.end,
        now=cmd.now,
        reason=cmd.reason or f"reported by {caller.staff_id}",
    )


def propose_absence(
    db: Database,
    caller: Caller,
    staff_id: str,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    reason: str,
    repair_until: datetime | None = None,
    also: Callable[[Session], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Record an absence over [start, end) and propose its repair, for a caller already
    authorized. `repair_until`: repair only the sessions before it (an open-ended absence);
    `also`: more work in the same transaction, its result kept in the proposal (a departure
    revokes the clinician's tokens)."""
    result, built = repair_out(
        db,
        start,
        min(end, repair_until) if repair_until else end,
        interactive_settings(),
        staff=staff_id,
        now=now,
        reason="clinician out",
    )
    payload: dict[str, Any] = {
        "staff": staff_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        **repair_payload(result, built),
    }
    with db.session() as session:
        absence = StaffUnavailability(staff_id=staff_id, start=start, end=end, reason=reason)
        session.add(absence)
        session.flush()
        payload["absence"] = absence.id
        if also is not None:
            payload.update(also(session))
        proposal_id = store_proposal(session, caller, "absence", payload, staff=staff_id)
        append_event(
            session,
            actor=caller.staff_id,
            action="staff.unavailable",
            entity_type="staff",
            entity_id=staff_id,
            after={
                "start": payload["start"],
                "end": payload["end"],
                "proposal": proposal_id,
                "affected": payload["affected"],
            },
            reason=reason,
        )
    return {"id": proposal_id, **payload}


def repair_payload(result: RepairResult, built: BuiltProblem) -> dict[str, Any]:
    """A repair as a proposal stores it: each move (before, after, why) and each session left
    without a place; what `apply_proposal` makes happen."""
    clock = built.clock

    def slot(a: Any) -> dict[str, Any]:
        return {
            "start": clock.moment(a.start).isoformat(),
            "end": clock.moment(a.end).isoformat(),
            "staff": list(a.staff),
            "room": a.room,
            "patients": list(a.patients),
            "session_type": a.session_type,
            "group": a.group,
        }

    moves = [
        {
            "appointment": m.before.id,
            "before": slot(m.before),
            "after": slot(m.after),
            "changes": list(m.changes),
            "reason": m.reason,
        }
        for m in result.moves
    ]
    unplaced = [
        {"appointment": u.appointment.id, "before": slot(u.appointment), "reason": u.reason}
        for u in result.unplaced
    ]
    return {"moves": moves, "unplaced": unplaced, "affected": len(moves) + len(unplaced)}


def store_proposal(
    session: Session, caller: Caller, kind: str, payload: dict[str, Any], *, staff: str | None
) -> str:
    """A pending proposal of `kind`, waiting for an approver; returns its id."""
    proposal_id = f"P-{uuid.uuid4().hex[:6]}"
    session.add(
        Proposal(
            id=proposal_id,
            kind=kind,
            status="pending",
            created_by=caller.staff_id,
            subject_staff_id=staff,
            payload=payload,
            created_at=now_utc(),
        )
    )
    return proposal_id


def pending(db: Database, caller: Caller) -> list[dict[str, Any]]:
    """Proposals waiting for a decision, oldest first."""
    authorize(db, caller, APPROVE)
    return waiting(db)


def waiting(db: Database) -> list[dict[str, Any]]:
    """Proposals waiting for a decision, oldest first (for those already authorized)."""
    with db.read() as session:
        rows = session.scalars(
            select(Proposal).where(Proposal.status == "pending").order_by(Proposal.created_at)
        ).all()
        return [{"id": p.id, "kind": p.kind, **p.payload} for p in rows]


def payload_of(db: Database, proposal_id: str) -> dict[str, Any] | None:
    """What a proposal proposes (None when there is no such proposal)."""
    with db.read() as session:
        row = session.get(Proposal, proposal_id)
        return dict(row.payload) if row else None


# --- decide ------------------------------------------------------------------------------------


def apply_proposal(db: Database, caller: Caller, cmd: ApplyProposal) -> dict[str, Any]:
    """Make every change of the proposal, all or nothing, exactly once (a sick call's repair,
    an emergency admission's bumps and booking, a knock-on's push: by kind, _APPLY_IN)."""
    proposal_id, kind = _target(db, cmd.proposal_id)
    authorize(db, caller, _APPROVER.get(kind, APPROVE))
    with db.session() as session:
        proposal = _claim(session, caller, proposal_id, "applied")
        if proposal.kind in _APPLY_IN:
            return _APPLY_IN[proposal.kind](db, session, caller, proposal)
        payload, pid = dict(proposal.payload), proposal.id
        moves = [
            MoveRequest(
                appointment_id=m["appointment"],
                start=datetime.fromisoformat(m["after"]["start"]),
                staff=m["after"]["staff"],
                room=m["after"]["room"],
            )
            for m in payload["moves"]
        ]
        if moves:
            booking_service(db, session).move_many(
                caller.staff_id, moves, reason=f"{_disruption(payload)} (proposal {pid})"
            )
        notify = [{**n, "proposal": pid} for n in who_to_tell(session, payload["moves"])]
        tell_patients(session, payload["moves"], change=f"proposal:{pid}")
        freed = [waitlist.slot_of_move(m) for m in payload["moves"]]
        waitlist.offer_freed(db, session, freed, actor=caller.staff_id)
        outcome = {
            "id": pid,
            "kind": proposal.kind,
            "moved": len(moves),
            "unplaced": payload["unplaced"],
            "notify": notify,
        }
        proposal.outcome = outcome
        append_event(
            session,
            actor=caller.staff_id,
            action="proposal.apply",
            entity_type="proposal",
            entity_id=pid,
            after={"moved": len(moves), "notify": notify},
        )
    return outcome


def reject_proposal(db: Database, caller: Caller, cmd: RejectProposal) -> str:
    """Set the proposal aside: nothing moves (a sick call's absence stays recorded)."""
    proposal_id, kind = _target(db, cmd.proposal_id)
    authorize(db, caller, _APPROVER.get(kind, APPROVE))
    with db.session() as session:
        proposal = _claim(session, caller, proposal_id, "rejected")
        append_event(
            session,
            actor=caller.staff_id,
            action="proposal.reject",
            entity_type="proposal",
            entity_id=proposal.id,
        )
        return proposal.id


def withdraw_absence(db: Database, caller: Caller, cmd: WithdrawAbsence) -> dict[str, Any]:
    """The clinician is not out after all: remove the absence; nothing moves."""
    authorize(db, caller, APPROVE)
    with db.session() as session:
        proposal = _claim(session, caller, cmd.proposal_id, "withdrawn")
        _absence_only(proposal)
        payload = dict(proposal.payload)
        absence = _absence_of(session, payload)
        removed = None
        if absence is not None:
            removed = {
                "start": absence.start.isoformat(),
                "end": absence.end.isoformat(),
                "reason": absence.reason,
            }
            session.delete(absence)
        append_event(
            session,
            actor=caller.staff_id,
            action="room.reopen" if payload.get("room") else "staff.available",
            entity_type="room" if payload.get("room") else "staff",
            entity_id=payload.get("room") or payload["staff"],
            before=removed,
            after={"proposal": proposal.id},
            reason="absence withdrawn",
        )
        return {"id": proposal.id, "staff": payload["staff"], "removed": removed is not None}


def change_cover(db: Database, caller: Caller, cmd: ChangeCover) -> dict[str, Any]:
    """Give one session of a pending proposal another cover, at the session's own time and
    room. The booking service tries the change now (and takes it back), so a cover who cannot
    take it is refused at once, with the reason; the proposal stays pending for "apply"."""
    authorize(db, caller, APPROVE)
    if not cmd.staff:
        raise InvalidInput("say who covers the session")
    with db.session() as session:
        proposal = _pending(session, cmd.proposal_id, lock=True)
        _absence_only(proposal)
        payload = dict(proposal.payload)
        if payload["staff"] in cmd.staff:
            raise InvalidInput("that is the clinician who is out; choose someone else")
        for sid in cmd.staff:
            load_row(session, Staff, sid, "staff member")
        entry = _entry(payload, proposal.id, cmd.appointment_id)
        _try_cover(db, session, caller, entry, list(cmd.staff))
        before = entry["before"]
        move = {
            "appointment": cmd.appointment_id,
            "before": before,
            "after": {**before, "staff": list(cmd.staff)},
            "changes": ["staff"],
            "reason": f"cover chosen by {caller.name}",
        }
        others = [m for m in payload["moves"] if m["appointment"] != cmd.appointment_id]
        payload["moves"] = sorted([*others, move], key=lambda m: m["before"]["start"])
        payload["unplaced"] = [
            u for u in payload["unplaced"] if u["appointment"] != cmd.appointment_id
        ]
        proposal.payload = payload
        append_event(
            session,
            actor=caller.staff_id,
            action="proposal.adjust",
            entity_type="proposal",
            entity_id=proposal.id,
            before={
                "appointment": cmd.appointment_id,
                "staff": entry.get("after", before)["staff"],
            },
            after={"appointment": cmd.appointment_id, "staff": list(cmd.staff)},
        )
        return {"id": proposal.id, **payload}


def covers(
    db: Database, caller: Caller, proposal_id: str | None, appointment_id: str, limit: int = 3
) -> list[str]:
    """Staff members (roster order) who could take one session of a proposal at its own time
    and room, as the booking service judges it now; at most `limit`."""
    authorize(db, caller, APPROVE)
    found: list[str] = []
    with db.read() as session:
        proposal = _pending(session, proposal_id)
        _absence_only(proposal)
        entry = _entry(dict(proposal.payload), proposal.id, appointment_id)
        absent = proposal.payload["staff"]
        staff = session.scalars(select(Staff.id).order_by(Staff.position)).all()
    taken = set(entry.get("after", {}).get("staff") or [])
    with db.session() as session:
        for sid in staff:
            if sid == absent or sid in taken:
                continue
            try:
                _try_cover(db, session, caller, entry, [sid])
            except (BookingConflict, RuleViolation):
                continue
            found.append(sid)
            if len(found) == limit:
                break
        session.rollback()  # only tried: nothing is kept
    return found


# --- the unit of work's parts ------------------------------------------------------------------


def _pending(session: Session, proposal_id: str | None, *, lock: bool = False) -> Proposal:
    """The proposal asked for (or the newest pending one), which must still be pending."""
    if proposal_id:
        query = select(Proposal).where(Proposal.id == proposal_id)
    else:
        query = (
            select(Proposal)
            .where(Proposal.status == "pending")
            .order_by(Proposal.created_at.desc())
            .limit(1)
        )
    proposal = session.scalars(query.with_for_update() if lock else query).first()
    if proposal is None:
        raise NotFound(
            f"no proposal {proposal_id}" if proposal_id else "no proposal is waiting for approval"
        )
    if proposal.status != "pending":
        raise InvalidInput(f"proposal {proposal.id} was already {proposal.status}")
    return proposal


def _target(db: Database, proposal_id: str | None) -> tuple[str, str]:
    """The proposal a decision is about (named, or the newest pending one) and its kind, read
    before the caller is authorized: who may apply it depends on its kind. The decision then
    claims that proposal by its id, so a newer one cannot slip in between."""
    with db.read() as session:
        proposal = _pending(session, proposal_id)
        return proposal.id, proposal.kind


_APPROVER = {emergencies.KIND: emergencies.APPROVE, knock_on.KIND: knock_on.APPROVE}
"""Who may decide a proposal, by its kind (a sick call's or a room's: APPROVE)."""
_APPLY_IN = {
    emergencies.KIND: emergencies.apply_in,
    knock_on.KIND: knock_on.apply_in,
    morning_plan.KIND: morning_plan.apply_in,
}
"""How a proposal of another kind than an absence's is applied inside the claiming transaction."""


def _absence_only(proposal: Proposal) -> None:
    if proposal.kind == knock_on.KIND:
        raise InvalidInput(
            f"proposal {proposal.id} absorbs a session running late or over: apply or reject it"
        )
    if proposal.kind == emergencies.KIND:
        raise InvalidInput(
            f"proposal {proposal.id} makes room for an emergency admission: apply or reject it"
        )
    if proposal.kind == morning_plan.KIND:
        raise InvalidInput(f"proposal {proposal.id} is the morning plan: apply or reject it")


def _claim(session: Session, caller: Caller, proposal_id: str | None, outcome: str) -> Proposal:
    """Move the proposal from pending to `outcome`, guarded by its status in the database: of
    two transactions claiming it, the second finds it no longer pending (on PostgreSQL it waits
    for the first's row lock, then its WHERE no longer matches) and changes nothing."""
    proposal = _pending(session, proposal_id)
    claimed = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.status == "pending")
        .values(status=outcome, decided_by=caller.staff_id, decided_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        status = session.scalar(select(Proposal.status).where(Proposal.id == proposal.id))
        raise InvalidInput(f"proposal {proposal.id} was already {status}")
    session.refresh(proposal)
    return proposal


def _entry(payload: dict[str, Any], proposal_id: str, appointment_id: str) -> dict[str, Any]:
    """The proposal's entry (a move, or a session left without cover) for one appointment."""
    for entry in [*payload["moves"], *payload["unplaced"]]:
        if entry["appointment"] == appointment_id:
            return entry
    raise NotFound(f"appointment {appointment_id} is not part of proposal {proposal_id}")


def _try_cover(
    db: Database, session: Session, caller: Caller, entry: dict[str, Any], staff: list[str]
) -> None:
    """Move the session to `staff` at its own time and room inside a savepoint, then take it
    back: every booking check runs, and a BookingConflict or RuleViolation says why not."""
    before = entry["before"]
    trial = session.begin_nested()
    try:
        booking_service(db, session).move(
            caller.staff_id,
            entry["appointment"],
            start=datetime.fromisoformat(before["start"]),
            staff=staff,
            room=before["room"],
            reason="trying a cover",
        )
    finally:
        trial.rollback()


def _disruption(payload: dict[str, Any]) -> str:
    """What a proposal repairs, in words for the audit log."""
    if payload.get("room"):
        return f"room {payload['room']} closed"
    return f"{payload['staff']} out"


def _absence_of(
    session: Session, payload: dict[str, Any]
) -> StaffUnavailability | RoomUnavailability | None:
    if payload.get("closure") is not None:
        return session.get(RoomUnavailability, payload["closure"])
    if payload.get("absence") is not None:
        return session.get(StaffUnavailability, payload["absence"])
    # Proposals made before the id was kept: the row with the same clinician and times.
    return session.scalars(
        select(StaffUnavailability).where(
            StaffUnavailability.staff_id == payload["staff"],
            StaffUnavailability.start == datetime.fromisoformat(payload["start"]),
            StaffUnavailability.end == datetime.fromisoformat(payload["end"]),
        )
    ).first()
