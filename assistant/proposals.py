"""Sick calls and late arrivals: a repair plan proposed now, applied when someone approves it.

The absence itself is recorded at once (nobody should be booked with an absent clinician);
the moves wait for the clinical director. Applying is all or nothing, through the booking
service, and records who must be told.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from assistant.optimize import repair_staff_out
from assistant.problem_builder import build_problem
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.booking import MoveRequest
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import Patient, Proposal, Staff, StaffUnavailability
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from solver.model import SlotRequest
from solver.repair import emergency
from solver.settings import SolverSettings

INTERACTIVE_SECONDS = 5.0


def _settings() -> SolverSettings:
    settings = SolverSettings.from_env()
    return replace(settings, time_limit=min(settings.time_limit, INTERACTIVE_SECONDS))


def propose_absence(
    db: Database, caller: Caller, staff_id: str, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    if end <= start:
        raise InvalidInput("that absence is already over")
    result, built = repair_staff_out(
        db, staff_id, start, end, _settings(), now=now, reason="clinician out"
    )
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

    payload = {
        "staff": staff_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "moves": [
            {
                "appointment": m.before.id,
                "before": slot(m.before),
                "after": slot(m.after),
                "changes": list(m.changes),
                "reason": m.reason,
            }
            for m in result.moves
        ],
        "unplaced": [
            {"appointment": u.appointment.id, "before": slot(u.appointment), "reason": u.reason}
            for u in result.unplaced
        ],
    }
    payload["affected"] = len(payload["moves"]) + len(payload["unplaced"])
    proposal_id = f"P-{uuid.uuid4().hex[:6]}"
    with db.session() as session:
        session.add(
            StaffUnavailability(
                staff_id=staff_id, start=start, end=end, reason=f"reported by {caller.staff_id}"
            )
        )
        session.add(
            Proposal(
                id=proposal_id,
                kind="absence",
                status="pending",
                created_by=caller.staff_id,
                subject_staff_id=staff_id,
                payload=payload,
                created_at=now_utc(),
            )
        )
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
        )
    return {"id": proposal_id, **payload}


def approvers(db: Database) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Staff.id).where(Staff.role == "clinical_director").order_by(Staff.position)
            )
        )


def pending(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        rows = session.scalars(
            select(Proposal).where(Proposal.status == "pending").order_by(Proposal.created_at)
        ).all()
        return [{"id": p.id, **p.payload} for p in rows]


def _pick(session: Any, proposal_id: str | None) -> Proposal:
    if proposal_id:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None:
            raise NotFound(f"no proposal {proposal_id}")
    else:
        proposal = session.scalars(
            select(Proposal)
            .where(Proposal.status == "pending")
            .order_by(Proposal.created_at.desc())
            .limit(1)
        ).first()
        if proposal is None:
            raise NotFound("no proposal is waiting for approval")
    if proposal.status != "pending":
        raise InvalidInput(f"proposal {proposal.id} was already {proposal.status}")
    return proposal


def apply(db: Database, caller: Caller, proposal_id: str | None) -> dict[str, Any]:
    with db.session() as session:
        proposal = _pick(session, proposal_id)
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
        booking_service(db).move_many(
            caller.staff_id, moves, reason=f"{payload['staff']} out (proposal {pid})"
        )
    notify = [{**n, "proposal": pid} for n in _who_to_tell(db, payload)]
    outcome = {"id": pid, "moved": len(moves), "unplaced": payload["unplaced"], "notify": notify}
    with db.session() as session:
        proposal = session.get(Proposal, pid)
        proposal.status, proposal.decided_by, proposal.decided_at = (
            "applied",
            caller.staff_id,
            now_utc(),
        )
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


def reject(db: Database, caller: Caller, proposal_id: str | None) -> str:
    with db.session() as session:
        proposal = _pick(session, proposal_id)
        proposal.status, proposal.decided_by, proposal.decided_at = (
            "rejected",
            caller.staff_id,
            now_utc(),
        )
        append_event(
            session,
            actor=caller.staff_id,
            action="proposal.reject",
            entity_type="proposal",
            entity_id=proposal.id,
        )
        return proposal.id


def _who_to_tell(db: Database, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Each clinician whose day changed (with appointment ids), and patients whose time moved."""
    by_staff: dict[str, list[str]] = {}
    patients: dict[str, list[str]] = {}
    for move in payload["moves"]:
        for sid in {*move["before"]["staff"], *move["after"]["staff"]}:
            by_staff.setdefault(sid, []).append(move["appointment"])
        if move["before"]["start"] != move["after"]["start"]:
            for pid in move["before"]["patients"]:
                patients.setdefault(pid, []).append(move["appointment"])
    notify = [
        {"staff": sid, "kind": "schedule_changed", "appointments": ids, "count": len(ids)}
        for sid, ids in sorted(by_staff.items())
    ]
    with db.read() as session:
        for pid, ids in sorted(patients.items()):
            patient = session.get(Patient, pid)
            contact = (patient.contact or {}) if patient else {}
            channel = (
                contact.get("channel")
                if contact.get("consent_reminders")
                else "phone call by staff"
            )
            notify.append(
                {
                    "patient": pid,
                    "kind": "time_changed",
                    "appointments": ids,
                    "count": len(ids),
                    "channel": channel or "phone call by staff",
                }
            )
    return notify


@dataclass(frozen=True)
class Bumped:
    """A lower-priority appointment that would move to make room, and where it would go."""

    session_type: str
    start: datetime
    staff: tuple[str, ...]
    moved_to: datetime | None


@dataclass(frozen=True)
class RoomByMoving:
    """An earlier emergency slot that needs `moves` (cheapest first, by the solver's cost)."""

    start: datetime
    staff: tuple[str, ...]
    moves: tuple[Bumped, ...]


def emergency_bumps(
    db: Database, patient: str, session_type: str, start: datetime, end: datetime, now: datetime
) -> list[RoomByMoving]:
    """Which lower-priority appointments could move to make room sooner (at most two ways)."""
    with db.read() as session:
        built = build_problem(session, start, end)
    clock = built.clock
    answer = emergency(
        built.problem,
        SlotRequest(
            patients=(patient,),
            session_type=session_type,
            window=(clock.minutes(start), clock.minutes(end)),
        ),
        k=1,
        now=clock.minutes(now),
        settings=_settings(),
    )
    return [
        RoomByMoving(
            start=clock.moment(option.start),
            staff=tuple(option.staff),
            moves=tuple(
                Bumped(
                    session_type=b.appointment.session_type,
                    start=clock.moment(b.appointment.start),
                    staff=tuple(b.appointment.staff),
                    moved_to=clock.moment(b.moved_to.start) if b.moved_to else None,
                )
                for b in bumps
            ),
        )
        for option, bumps, _cost in answer.with_bumps[:2]
    ]
