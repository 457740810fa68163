"""Emergency access ("break the glass", HIPAA 164.312(a)(2)(ii)): a clinician may open a patient
outside their caseload after giving a reason.

What a reason may open, how long it must be and which roles may give one are the permissions
pack's (`tables.break_glass` and the `break_glass` action), never this module's. Each opening is
one `patient.break_glass` audit event (actor, patient, reason, door), which the next morning
report lists for the clinical director (`assistant.morning_report`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.models import AuditEvent
from clinic.tokens import Caller
from rules import permissions
from rules.service import default_service

EVENT = "patient.break_glass"
ACTION = "break_glass"


@dataclass(frozen=True)
class Emergency:
    """A reason given with a request, and the door it came through. One per request: a page
    that reads a patient's record and agenda opens them once, and logs it once."""

    reason: str | None
    door: str
    opened: set[str] = field(default_factory=set, compare=False)
    """Patients this request has opened already (logged once each)."""


def of(reason: str | None, door: str) -> Emergency | None:
    """The emergency a door's request carries (None when it gave no reason)."""
    return Emergency(reason.strip(), door) if reason and reason.strip() else None


def _table() -> dict[str, Any]:
    return dict(default_service().packs.tables.get("break_glass") or {})


def opens(rule_id: str) -> bool:
    """Whether a reason may open what this rule refuses."""
    return rule_id in (_table().get("opens") or ())


def min_reason_chars() -> int:
    return int(_table().get("min_reason_chars", 10))


def reason_problem(reason: str | None) -> str | None:
    """Why a reason is not enough to break the glass (None when it is)."""
    chars, words = min_reason_chars(), int(_table().get("min_reason_words", 2))
    text = (reason or "").strip()
    said = re.findall(r"[^\W\d_]{2,}", text)
    if len(text) < chars or len(said) < words:
        return (
            f"to open a patient outside your caseload in an emergency, say why in at least "
            f"{words} words and {chars} characters (for example 'crisis call from the patient'); "
            f"the reason is written to the audit log"
        )
    return None


def break_glass(
    db: Database, caller: Caller, patient_id: str, emergency: Emergency, refused: str
) -> None:
    """Open the patient for this request, or raise PermissionDenied: the role must be one the
    pack lets break the glass and the reason must say why. `refused` is the rule's refusal
    the reason is meant to open (kept in the audit event)."""
    if patient_id in emergency.opened:
        return
    decision = permissions.may(caller.roles, ACTION)
    if not decision.allowed:
        denial = next((f for f in decision.fired if f.severity == "deny"), None)
        raise PermissionDenied(
            (denial.message if denial else "emergency access refused").rstrip(".")
        )
    problem = reason_problem(emergency.reason)
    if problem:
        raise PermissionDenied(problem)
    with db.session() as session:
        append_event(
            session,
            actor=caller.staff_id,
            action=EVENT,
            entity_type="patient",
            entity_id=patient_id,
            after={"door": emergency.door, "refused": refused},
            reason=emergency.reason,
        )
    emergency.opened.add(patient_id)


def since(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every emergency access in [start, end), oldest first: who, which patient, when, why."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == EVENT, AuditEvent.at >= start, AuditEvent.at < end)
        .order_by(AuditEvent.seq)
    )
    return [
        {
            "actor": e.actor,
            "patient": e.entity_id,
            "at": e.at,
            "reason": e.reason,
            "door": (e.after or {}).get("door"),
        }
        for e in rows
    ]
