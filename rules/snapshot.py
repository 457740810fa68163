"""A per-facility snapshot of who people are, for the role check every door makes on every request.

`build_situation` reads a decision's facts afresh (about 30 queries); a role check ("may this
caller book for this patient?") asks the same about the same people all day long. The people's
facts (staff, patients, groups, session types) change only through events other than
appointment changes (a facility load, an absence, an admission, an enrolment), each of which
writes an audit event; so the snapshot stays true until such an event appears (the facility's
version, `clinic.versions`). The one fact of a
role check that an appointment change moves, the patient's appointments, is read fresh.

`role_situation` answers exactly what `build_situation(actor=..., patient=...)` answers (a test
holds them equal); it is for read-only checks outside a write transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.db import Database
from clinic.errors import NotFound
from clinic.models import Patient, SessionType, Staff
from clinic.versions import EventRef, read_versions

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
from rules.model import (
    AppointmentFacts,
    GroupFacts,
    PatientFacts,
    SessionTypeFacts,
    Situation,
    StaffFacts,
)


@dataclass(frozen=True)
class _Snapshot:
    """The facility's people as of one audit event."""

    packs: PackSet
    on: date  # patients' facts (age) are as of this day
    tz: ZoneInfo
    session_types: dict[str, SessionTypeFacts]
    staff: dict[str, StaffFacts]
    supervisor: dict[str, str | None]
    patients: dict[str, PatientFacts]
    groups_of: dict[str, dict[str, GroupFacts]]  # patient → the groups they belong to


@dataclass(frozen=True)
class _Entry:
    version: EventRef | None  # the facility's version the snapshot is true at
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
    actor_row, situations = role_situations(db, packs, actor=actor, patients=[patient], now=now)
    return actor_row, situations[patient]


def role_situations(
    db: Database,
    packs: PackSet,
    *,
    actor: str,
    patients: Sequence[str | None],
    now: datetime | None = None,
) -> tuple[StaffFacts, dict[str | None, Situation]]:
    """The situations of one actor's role checks about several patients (None: about no
    patient), from one read of their appointments: a caseload asks about every patient."""
    now = now or datetime.now(UTC)
    pids = list(dict.fromkeys(p for p in patients if p))
    with db.read() as session:
        snap = _snapshot(db, session, packs, now.date())
        missing = [pid for pid in pids if pid not in snap.patients]
        if missing:
            raise NotFound(f"no patient with id {missing[0]!r}")
        actor_row = snap.staff.get(actor) or actor_facts(session, actor, packs.data)
        everyone = _existing(session, pids, exclude=None)
    situations: dict[str | None, Situation] = {}
    for patient in dict.fromkeys(patients):
        existing = (
            tuple(a for a in everyone if patient in a.patients)
            if patient and len(pids) > 1
            else (everyone if patient else ())
        )
        situations[patient] = _situation(snap, packs, actor, actor_row, patient, existing, now)
    return actor_row, situations


def _situation(
    snap: _Snapshot,
    packs: PackSet,
    actor: str,
    actor_row: StaffFacts,
    patient: str | None,
    existing: tuple[AppointmentFacts, ...],
    now: datetime,
) -> Situation:
    pids = [patient] if patient else []
    patients = {pid: snap.patients[pid] for pid in pids}
    staff_ids = {actor} | {p.primary_clinician for p in patients.values() if p.primary_clinician}
    staff_ids |= {s for sid in staff_ids if (s := snap.supervisor.get(sid))}
    staff = {sid: snap.staff[sid] for sid in staff_ids if sid in snap.staff}
    staff.setdefault(actor_row.id, actor_row)
    types = {a.session_type for a in existing}
    return Situation(
        tz=snap.tz,
        now=now,
        patients=patients,
        staff=staff,
        session_types={t: f for t, f in snap.session_types.items() if t in types},
        groups={gid: g for pid in pids for gid, g in snap.groups_of[pid].items()},
        existing=existing,
        keep_apart=packs.data.keep_apart,
        program_capability=packs.data.program_capability,
        subject_patient=patient,
    )


def _snapshot(db: Database, session: Session, packs: PackSet, on: date) -> _Snapshot:
    """The snapshot still true at the newest event that changed more than appointments."""
    version = read_versions(db, session).facility
    with _LOCK:
        entry = _CACHE.get(db.key)
    if (
        entry is not None
        and entry.version == version
        and entry.snapshot.packs is packs
        and entry.snapshot.on == on
    ):
        return entry.snapshot
    snapshot = _read(session, packs, on)
    with _LOCK:
        _CACHE[db.key] = _Entry(version, snapshot)
    return snapshot


def _read(session: Session, packs: PackSet, on: date) -> _Snapshot:
    """Every staff member, patient and group, in a handful of queries."""
    staff = _staff_rows(session, session.scalars(select(Staff.id)).all())
    patients = _patient_rows(session, session.scalars(select(Patient.id)).all())
    groups = _groups(session, [p.id for p in patients], None, None, None)
    return _Snapshot(
        packs=packs,
        on=on,
        tz=facility_zone(session),
        session_types={t.id: session_type_facts(t) for t in session.scalars(select(SessionType))},
        staff={s.id: staff_facts(s, packs.data) for s in staff},
        supervisor={s.id: s.supervisor_id for s in staff},
        patients={p.id: patient_facts(p, on, packs.data) for p in patients},
        groups_of={
            p.id: {gid: g for gid, g in groups.items() if p.id in g.members} for p in patients
        },
    )
