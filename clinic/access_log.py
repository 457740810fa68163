"""The access log (HIPAA §164.312(b)): every read of a patient's information — who, which
patient, through which door, what they looked at, when, and whether it was allowed, refused or
an emergency access ("break the glass", with its reason).

Append-only like the audit log (migration 0018: the database rejects UPDATE and DELETE), but a
table of its own: the audit log records changes and its newest event is every cache's version
(`clinic.versions`), so a read must not write there.

Cost. The rows of one answer go in one INSERT statement, in a short transaction of its own,
written before the answer leaves (synchronously): nothing is lost when a process dies, and a
test or the CLI sees the rows at once without a flush. A use case that reads through several
others (the patient page: the record, then the agenda) opens `batch(db)` so that all its rows
are one INSERT. bench/access_log.py measures what it adds to a patient read.

`detail` holds ids and field names only, never a name, a note or a date of birth.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clinic.errors import InvalidInput
from clinic.models import AccessEvent
from clinic.timeutil import now_utc
from clinic.tokens import Caller

if TYPE_CHECKING:
    from clinic.db import Database

ALLOWED, DENIED, BREAK_GLASS = "allowed", "denied", "break_glass"
OUTCOMES = (ALLOWED, DENIED, BREAK_GLASS)
DOORS = ("cli", "http", "fhir", "web", "slack", "sms", "job")
"""Where a caller speaks from (`Caller.door`)."""

# What was read (the `action` of a row; a refusal names the permission it asked for instead).
PATIENT_VIEW = "patient.view"
SCHEDULE_VIEW = "schedule.view"
SLOTS_SEARCH = "slots.search"
REPORT_VIEW = "report.view"
FHIR_READ = "fhir.read"
SLACK_DM = "slack.dm"
EXPORT = "export"
CALENDAR_FEED = "calendar.feed"


@dataclass
class _Batch:
    db: Database
    rows: list[dict[str, Any]] = field(default_factory=list)
    seen: set[tuple[Any, ...]] = field(default_factory=set)


_BATCH: ContextVar[_Batch | None] = ContextVar("rota_access_batch", default=None)


def _row(
    caller: Caller,
    action: str,
    patient: str | None,
    outcome: str,
    reason: str | None,
    detail: dict[str, Any] | None,
    at: datetime,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": caller.staff_id,
        "actor_role": caller.role or "unknown",
        "door": caller.door,
        "action": action,
        "patient_id": patient,
        "outcome": outcome,
        "reason": reason,
        "detail": detail,
    }


def _write(db: Database, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    # The engine, not db.session(): this transaction changes nothing a cache holds, so it must
    # not mark the request's versions stale (clinic.versions). One statement for all the rows,
    # compiled once and cached (a literal multi-row VALUES is compiled anew for every count of
    # rows: 5-10x slower measured); SQLAlchemy sends it as one executemany (SQLite) or batched
    # multi-row INSERTs (psycopg's insertmanyvalues).
    with db.engine.begin() as connection:
        connection.execute(insert(AccessEvent), rows)


def record_reads(
    db: Database,
    caller: Caller,
    action: str,
    patients: Iterable[str],
    *,
    outcome: str = ALLOWED,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One row per patient whose information the caller was shown (or refused, or opened in
    an emergency). Patients repeated in `patients` are one row. Inside `batch(db)` the rows
    wait for the batch's one INSERT; otherwise they are written now."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown access outcome {outcome!r}")
    at = now_utc()
    rows = [_row(caller, action, p, outcome, reason, detail, at) for p in dict.fromkeys(patients)]
    current = _BATCH.get()
    if current is None or current.db is not db:
        _write(db, rows)
        return
    for row in rows:
        key = (row["actor"], row["door"], row["action"], row["patient_id"], row["outcome"])
        if key not in current.seen:
            current.seen.add(key)
            current.rows.append(row)


def record_denied(
    db: Database, caller: Caller, action: str, patient: str, reason: str | None = None
) -> None:
    """A refused attempt at a patient's information or appointments (written at once, even
    inside a batch the refusal is about to abandon)."""
    _write(db, [_row(caller, action, patient, DENIED, reason, None, now_utc())])


def record_break_glass(
    db: Database,
    caller: Caller,
    patient: str,
    reason: str,
    *,
    action: str = "patient.view",
    detail: dict[str, Any] | None = None,
) -> None:
    """An emergency access outside the caller's usual rights: allowed, and kept with the
    reason the person gave (required) for the clinical director's review."""
    if not reason or not reason.strip():
        raise InvalidInput("an emergency access needs a reason: say why you open this record")
    record_reads(
        db, caller, action, [patient], outcome=BREAK_GLASS, reason=reason.strip(), detail=detail
    )


@contextmanager
def batch(db: Database) -> Iterator[None]:
    """Every read recorded inside goes in one INSERT when the block ends (nested: the outermost
    batch writes). A block that fails writes what was read before the failure."""
    if _BATCH.get() is not None:
        yield
        return
    current = _Batch(db)
    token = _BATCH.set(current)
    try:
        yield
    finally:
        _BATCH.reset(token)
        _write(db, current.rows)


def accesses(
    session: Session,
    patient: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[AccessEvent]:
    """Every recorded access to one patient's information in [start, end), oldest first."""
    query = select(AccessEvent).where(AccessEvent.patient_id == patient)
    if start is not None:
        query = query.where(AccessEvent.at >= start)
    if end is not None:
        query = query.where(AccessEvent.at < end)
    return list(session.scalars(query.order_by(AccessEvent.at, AccessEvent.id)))
