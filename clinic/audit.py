"""The audit log: append-only (the database rejects UPDATE and DELETE) and hash-chained.

Each event's hash covers its fields and the previous event's hash, so changing, removing or
re-ordering any event breaks every link after it. `verify` finds the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from clinic.models import AuditEvent
from clinic.timeutil import now_utc

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 7_270_001  # one advisory lock id: appends are serialized on PostgreSQL
_PG_AUDIT_LOCK_SQL = text(
    "SELECT CASE WHEN current_schema() = 'public' THEN pg_advisory_xact_lock(:k) "
    "ELSE pg_advisory_xact_lock(:k, hashtext(current_schema())) END"
)


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 over the previous hash and every field of the event but its own hash."""
    fields = {
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "decision": event.decision,
    }
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    decision: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one event to the chain, inside the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # One chain per schema: a network's facilities (clinic.network) each lock their own,
        # so they neither queue behind each other nor deadlock one unit of work spanning two
        # (a transfer); the public schema keeps the lock it always had.
        session.execute(_PG_AUDIT_LOCK_SQL, {"k": _PG_AUDIT_LOCK})
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    prev_hash = prev or GENESIS
    # JSON round trip so the hash covers exactly what the database will store.
    before, after, decision = (
        json.loads(_canonical(v)) if v is not None else None for v in (before, after, decision)
    )
    at = (at or now_utc()).astimezone(UTC)
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
        decision=decision,
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    ok: bool
    broken_at: int | None = None
    problem: str | None = None


def iter_events(session: Session, entity_id: str | None = None) -> Iterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    yield from session.scalars(query.execution_options(yield_per=1000))


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in order; report the first event that does not match."""
    prev_hash = GENESIS
    count = 0
    for event in iter_events(session):
        count += 1
        if event.prev_hash != prev_hash:
            return ChainReport(
                count,
                False,
                event.seq,
                "its link to the previous event is broken (an event was removed or reordered)",
            )
        expected = event_hash(prev_hash, event)
        if expected != event.hash:
            return ChainReport(
                count, False, event.seq, "its content was changed after it was written"
            )
        prev_hash = event.hash
    return ChainReport(count, True)
