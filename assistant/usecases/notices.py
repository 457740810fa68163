"""Who must be told when appointments change: a sick call's moves, a discharge's cancellations;
and the one notice each patient whose time changed gets (`tell_patients`, through the outbox)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import messages
from clinic.models import Patient
from clinic.queries import facility_zone_name
from clinic.timeutil import now_utc, zone


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


def tell_patients(
    session: Session, moves: Iterable[dict[str, Any]], *, change: str, now: datetime | None = None
) -> dict[str, str]:
    """Queue ONE notice per patient whose time changed in this change (every move and
    cancellation of it in one message), keyed by `change` (a proposal's id, one appointment's
    move), so applying it again or a retry tells nobody twice. Each notice is a disclosure the
    consent pack judges (assistant.messages). Returns each patient's outcome."""
    now = now or now_utc()
    tz = zone(facility_zone_name(session))
    lines: dict[str, list[str]] = {}
    ids: dict[str, list[str]] = {}
    for move in moves:
        before, after = move["before"]["start"], move["after"]["start"]
        if before == after:
            continue
        was = messages.when(_moment(before), tz)
        line = (
            f"{was} is cancelled"
            if after is None
            else f"{was} is now {messages.when(_moment(after), tz)}"
        )
        for pid in move["before"]["patients"]:
            lines.setdefault(pid, []).append(line)
            ids.setdefault(pid, []).append(move["appointment"])
    if not lines:
        return {}
    patients = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(lines)))}
    return {
        pid: messages.to_patient(
            session,
            patients[pid],
            template="changed",
            context={"changes": "; ".join(lines[pid])},
            key=f"notice:{change}:{pid}",
            appointment_ids=ids[pid],
            now=now,
            purpose="appointment change notice",
        )
        for pid in sorted(lines)
        if pid in patients
    }


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
