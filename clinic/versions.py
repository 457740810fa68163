"""How far the facility has changed: the audit log as the version of every per-process cache.

Every change writes one audit event, so the newest event says whether something built earlier is
still true. Caches care about two versions: the newest event of all, and the newest event that
changed anything but appointments (a facility load, an absence, a proposal applied) — the
people's facts, the roster and the slow half of a solver problem change only with the second.
An event is named by its number *and* its hash: a database made anew at the same URL numbers its
events from 1 again, but never repeats a hash.

A request reads the versions once (`one_read_per_request`); a write through the same process
in that request makes the next read fresh.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from clinic.models import AuditEvent

if TYPE_CHECKING:
    from clinic.db import Database

APPOINTMENT_EVENT = "appointment."
"""Audit actions that change one appointment (book, cancel, move, set_status); the event's
entity is the appointment."""

UNCHANGING_EVENTS = (
    "disclosure",
    "llm_call",
    "slack.",
    "token.",
    "staff.slack_",
    "patient.view",
    "proposal.create",
    "outbox.",
    "fhir.pushed",
    "fhir.conflict",
    "fhir.backlog",
    "fhir.overwrite",
    "ical.",
    "facility.export",
)
"""Audit actions (prefixes) that record something said or granted and change no fact a cache
holds: no person, room, rule, absence or appointment (a proposal made changes nothing until it
is applied)."""


@dataclass(frozen=True)
class EventRef:
    """One audit event: its number and its hash."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Versions:
    newest: EventRef | None
    """The newest event (None: an empty log)."""
    facility: EventRef | None
    """The newest event that changed anything but appointments."""


def _changes_facility(action: str) -> bool:
    return not action.startswith((APPOINTMENT_EVENT, *UNCHANGING_EVENTS))


_KNOWN: dict[str, Versions] = {}
"""The versions last read, per database (URL and facility, `Database.key`): a newer read only looks at the events since."""
_KNOWN_LOCK = threading.Lock()
_PINNED: ContextVar[dict[str, Versions] | None] = ContextVar("rota_versions", default=None)


def read_versions(db: Database, session: Session | None = None) -> Versions:
    """The versions now (within `one_read_per_request`, the ones read first in this request)."""
    pinned = _PINNED.get()
    if pinned is not None and db.key in pinned:
        return pinned[db.key]
    if session is None:
        with db.read() as own:
            versions = _read(db.key, own)
    else:
        versions = _read(db.key, session)
    if pinned is not None:
        pinned[db.key] = versions
    return versions


@contextmanager
def one_read_per_request() -> Iterator[None]:
    """Within this block, `read_versions` reads each database (URL and facility) once."""
    token = _PINNED.set({})
    try:
        yield
    finally:
        _PINNED.reset(token)


def written(db: Database) -> None:
    """This process just changed the database: the request's next read is fresh."""
    pinned = _PINNED.get()
    if pinned is not None:
        pinned.pop(db.key, None)


def _read(url: str, session: Session) -> Versions:
    top = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    if top is None:
        return Versions(None, None)
    newest = EventRef(top.seq, top.hash)
    with _KNOWN_LOCK:
        known = _KNOWN.get(url)
    if known is not None and known.newest == newest:
        return known
    since = _events_after(session, known.newest) if known and known.newest else None
    if since is None:  # nothing known yet, or a log that does not continue the one known
        facility = _newest_facility_event(session)
    else:
        facility = known.facility if known else None
        for row in since:
            if _changes_facility(row.action):
                facility = EventRef(row.seq, row.hash)
    versions = Versions(newest, facility)
    with _KNOWN_LOCK:
        _KNOWN[url] = versions
    return versions


def _newest_facility_event(session: Session) -> EventRef | None:
    quiet = (APPOINTMENT_EVENT, *UNCHANGING_EVENTS)
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(~or_(*(AuditEvent.action.startswith(prefix) for prefix in quiet)))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return EventRef(row.seq, row.hash) if row else None


def _events_after(session: Session, seen: EventRef, upto: int | None = None) -> list[Row] | None:
    """The events after `seen` (up to `upto`), or None when the log does not hold `seen`."""
    query = select(AuditEvent.seq, AuditEvent.hash, AuditEvent.action, AuditEvent.entity_id).where(
        AuditEvent.seq >= seen.seq
    )
    if upto is not None:
        query = query.where(AuditEvent.seq <= upto)
    rows = list(session.execute(query.order_by(AuditEvent.seq)))
    if not rows or EventRef(rows[0].seq, rows[0].hash) != seen:
        return None
    return rows[1:]


def appointments_changed(session: Session, since: EventRef, upto: EventRef) -> set[str] | None:
    """The appointments changed by the events after `since` up to `upto`, or None when anything
    else changed in between (or the log does not hold `since`)."""
    rows = _events_after(session, since, upto.seq)
    if rows is None:
        return None
    changed: set[str] = set()
    for row in rows:
        if _changes_facility(row.action):
            return None
        if row.action.startswith(APPOINTMENT_EVENT) and row.entity_id:
            changed.add(row.entity_id)
    return changed
