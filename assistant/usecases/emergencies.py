"""An emergency admission with no free slot in time: the bumps that would make room, stored as a
proposal ("move Tara Quinn's 10:00 to 14:00, then book the intake assessment at 10:00") that the
clinical director applies in one step, all or nothing.

Proposing writes only the proposal. Applying runs inside the transaction that claims it
(assistant.usecases.absences.apply_proposal, the one way every proposal is applied): each bumped
session must still be where the proposal found it, the moves and cancellations go through the
booking service, then the assessment is booked; any conflict rolls all of it back, the claim
included, so the proposal stays pending and nothing has changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from assistant.access import authorize
from assistant.proposals import Bumped, RoomByMoving, emergency_bumps
from assistant.usecases.notices import tell_patients, who_to_tell
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.booking import BookingRequest, MoveRequest
from clinic.db import Database
from clinic.errors import BookingConflict
from clinic.models import Appointment, Patient, Proposal
from clinic.placement import load_row
from clinic.timeutil import now_utc
from clinic.tokens import Caller

KIND = "emergency"
APPROVE = "approve_emergency"
"""The permissions pack's action for applying one: moving other patients' care to admit someone
is a clinical call (the clinical director's), not a scheduling one."""


@dataclass(frozen=True)
class ProposeBumps:
    patient: str
    session_type: str
    start: datetime
    end: datetime
    now: datetime
    staff: str | None = None
    """The clinician the request named, if any."""


def propose_bumps(db: Database, caller: Caller, cmd: ProposeBumps) -> dict[str, Any] | None:
    """Store the earliest way to make room inside the window as a pending proposal; None when
    no lower-priority session could make room."""
    authorize(db, caller, "emergency_intake", patient_id=cmd.patient)
    ways = emergency_bumps(
        db, cmd.patient, cmd.session_type, cmd.start, cmd.end, cmd.now, staff=cmd.staff
    )
    if not ways:
        return None
    payload = _payload(cmd, ways[0])
    proposal_id = f"P-{uuid.uuid4().hex[:6]}"
    with db.session() as session:
        load_row(session, Patient, cmd.patient, "patient")
        session.add(
            Proposal(
                id=proposal_id,
                kind=KIND,
                status="pending",
                created_by=caller.staff_id,
                subject_staff_id=payload["slot"]["staff"][0],
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
            after={
                "kind": KIND,
                "patient": cmd.patient,
                "start": payload["slot"]["start"],
                "affected": payload["affected"],
            },
            reason="emergency admission",
        )
    return {"id": proposal_id, "kind": KIND, **payload}


def apply_in(db: Database, session: Session, caller: Caller, proposal: Proposal) -> dict[str, Any]:
    """Make room and book the assessment inside the claiming transaction (see the module)."""
    payload, pid = dict(proposal.payload), proposal.id
    why = f"emergency admission (proposal {pid})"
    service = booking_service(db, session)
    try:
        for entry in [*payload["moves"], *payload["cancel"]]:
            _still_there(session, entry)
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
            service.move_many(caller.staff_id, moves, reason=why)
        for entry in payload["cancel"]:
            service.cancel(caller.staff_id, entry["appointment"], reason=why)
        slot = payload["slot"]
        booked = service.book(
            caller.staff_id,
            BookingRequest(
                session_type=payload["session_type"],
                start=datetime.fromisoformat(slot["start"]),
                staff=list(slot["staff"]),
                patients=[payload["patient"]],
                room=slot["room"],
                minutes=slot["minutes"],
            ),
            reason=why,
        )
    except BookingConflict as exc:
        raise BookingConflict(
            f"proposal {pid} no longer fits the schedule ({exc}); nothing was changed and it "
            "is still pending (reject it, or ask again for the earliest slot)"
        ) from exc
    notify = [{**n, "proposal": pid} for n in _who_to_tell(session, payload, booked.id)]
    outcome = {
        "id": pid,
        "kind": KIND,
        "moved": len(moves),
        "cancelled": len(payload["cancel"]),
        "unplaced": [],
        "booked": {
            "appointment": booked.id,
            "patient": payload["patient"],
            "session_type": payload["session_type"],
            "start": slot["start"],
            "staff": list(slot["staff"]),
            "room": slot["room"],
        },
        "notify": notify,
    }
    proposal.outcome = outcome
    append_event(
        session,
        actor=caller.staff_id,
        action="proposal.apply",
        entity_type="proposal",
        entity_id=pid,
        after={
            "moved": len(moves),
            "cancelled": len(payload["cancel"]),
            "booked": booked.id,
            "notify": notify,
        },
    )
    return outcome


# --- the parts ---------------------------------------------------------------------------------


def _payload(cmd: ProposeBumps, way: RoomByMoving) -> dict[str, Any]:
    def before(b: Bumped) -> dict[str, Any]:
        return {
            "start": b.start.isoformat(),
            "end": (b.start + timedelta(minutes=b.minutes)).isoformat(),
            "staff": list(b.staff),
            "room": b.room,
            "patients": list(b.patients),
            "session_type": b.session_type,
            "group": b.group,
        }

    moves, cancel = [], []
    for b in way.moves:
        if b.moved_to is None:
            cancel.append({"appointment": b.appointment, "before": before(b), "reason": "no room"})
            continue
        after = {
            **before(b),
            "start": b.moved_to.start.isoformat(),
            "end": (b.moved_to.start + timedelta(minutes=b.moved_to.minutes)).isoformat(),
            "staff": list(b.moved_to.staff),
            "room": b.moved_to.room,
        }
        changes = [k for k in ("start", "staff", "room") if after[k] != before(b)[k]]
        moves.append(
            {
                "appointment": b.appointment,
                "before": before(b),
                "after": after,
                "changes": changes,
                "reason": "makes room for an emergency admission",
            }
        )
    return {
        "patient": cmd.patient,
        "session_type": cmd.session_type,
        "window": {"start": cmd.start.isoformat(), "end": cmd.end.isoformat()},
        "slot": {
            "start": way.start.isoformat(),
            "end": (way.start + timedelta(minutes=way.minutes)).isoformat(),
            "minutes": way.minutes,
            "staff": list(way.staff),
            "room": way.room,
        },
        "moves": moves,
        "cancel": cancel,
        "unplaced": [],  # the shape every proposal shares (the doors read moves and unplaced)
        "affected": len(moves) + len(cancel),
    }


def _still_there(session: Session, entry: dict[str, Any]) -> None:
    """A bumped session must be where the proposal found it: if someone moved or cancelled it
    since, the plan was made for another schedule."""
    row = session.get(Appointment, entry["appointment"])
    was = datetime.fromisoformat(entry["before"]["start"])
    if (
        row is None
        or not row.active
        or row.start != was
        or sorted(row.staff_ids) != sorted(entry["before"]["staff"])
    ):
        raise BookingConflict(
            f"the session at {entry['before']['start']} it moves has changed since"
        )


def _who_to_tell(session: Session, payload: dict[str, Any], booked: str) -> list[dict[str, Any]]:
    """Each clinician whose day changed (the assessment's too), and each bumped patient."""
    cancelled = [
        {**c, "after": {"staff": c["before"]["staff"], "start": None}} for c in payload["cancel"]
    ]
    notify = who_to_tell(session, [*payload["moves"], *cancelled])
    tell_patients(session, [*payload["moves"], *cancelled], change=f"proposal:{booked}")
    for sid in payload["slot"]["staff"]:
        note = next((n for n in notify if n.get("staff") == sid), None)
        if note is None:
            note = {"staff": sid, "kind": "schedule_changed", "appointments": [], "count": 0}
            notify.insert(0, note)
        note["appointments"] = [*note["appointments"], booked]
        note["count"] += 1
    return notify
