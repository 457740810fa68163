"""What an operator's tools ask of a running Rota: is the database ready for this program, and
the figures every process must report alike (read from the database, never from one process's
memory): the outbox's depth and its oldest due message's age, and the oldest due job's lag.

Nothing here names a patient or a staff member: counts and ages only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from assistant.jobs import runs
from clinic import migrate
from clinic.db import Database
from clinic.outbox_models import OutboxMessage
from clinic.timeutil import now_utc

log = logging.getLogger("rota.operations")

Schema = Literal["current", "older", "newer", "none", "unreachable"]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    schema: Schema
    """current: at this program's newest migration; older: migrations are pending; newer: a
    newer program migrated it (expand/contract keeps this one working); none: no Rota schema."""
    migration: str | None
    """The database's migration (None when it has none or does not answer)."""
    needs: str
    """This program's newest migration."""
    reason: str | None
    """Why not ready, in words an operator acts on (None when ready)."""


def readiness(db: Database) -> Readiness:
    """Whether this process may be sent requests: the database answers and its schema is the
    one this program was written for (or a newer one an expand step made)."""
    needs = migrate.head()
    try:
        at = migrate.current(db.engine, db.schema)
    except SQLAlchemyError as exc:
        # The driver's words name hosts and ports: for the log, not for an unauthenticated caller.
        log.warning("readiness: the database does not answer (%s)", exc.__class__.__name__)
        return Readiness(
            False, "unreachable", None, needs, "the database does not answer (see the server log)"
        )
    if at == needs:
        return Readiness(True, "current", at, needs, None)
    if at is None:
        return Readiness(
            False, "none", None, needs, "the database has no Rota schema: run `rota db upgrade`"
        )
    if migrate.known(at):
        return Readiness(
            False,
            "older",
            at,
            needs,
            f"database at migration {at}, this program needs {needs}: run `rota db upgrade`",
        )
    return Readiness(True, "newer", at, needs, None)


@dataclass(frozen=True)
class Gauges:
    outbox_pending: int
    """Messages waiting to be sent (due now or later)."""
    outbox_oldest_due_seconds: float
    """How long the oldest message that is due has waited past its time (0: none due)."""
    job_lag_seconds: float
    """How long the oldest due job run has waited (0: none due)."""


def gauges(db: Database, now: datetime | None = None) -> Gauges:
    at = now or now_utc()
    with db.read() as session:
        pending = session.scalar(select(func.count()).where(OutboxMessage.status == "pending")) or 0
        oldest = session.scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= at
            )
        )
    waited = 0.0
    if oldest is not None:
        # SQLite hands back naive UTC; PostgreSQL an aware moment.
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=at.tzinfo)
        waited = max(0.0, (at - oldest).total_seconds())
    return Gauges(pending, waited, runs.lag(db, at).total_seconds())
