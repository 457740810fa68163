"""The morning plan: the open demand of the coming days placed by the solver, kept as a proposal
(kind "morning_plan") that an approver books in one step, all or nothing
(assistant.usecases.absences.apply_proposal dispatches here by kind).

Nothing is booked when the plan is made: the facility opts in to silent booking with
ROTA_MORNING_APPLY=1 (assistant.jobs.morning).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from assistant.problem_builder import BuiltProblem
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.booking import BookingRequest
from clinic.db import Database
from clinic.models import Proposal
from clinic.timeutil import local_iso
from clinic.tokens import Caller
from solver.model import PlanResult

KIND = "morning_plan"


def payload(result: PlanResult, built: BuiltProblem, day: str) -> dict[str, Any]:
    """What the proposal stores: each new session (when, who, where) and the demand left
    without a place, with the solver's reason. `moves` stays empty: nothing booked moves."""
    clock, tz = built.clock, built.clock.tz
    bookings = [
        {
            "session_type": a.session_type,
            "start": local_iso(clock.moment(a.start), tz),
            "minutes": a.minutes,
            "staff": list(a.staff),
            "patients": list(a.patients),
            "room": a.room,
            "group": a.group,
        }
        for a in sorted(result.new, key=lambda a: (a.start, a.id))
    ]
    unmet = [
        {
            "session_type": u.session_type,
            "missing": u.missing,
            "reason": u.reason,
            **({"patient": u.patient} if u.patient else {}),
            **({"group": u.group} if u.group else {}),
        }
        for u in result.unmet
    ]
    return {
        "day": day,
        "period": {
            "start": local_iso(built.start, tz),
            "end": local_iso(built.end, tz),
        },
        "bookings": bookings,
        "unmet": unmet,
        "moves": [],
        "unplaced": [],
        "affected": len(bookings),
        "solver": {"status": result.stats.status, "seconds": result.stats.seconds},
    }


def requests(payload: dict[str, Any]) -> list[BookingRequest]:
    return [
        BookingRequest(
            session_type=b["session_type"],
            start=datetime.fromisoformat(b["start"]),
            staff=list(b["staff"]),
            patients=list(b["patients"]),
            room=b["room"],
            minutes=b["minutes"],
            group=b["group"],
        )
        for b in payload["bookings"]
    ]


def book_in(db: Database, session: Session, actor: str, payload: dict[str, Any], why: str) -> int:
    """Book every session of the plan in the caller's transaction (the booking service
    re-checks each against the rules as they are now): all, or none."""
    wanted = requests(payload)
    if wanted:
        booking_service(db, session).book_many(actor, wanted, reason=why)
    return len(wanted)


def apply_in(db: Database, session: Session, caller: Caller, proposal: Proposal) -> dict[str, Any]:
    """Apply a claimed morning plan inside the decision's transaction."""
    pid = proposal.id
    booked = book_in(db, session, caller.staff_id, dict(proposal.payload), f"morning plan {pid}")
    outcome = {
        "id": pid,
        "kind": KIND,
        "booked": booked,
        "moved": 0,
        "unplaced": [],
        "unmet": proposal.payload.get("unmet", []),
        "notify": [],
    }
    proposal.outcome = outcome
    append_event(
        session,
        actor=caller.staff_id,
        action="proposal.apply",
        entity_type="proposal",
        entity_id=pid,
        after={"booked": booked},
    )
    return outcome
