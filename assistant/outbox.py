"""One outbox for everything that leaves Rota for a patient (SMS, email).

At least once, never twice for one purpose: `enqueue` claims a message by its idempotency key
(a reminder's key names the appointment, the patient and the window), so a job that runs twice
queues it once. `drain` claims due messages (a lease, so a second worker or a crashed one never
loses or doubles them), sends each through its channel's adapter (integrations/notify), and
retries with exponential backoff; after `MAX_ATTEMPTS` a message is dead until a person retries
it. Every delivery and every death is audited: recipient, channel, template, appointment ids,
never the text.

Slack keeps its own ordered outbox (assistant/slack_store): its messages answer one request in
sequence and carry Block Kit, which this one does not model.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import Patient
from clinic.outbox_models import OUTBOX_STATUSES, OutboxMessage

ACTOR = "rota-outbox"
CHANNELS = ("email", "sms")
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=5)  # a claimed message not settled by then is someone else's again
TEMPLATES = Path(__file__).resolve().parents[1] / "prompts" / "notices"


@dataclass(frozen=True)
class Outgoing:
    """One rendered message, as an adapter sends it."""

    key: str
    channel: str
    recipient: str
    subject: str
    body: str


class Sender(Protocol):
    def __call__(self, message: Outgoing) -> None:
        """Send it or raise (any exception is a failed try)."""


_senders: dict[str, Sender] = {}


def use_senders(senders: Mapping[str, Sender]) -> None:
    """The channel adapters the drain job uses (set once at start-up by the door that runs
    jobs: integrations.notify.configure)."""
    _senders.clear()
    _senders.update(senders)


def senders() -> dict[str, Sender]:
    return dict(_senders)


# --- enqueue -----------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    template: str,
    context: Mapping[str, Any],
    key: str,
    appointment_ids: Sequence[str] = (),
    patient: str | None = None,
    now: datetime,
    status: str = "pending",
) -> bool:
    """Queue a message in the caller's transaction; False when `key` was queued before (the
    same reminder asked for again). `status` "refused" records a disclosure the rules refused,
    so it is judged once."""
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return False
    row = OutboxMessage(
        key=key,
        channel=channel,
        recipient=recipient,
        patient_id=patient,
        template=template,
        context=dict(context) if status == "pending" else {},
        appointment_ids=list(appointment_ids),
        status=status,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():  # two jobs racing: the unique key decides, the rest stays
            session.add(row)
    except IntegrityError:
        return False
    return True


# --- drain -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    channel: str
    recipient: str
    template: str
    context: dict[str, Any]
    attempts: int


def drain(
    db: Database,
    now: datetime,
    channels: Mapping[str, Sender] | None = None,
    *,
    limit: int = 200,
) -> dict[str, int]:
    """Send what is due at `now`: counts of sent, failed (to be retried) and dead messages."""
    channels = senders() if channels is None else channels
    claimed = _claim(db, now, limit, set(channels))
    counts = {"sent": 0, "failed": 0, "dead": 0}
    for message in claimed:
        try:
            channels[message.channel](render(message))
        except Exception as exc:  # an adapter's failure is a failed try, never a crash
            counts[_failed(db, message, now, f"{type(exc).__name__}: {exc}")] += 1
        else:
            _sent(db, message, now)
            counts["sent"] += 1
    return counts


def _claim(db: Database, now: datetime, limit: int, channels: set[str]) -> list[_Claimed]:
    with db.session() as session:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.channel.in_(channels),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        out = []
        batch = list(session.scalars(query))
        still = _still_consented(session, [r.patient_id for r in batch if r.patient_id])
        for row in batch:
            if row.patient_id is not None and still.get(row.patient_id) != row.channel:
                # consent revoked (or the channel changed) since it was queued: not sent
                row.status, row.context = "refused", {}
                _audit(session, row, "outbox.withheld", now)
                continue
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            out.append(
                _Claimed(
                    row.id,
                    row.key,
                    row.channel,
                    row.recipient,
                    row.template,
                    dict(row.context),
                    row.attempts,
                )
            )
        return out


def _still_consented(session: Session, patients: list[str]) -> dict[str, str]:
    """Each patient's chosen channel, if they still consent to reminders."""
    if not patients:
        return {}
    found = session.execute(select(Patient.id, Patient.contact).where(Patient.id.in_(patients)))
    return {
        pid: str(contact.get("channel"))
        for pid, contact in found
        if contact and contact.get("consent_reminders")
    }


def _sent(db: Database, message: _Claimed, now: datetime) -> None:
    with db.session() as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None
        row.status, row.sent_at, row.context, row.last_error = "sent", now, {}, None
        _audit(session, row, "outbox.sent", now)


def _failed(db: Database, message: _Claimed, now: datetime, error: str) -> str:
    with db.session() as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None
        row.last_error = error[:200]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "dead"
            _audit(session, row, "outbox.dead", now)
            return "dead"
        row.next_attempt_at = now + backoff(row.attempts)
        return "failed"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … after the 1st, 2nd, 3rd failed try; never more than an hour."""
    return min(timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts - 1)), BACKOFF_CAP)


def _audit(session: Session, row: OutboxMessage, action: str, now: datetime) -> None:
    append_event(
        session,
        actor=ACTOR,
        action=action,
        entity_type="outbox_message",
        entity_id=str(row.id),
        after={
            "recipient": mask(row.recipient),
            "patient": row.patient_id,
            "channel": row.channel,
            "template": row.template,
            "appointments": list(row.appointment_ids),
            "attempts": row.attempts,
        },
        reason={"outbox.dead": row.last_error, "outbox.withheld": "consent withdrawn"}.get(action),
    )


def mask(recipient: str) -> str:
    """Enough of an address to tell which one it was, not enough to use it."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return "***" + recipient[-4:]


# --- words -------------------------------------------------------------------------------------


def render(message: _Claimed | OutboxMessage) -> Outgoing:
    subject, body = template_text(message.template)
    context = {k: str(v) for k, v in message.context.items()}
    return Outgoing(
        key=message.key,
        channel=message.channel,
        recipient=message.recipient,
        subject=string.Template(subject).safe_substitute(context),
        body=string.Template(body).safe_substitute(context).strip(),
    )


def template_text(name: str) -> tuple[str, str]:
    """(subject, body) of a template: the facility's own (ROTA_TEMPLATES_DIR) or Rota's."""
    folders = [Path(d) for d in [os.environ.get("ROTA_TEMPLATES_DIR")] if d] + [TEMPLATES]
    for folder in folders:
        path = folder / f"{name}.txt"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            first, _, rest = text.partition("\n")
            if first.lower().startswith("subject:"):
                return first.split(":", 1)[1].strip(), rest
            return "", text
    raise NotFound(f"no message template {name!r}")


# --- a person's view ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageView:
    id: int
    key: str
    channel: str
    recipient: str
    patient: str | None
    template: str
    appointments: tuple[str, ...]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def view(row: OutboxMessage) -> MessageView:
    return MessageView(
        id=row.id,
        key=row.key,
        channel=row.channel,
        recipient=mask(row.recipient),
        patient=row.patient_id,
        template=row.template,
        appointments=tuple(row.appointment_ids),
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def rows(session: Session, statuses: Iterable[str], limit: int) -> list[MessageView]:
    statuses = list(statuses)
    unknown = [s for s in statuses if s not in OUTBOX_STATUSES]
    if unknown:
        raise InvalidInput(
            f"unknown status {unknown[0]!r}; use one of {', '.join(OUTBOX_STATUSES)}"
        )
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if statuses:
        query = query.where(OutboxMessage.status.in_(statuses))
    return [view(r) for r in session.scalars(query)]


def revive(session: Session, message_id: int, now: datetime, actor: str) -> MessageView:
    """A dead message back in the queue, due now, with its tries counted afresh."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise NotFound(f"no outbox message {message_id}")
    if row.status != "dead":
        raise InvalidInput(
            f"message {message_id} is {row.status}; only a dead message can be retried",
            problems=[f"$.id: message {message_id} is {row.status}, not dead"],
        )
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    append_event(
        session,
        actor=actor,
        action="outbox.retry",
        entity_type="outbox_message",
        entity_id=str(row.id),
        after={"channel": row.channel, "template": row.template, "patient": row.patient_id},
    )
    return view(row)
