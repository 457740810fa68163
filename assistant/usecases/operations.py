"""What an operator's tools ask of a running Rota: is the database ready for this program, and
the figures every process must report alike (read from the database, never from one process's
memory): the outbox's depth and its oldest due message's age, and the oldest due job's lag.

Nothing here names a patient or a staff member: counts and ages only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from assistant.jobs import runs
from clinic import migrate, network
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
    newer program migrated it (expand/contract keeps this one working); none: no Rota schema.
    For a facility of a network, the network schema's state when that is the one to act on."""
    migration: str | None
    """The database's migration (None when it has none or does not answer)."""
    needs: str
    """This program's newest migration."""
    reason: str | None
    """Why not ready, in words an operator acts on (None when ready)."""
    network_migration: str | None = None
    """A facility of a network: the `network` schema's migration."""
    network_needs: str | None = None
    """A facility of a network: this program's newest migration of the `network` schema."""


def readiness(db: Database) -> Readiness:
    """Whether this process may be sent requests: the database answers and its schema is the
    one this program was written for (or a newer one an expand step made); for a facility of a
    network, its schema and the network's both."""
    needs = migrate.head()
    upgrade = "rota db upgrade" + (f" --facility {db.facility}" if db.facility else "")
    try:
        at = migrate.current(db.engine, db.schema)
        there = network.network_migration(db.engine) if db.facility else None
    except SQLAlchemyError as exc:
        # The driver's words name hosts and ports: for the log, not for an unauthenticated caller.
        log.warning("readiness: the database does not answer (%s)", exc.__class__.__name__)
        return Readiness(
            False, "unreachable", None, needs, "the database does not answer (see the server log)"
        )
    schema, reason = _state(
        at, needs, migrate.MIGRATIONS, "database", "the database has no Rota schema", upgrade
    )
    if db.facility is None:
        return Readiness(reason is None, schema, at, needs, reason)
    network_needs = migrate.head(migrate.NETWORK_MIGRATIONS)
    if reason is None:  # the facility's schema is fine: the network's decides
        schema_there, reason = _state(
            there,
            network_needs,
            migrate.NETWORK_MIGRATIONS,
            "network schema",
            "the network schema has no migration yet",
            upgrade,
        )
        schema = schema_there if schema_there != "current" else schema
    return Readiness(reason is None, schema, at, needs, reason, there, network_needs)


def _state(
    at: str | None, needs: str, location: Path, name: str, missing: str, upgrade: str
) -> tuple[Schema, str | None]:
    """One set of migrations' state, and why it is not ready (None: ready)."""
    if at == needs:
        return "current", None
    if at is None:
        return "none", f"{missing}: run `{upgrade}`"
    if migrate.known(at, location):
        return "older", f"{name} at migration {at}, this program needs {needs}: run `{upgrade}`"
    return "newer", None


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
