"""Who must be told when appointments change: a sick call's moves, a discharge's cancellations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from clinic.models import Patient


def who_to_tell(
    session: Session, moves: Iterable[dict[str, Any]], *, patient_kind: str = "time_changed"
) -> list[dict[str, Any]]:
    """Each clinician whose day changed (with appointment ids), and patients whose time changed
    (a cancellation is a move to no time: `after.start` None). Each move is
    {appointment, before: {staff, start, patients}, after: {staff, start}}."""
    by_staff: dict[str, list[str]] = {}
    patients: dict[str, list[str]] = {}
    for move in moves:
        for sid in {*move["before"]["staff"], *move["after"]["staff"]}:
            by_staff.setdefault(sid, []).append(move["appointment"])
        if move["before"]["start"] != move["after"]["start"]:
            for pid in move["before"]["patients"]:
                patients.setdefault(pid, []).append(move["appointment"])
    notify = [
        {"staff": sid, "kind": "schedule_changed", "appointments": ids, "count": len(ids)}
        for sid, ids in sorted(by_staff.items())
    ]
    for pid, ids in sorted(patients.items()):
        patient = session.get(Patient, pid)
        contact = (patient.contact or {}) if patient else {}
        channel = contact.get("channel") if contact.get("consent_reminders") else None
        notify.append(
            {
                "patient": pid,
                "kind": patient_kind,
                "appointments": ids,
                "count": len(ids),
                "channel": channel or "phone call by staff",
            }
        )
    return notify
