"""FHIR write-back: every appointment change made in Rota reaches the EHR, through the outbox.

Where changes come from: the audit log. The booking service (the single writer of appointments)
writes one `appointment.*` event in the same transaction as every book, move, cancel and status
change, and the log is append-only and numbered, so reading the events after a stored cursor
never misses a change, whichever use case, door or job made it, and needs nothing added to any
of them. `queue_changes` (run by the `fhir_push` job every minute) turns the events since the
cursor into one "fhir" outbox row per changed appointment, and moves the cursor, in one
transaction. Appends to the log are serialized until their transaction commits (SQLite's one
writer; an advisory lock on PostgreSQL), so no event can become visible with a number below the
cursor: none is skipped. Several changes to one appointment before it is sent make one row:
the row names the appointment, and the sender sends the appointment as it is when it is sent.

How it is sent: `drain` claims the due "fhir" rows (the outbox's lease, backoff and dead
letters) and hands each appointment to the configured `Pusher` (integrations/fhir/writeback:
conditional create by Rota's identifier the first time, then update with If-Match the ETag Rota
last wrote). A 412 is a conflict — someone changed the appointment on the EHR since Rota last
wrote it: the row is dead at once, the conflict audited, the EHR's version left as it is (a
person may then choose Rota's: `overwrite`). A change made while its row was being sent is
queued again after it (never lost, never coalesced away).

Not pushed: changes the FHIR import itself made (their reason starts `exchange.IMPORT_REASON`):
they came from the EHR. Appointments loaded with a facility file are pushed on request (`rota
fhir push --from --to`). Off unless a FHIR server is configured (ROTA_FHIR_BASE_URL).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant import outbox
from assistant.access import authorize
from assistant.usecases.exchange import IMPORT_REASON, local_digest
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.facility_file.export import appointment_record
from clinic.fhir_models import FhirLink
from clinic.models import Appointment, AuditEvent, Facility, SessionType
from clinic.outbox_models import OutboxMessage
from clinic.timeutil import zone
from clinic.tokens import Caller
from clinic.versions import APPOINTMENT_EVENT
from clinic.writeback_models import FhirPushCursor

CHANNEL = "fhir"
TEMPLATE = "fhir_appointment"  # names what kind of message a row is (there are no words)
ACTOR = "rota-fhir"
PUSHED, CONFLICT, BACKLOG = "fhir.pushed", "fhir.conflict", "fhir.backlog"
OVERWRITE = "fhir.overwrite"
BATCH = 200  # rows one run of the job sends at most
CLAIM = 5  # rows claimed at once: 5 × (up to 3 requests × the timeout) stays within the lease
BUDGET_SECONDS = 45.0  # a run of the every-minute job stops taking rows after this

Json = dict[str, Any]


# --- what the sender is given and gives back ----------------------------------------------------


@dataclass(frozen=True)
class Link:
    """The Appointment Rota last wrote for this appointment on this server."""

    fhir_id: str
    version_id: str | None
    etag: str | None


@dataclass(frozen=True)
class PushItem:
    """One appointment to write: its record in the facility file's shape, the facility's
    `facility` and `session_types` (what the mapping needs for its namespace and names), and
    the link, if Rota wrote it before."""

    appointment_id: str
    record: Json
    facility: Json
    link: Link | None
    known: dict[tuple[str, str], str] = field(default_factory=dict)
    """(resource type, Rota id) → the server's logical id, for the clinicians, patients and
    room of this appointment that the server has under an id of its own (fhir_link)."""
    overwrite: bool = False
    """A person chose Rota's version over the server's (after a conflict): written If-Match
    the server's current version instead of the one Rota last wrote."""


@dataclass(frozen=True)
class Pushed:
    fhir_id: str
    version_id: str | None
    etag: str | None
    created: bool
    last_updated: str | None = None  # meta.lastUpdated, as the server wrote it


class PushConflict(Exception):
    """The EHR's appointment changed since Rota last wrote it (412), or was deleted there:
    reported, never overwritten. `server_version`: the version the EHR has now (if any)."""

    def __init__(self, message: str, server_version: str | None = None) -> None:
        super().__init__(message)
        self.server_version = server_version


class PushRejected(Exception):
    """The EHR refused the appointment (4xx): sending it again unchanged cannot help."""


class Pusher(Protocol):
    server: str
    """The server's address (what rows, links and audit events name)."""

    def __call__(self, item: PushItem) -> Pushed:
        """Write it, or raise PushConflict, PushRejected, or anything else (retried)."""


_pusher: list[Pusher] = []


def use_pusher(pusher: Pusher | None) -> None:
    """The sender the `fhir_push` job uses (set at start-up by integrations.fhir.writeback)."""
    _pusher.clear()
    if pusher is not None:
        _pusher.append(pusher)


def pusher() -> Pusher | None:
    return _pusher[0] if _pusher else None


# --- queueing ------------------------------------------------------------------------------------


def queue_changes(db: Database, server: str, now: datetime) -> int:
    """Queue one "fhir" row per appointment changed since the cursor (none already waiting to
    be sent for it), and move the cursor; how many rows were queued. The first run for a
    server only sets the cursor: what changed before write-back was switched on is sent with
    `queue_range`."""
    with db.session() as session:
        cursor = session.get(FhirPushCursor, server)
        newest = session.scalar(select(func.max(AuditEvent.seq))) or 0
        if cursor is None:
            session.add(FhirPushCursor(server=server, audit_seq=newest, updated_at=now))
            return 0
        changed: dict[str, int] = {}
        events = session.execute(
            select(AuditEvent.seq, AuditEvent.entity_id, AuditEvent.reason)
            .where(
                AuditEvent.seq > cursor.audit_seq,
                AuditEvent.seq <= newest,
                AuditEvent.action.startswith(APPOINTMENT_EVENT),
            )
            .order_by(AuditEvent.seq)
        )
        for seq, appointment_id, reason in events:
            if appointment_id and not (reason or "").startswith(IMPORT_REASON):
                changed[appointment_id] = seq
        cursor.audit_seq, cursor.updated_at = newest, now
        return _queue(session, server, changed, now)


def push_now(
    db: Database,
    caller: Caller,
    sender: Pusher,
    now: datetime,
    *,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """`rota fhir push`: queue what changed since the job last looked (and, with `start` and
    `end`, every appointment starting on those days, as a backlog), then send everything due;
    rows backing off after a failed try keep their turn. What was done, and what still waits."""
    authorize(db, caller, "export")
    queued = queue_changes(db, sender.server, now)
    first, last = start or end, end or start  # one of them alone: that one day
    if first is not None and last is not None:
        queued += queue_range(db, caller, sender.server, first, last, now)
    totals = {"sent": 0, "failed": 0, "dead": 0, "conflicts": 0}
    while True:
        counts = drain(db, now, sender)
        for k, n in counts.items():
            totals[k] += n
        if not counts["sent"] + counts["failed"] + counts["dead"]:
            break
        if counts["failed"] and not counts["sent"]:
            break  # the server is not answering: the rest wait for the outbox's retries
    waiting = status(db, sender.server)["rows"].get("pending", 0)
    return {"server": sender.server, "queued": queued, **totals, "waiting": waiting}


def overwrite(
    db: Database, caller: Caller, sender: Pusher, appointment_id: str, reason: str, now: datetime
) -> dict[str, Any]:
    """After a conflict, a person's decision that Rota's version wins: the appointment is
    written over the server's current version (If-Match that one), through the outbox like
    any other; the decision is audited (`fhir.overwrite`, with the reason)."""
    authorize(db, caller, "export")
    if not reason.strip():
        raise InvalidInput("say why Rota's version should replace the EHR's (--reason)")
    with db.session() as session:
        if session.get(Appointment, appointment_id) is None:
            raise NotFound(f"no appointment {appointment_id!r}")
        if _link(session, sender.server, appointment_id) is None:
            raise InvalidInput(
                f"appointment {appointment_id} is not on {sender.server} yet: "
                "`rota fhir push` writes it"
            )
        seq = _newest_events(session, [appointment_id])[appointment_id]
        outbox.enqueue(
            session,
            channel=CHANNEL,
            recipient=sender.server,
            template=TEMPLATE,
            context={},
            key=f"{row_key(sender.server, appointment_id, seq)}:overwrite:{now.isoformat()}",
            appointment_ids=[appointment_id],
            now=now,
            extra={
                "server": sender.server,
                "appointment": appointment_id,
                "seq": seq,
                "overwrite": True,
            },
        )
        append_event(
            session,
            actor=caller.staff_id,
            action=OVERWRITE,
            entity_type="appointment",
            entity_id=appointment_id,
            after={"server": sender.server},
            reason=reason,
        )
    return {"server": sender.server, **drain(db, now, sender)}


def queue_range(
    db: Database, caller: Caller, server: str, start: date, end: date, now: datetime
) -> int:
    """Queue every appointment starting from `start` to `end` (inclusive, facility dates)
    whose newest change has not been queued for the server before; how many were queued."""
    if end < start:
        raise InvalidInput("--to must not be before --from")
    tz = db.facility_tz()
    lo = datetime.combine(start, clock_time(0), tz)
    hi = datetime.combine(end + timedelta(days=1), clock_time(0), tz)
    with db.session() as session:
        ids = list(
            session.scalars(
                select(Appointment.id).where(Appointment.start >= lo, Appointment.start < hi)
            )
        )
        queued = _queue(session, server, _newest_events(session, ids), now)
        append_event(
            session,
            actor=caller.staff_id,
            action=BACKLOG,
            entity_type="fhir_server",
            entity_id=server[:64],
            after={"from": start.isoformat(), "to": end.isoformat(), "queued": queued},
        )
        return queued


def _newest_events(session: Session, appointment_ids: list[str]) -> dict[str, int]:
    """Each appointment's newest appointment event (0: none, loaded with the facility file)."""
    newest = {a: 0 for a in appointment_ids}
    for chunk in _chunks(appointment_ids, 500):
        found = session.execute(
            select(AuditEvent.entity_id, func.max(AuditEvent.seq))
            .where(
                AuditEvent.entity_id.in_(chunk),
                AuditEvent.action.startswith(APPOINTMENT_EVENT),
            )
            .group_by(AuditEvent.entity_id)
        )
        newest.update({a: seq for a, seq in found})
    return newest


def _queue(session: Session, server: str, changed: dict[str, int], now: datetime) -> int:
    waiting = _waiting(session, server)
    queued = 0
    for appointment_id, seq in changed.items():
        if appointment_id in waiting:
            continue  # its row sends the appointment as it is then, this change included
        queued += outbox.enqueue(
            session,
            channel=CHANNEL,
            recipient=server,
            template=TEMPLATE,
            context={},
            key=row_key(server, appointment_id, seq),
            appointment_ids=[appointment_id],
            now=now,
            extra={"server": server, "appointment": appointment_id, "seq": seq},
        )
    return queued


def row_key(server: str, appointment_id: str, seq: int) -> str:
    """One row per server, appointment and change: the same change is never queued twice."""
    digest = hashlib.sha256(server.encode()).hexdigest()[:12]
    return f"fhir:{digest}:{appointment_id}:{seq}"


def _waiting(session: Session, server: str) -> set[str]:
    """The appointments with a row still to send to `server` (due, backing off or leased)."""
    rows = session.execute(
        select(OutboxMessage.appointment_ids, OutboxMessage.recipient).where(
            OutboxMessage.channel == CHANNEL, OutboxMessage.status == "pending"
        )
    )
    return {a for ids, recipient in rows if recipient == server for a in ids}


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- sending -------------------------------------------------------------------------------------


def drain(
    db: Database,
    now: datetime,
    sender: Pusher,
    *,
    limit: int = BATCH,
    budget: float = BUDGET_SECONDS,
) -> dict[str, int]:
    """Send the due "fhir" rows: counts of sent, failed (retried later with the outbox's
    backoff), dead (after the outbox's tries, or at once on a conflict or a refusal) and
    conflicts (dead ones, audited as such). Rows are claimed a few at a time, so each is sent
    well within the outbox's lease even from a slow server (a row whose lease ran out could be
    taken by a second runner and sent twice), and a run stops taking more after `budget`
    seconds (the next run goes on)."""
    counts = {"sent": 0, "failed": 0, "dead": 0, "conflicts": 0}
    facility: Json | None = None
    started = time.monotonic()
    taken = 0
    while taken < limit and time.monotonic() - started < budget:
        claimed = outbox.claim(db, now, {CHANNEL}, limit=min(CLAIM, limit - taken))
        if not claimed:
            break
        taken += len(claimed)
        facility = _send(db, now, sender, claimed, counts, facility)
    return counts


def _send(
    db: Database,
    now: datetime,
    sender: Pusher,
    claimed: list[outbox.Claimed],
    counts: dict[str, int],
    facility: Json | None,
) -> Json | None:
    for message in claimed:
        if message.extra.get("server") != sender.server:
            outbox.settle_failed(
                db, message, now, f"queued for {message.extra.get('server')}", final="dead"
            )
            counts["dead"] += 1
            continue
        appointment_id = str(message.extra.get("appointment"))
        with db.read() as session:
            seq = _newest_events(session, [appointment_id])[appointment_id]  # before the state
            record = _record(session, appointment_id)
            facility = facility or _facility(session)
            link = _link(session, sender.server, appointment_id)
            known = _known(session, sender.server, record) if record else {}
        if record is None:
            outbox.settle_failed(db, message, now, "no such appointment", final="dead")
            counts["dead"] += 1
            continue
        try:
            item = PushItem(
                appointment_id,
                record,
                facility,
                link,
                known,
                overwrite=bool(message.extra.get("overwrite")),
            )
            pushed = sender(item)
        except PushConflict as exc:
            _record_conflict(db, sender.server, appointment_id, link, exc, now)
            outbox.settle_failed(db, message, now, f"conflict: {exc}", final="dead")
            counts["dead"] += 1
            counts["conflicts"] += 1
            continue
        except PushRejected as exc:
            outbox.settle_failed(db, message, now, f"refused: {exc}", final="dead")
            counts["dead"] += 1
            continue
        except Exception as exc:  # unavailable, timed out, anything else: tried again later
            counts[outbox.settle_failed(db, message, now, f"{type(exc).__name__}: {exc}")] += 1
            continue
        _record_pushed(db, sender.server, appointment_id, pushed, now)
        outbox.settle_sent(db, message, now, where={"fhir_id": pushed.fhir_id})
        counts["sent"] += 1
        with db.session() as session:  # changed while it was being sent: its turn comes again
            newest = _newest_events(session, [appointment_id])[appointment_id]
            if newest > seq:
                _queue(session, sender.server, {appointment_id: newest}, now)
    return facility


def _record(session: Session, appointment_id: str) -> Json | None:
    row = session.get(Appointment, appointment_id)
    if row is None:
        return None
    tz = zone(session.scalar(select(Facility.timezone).limit(1)) or "UTC")
    return appointment_record(row, tz)


def _facility(session: Session) -> Json:
    """What the mapping needs of the facility: its name and zone, and the session types'."""
    facility = session.scalar(select(Facility).limit(1))
    if facility is None:
        raise InvalidInput("there is no facility: load one with `rota load FILE`")
    return {
        "facility": {"name": facility.name, "timezone": facility.timezone},
        "session_types": [
            {"id": t.id, "name": t.name} for t in session.scalars(select(SessionType))
        ],
    }


def _link(session: Session, server: str, appointment_id: str) -> Link | None:
    """The server's Appointment for this appointment: the one Rota wrote, or the one it was
    imported from (fhir_link, shared with the import)."""
    row = session.scalar(
        select(FhirLink)
        .where(
            FhirLink.server == server,
            FhirLink.resource_type == "Appointment",
            FhirLink.rota_id == appointment_id,
            FhirLink.deleted.is_(False),
        )
        .order_by(FhirLink.synced_at.desc(), FhirLink.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return Link(row.fhir_id, row.version_id, etag_of(row.version_id))


def _known(session: Session, server: str, record: Json) -> dict[tuple[str, str], str]:
    """The server's own logical ids of the appointment's clinicians, patients and room."""
    wanted = {("Practitioner", s) for s in record.get("staff", [])} | {
        ("Patient", p) for p in record.get("patients", [])
    }
    if record.get("room"):
        wanted.add(("Location", record["room"]))
    rows = session.execute(
        select(FhirLink.resource_type, FhirLink.rota_id, FhirLink.fhir_id).where(
            FhirLink.server == server,
            FhirLink.resource_type.in_({t for t, _ in wanted}),
            FhirLink.rota_id.in_({r for _, r in wanted}),
            FhirLink.deleted.is_(False),
        )
    )
    return {(t, r): f for t, r, f in rows if (t, r) in wanted}


def etag_of(version_id: str | None) -> str | None:
    """A version's ETag as FHIR servers send and expect it (W/"3")."""
    return f'W/"{version_id}"' if version_id else None


def _record_pushed(
    db: Database, server: str, appointment_id: str, pushed: Pushed, now: datetime
) -> None:
    """The link keeps the logical id and the version written (its ETag is the next update's
    If-Match) and the record's digest as written (the import then knows the server has
    Rota's change); the audit says which appointment went to which server as which resource
    and version (never what it said)."""
    digest = local_digest(db, "appointments", appointment_id)
    with db.session() as session:
        row = session.scalar(
            select(FhirLink).where(
                FhirLink.server == server,
                FhirLink.resource_type == "Appointment",
                FhirLink.fhir_id == pushed.fhir_id,
            )
        )
        if row is None:
            row = FhirLink(server=server, resource_type="Appointment", fhir_id=pushed.fhir_id)
            session.add(row)
        row.rota_id, row.version_id = appointment_id, pushed.version_id
        row.last_updated, row.record_digest = pushed.last_updated, digest
        row.deleted, row.synced_at = False, now
        append_event(
            session,
            actor=ACTOR,
            action=PUSHED,
            entity_type="appointment",
            entity_id=appointment_id,
            after={
                "server": server,
                "resource": f"Appointment/{pushed.fhir_id}",
                "version": pushed.version_id,
                "created": pushed.created,
            },
        )


def _record_conflict(
    db: Database,
    server: str,
    appointment_id: str,
    link: Link | None,
    conflict: PushConflict,
    now: datetime,
) -> None:
    with db.session() as session:
        append_event(
            session,
            actor=ACTOR,
            action=CONFLICT,
            entity_type="appointment",
            entity_id=appointment_id,
            after={
                "server": server,
                "resource": f"Appointment/{link.fhir_id}" if link else None,
                "written_version": link.version_id if link else None,
                "server_version": conflict.server_version,
            },
            reason=str(conflict)[:500],
        )


# --- a person's view ------------------------------------------------------------------------------


def status(db: Database, server: str) -> dict[str, Any]:
    """The write-back's state for a server: rows by status, links, and the cursor."""
    with db.read() as session:
        cursor = session.get(FhirPushCursor, server)
        links = session.scalar(
            select(func.count())
            .select_from(FhirLink)
            .where(FhirLink.server == server, FhirLink.resource_type == "Appointment")
        )
        return {
            "server": server,
            "rows": outbox.counts(session, CHANNEL),
            "appointments_on_server": links or 0,
            "cursor": cursor.audit_seq if cursor else None,
        }
