"""A per-facility snapshot of who people are, for the role check every door makes on every request.

`build_situation` reads a decision's facts afresh (about 30 queries); a role check ("may this
caller book for this patient?") asks the same about the same people all day long. The people's
facts (staff, patients, groups, session types) change only through events other than
appointment changes (a facility load, an absence, an admission, an enrolment), each of which
writes an audit event; so the snapshot stays true until such an event appears, the way
`assistant.optimize.cached_problem` keys its cache on the newest audit event. The one fact of a
role check that an appointment change moves, the patient's appointments, is read fresh.

`role_situation` answers exactly what `build_situation(actor=..., patient=...)` answers (a test
holds them equal); it is for read-only checks outside a write transaction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.db import Database
from clinic.models import AuditEvent, SessionType

# The same row readers build_situation uses, so the two answers cannot drift apart.
from rules.facts import (
    _existing,
    _groups,
    actor_facts,
    facility_zone,
    patient_facts,
    session_type_facts,
    staff_facts,
)
from rules.facts import _patients as _patient_rows
from rules.facts import _staff as _staff_rows
from rules.loader import PackSet
from rules.model import GroupFacts, PatientFacts, SessionTypeFacts, Situation, StaffFacts

# Audit actions that change appointments only: they leave the snapshot true.
APPOINTMENT_EVENT = "appointment."


@dataclass
class _Snapshot:
    """The facility's people as of one audit event; filled lazily, one person at a time."""

    packs: PackSet
    tz: ZoneInfo
    on: date
    session_types: dict[str, SessionTypeFacts]
    staff: dict[str, StaffFacts | None] = field(default_factory=dict)
    supervisor: dict[str, str | None] = field(default_factory=dict)
    patients: dict[str, PatientFacts] = field(default_factory=dict)
    groups_of: dict[str, dict[str, GroupFacts]] = field(default_factory=dict)


@dataclass
class _Entry:
    seen: int | None  # the newest audit event looked at
    snapshot: _Snapshot


_CACHE: dict[str, _Entry] = {}
_LOCK = threading.Lock()


def role_situation(
    db: Database,
    packs: PackSet,
    *,
    actor: str,
    patient: str | None = None,
    now: datetime | None = None,
) -> tuple[StaffFacts, Situation]:
    """The situation of a role check (an actor, perhaps a patient, no appointment)."""
    now = now or datetime.now(UTC)
    pids = [patient] if patient else []
    with db.read() as session:
        snap = _snapshot(db, session, packs, now.date())
        actor_row = _actor(session, snap, actor)
        patients = {pid: _patient(session, snap, pid) for pid in pids}
        staff_ids = {actor} | {
            p.primary_clinician for p in patients.values() if p.primary_clinician
        }
        staff_ids |= {s for sid in staff_ids if (s := _supervisor(session, snap, sid))}
        staff = {sid: f for sid in staff_ids if (f := _staff(session, snap, sid)) is not None}
        staff.setdefault(actor_row.id, actor_row)
        groups = {gid: g for pid in pids for gid, g in snap.groups_of[pid].items()}
        existing = _existing(session, pids, exclude=None)
    types = {a.session_type for a in existing}
    return actor_row, Situation(
        tz=snap.tz,
        now=now,
        patients=patients,
        staff=staff,
        session_types={t: f for t, f in snap.session_types.items() if t in types},
        groups=groups,
        existing=existing,
        keep_apart=packs.data.keep_apart,
        program_capability=packs.data.program_capability,
        subject_patient=patient,
    )


def _snapshot(db: Database, session: Session, packs: PackSet, on: date) -> _Snapshot:
    """The snapshot still true at the newest audit event, or a new one."""
    newest = session.scalar(select(func.max(AuditEvent.seq)))
    with _LOCK:
        entry = _CACHE.get(db.url)
    fresh = entry is not None and entry.snapshot.packs is packs and entry.snapshot.on == on
    if entry is not None and fresh and (newest or 0) >= (entry.seen or 0):  # else: a new database
        if entry.seen == newest:
            return entry.snapshot
        since = session.scalars(
            select(AuditEvent.action).where(AuditEvent.seq > (entry.seen or 0))
        ).all()
        if all(action.startswith(APPOINTMENT_EVENT) for action in since):
            with _LOCK:
                entry.seen = newest
            return entry.snapshot
    snapshot = _Snapshot(
        packs=packs,
        tz=facility_zone(session),
        on=on,
        session_types={t.id: session_type_facts(t) for t in session.scalars(select(SessionType))},
    )
    with _LOCK:
        _CACHE[db.url] = _Entry(newest, snapshot)
    return snapshot


def _actor(session: Session, snap: _Snapshot, actor: str) -> StaffFacts:
    facts = _staff(session, snap, actor)
    return facts if facts is not None else actor_facts(session, actor, snap.packs.data)


def _staff(session: Session, snap: _Snapshot, staff_id: str) -> StaffFacts | None:
    if staff_id not in snap.staff:
        rows = _staff_rows(session, [staff_id])
        snap.supervisor[staff_id] = rows[0].supervisor_id if rows else None
        snap.staff[staff_id] = staff_facts(rows[0], snap.packs.data) if rows else None
    return snap.staff[staff_id]


def _supervisor(session: Session, snap: _Snapshot, staff_id: str) -> str | None:
    _staff(session, snap, staff_id)
    return snap.supervisor[staff_id]


def _patient(session: Session, snap: _Snapshot, patient_id: str) -> PatientFacts:
    if patient_id not in snap.patients:
        (row,) = _patient_rows(session, [patient_id])  # NotFound when there is none
        snap.groups_of[patient_id] = _groups(session, [patient_id], None, None, None)
        snap.patients[patient_id] = patient_facts(row, snap.on, snap.packs.data)
    return snap.patients[patient_id]
