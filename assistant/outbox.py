"""One outbox for everything that leaves Rota: SMS and email to patients, Slack messages to
staff, appointments written back to the EHR (FHIR).

At least once, never twice for one purpose: `enqueue` claims a message by its idempotency key
(a reminder's key names the appointment, the patient and the window; a Slack message's the
request or job run and its place in the answer), so a job that runs twice queues it once.
`claim` takes due messages (a lease, so a second worker or a crashed one never loses or doubles
them); the sender settles each (`settle_sent`, `settle_failed`): a failed try is retried with
exponential backoff, and after `MAX_ATTEMPTS` (or at once, when retrying cannot help) a message
is dead until a person retries it. Every delivery and every death is audited: recipient (masked),
channel, template, appointment ids, never the text.

Who sends: `drain` (the `outbox` job) sends SMS and email through integrations/notify; the Slack
door sends channel "slack" itself (it owns the async Web API client), right after a request is
answered and on its periodic sweep, through the same claim and settle. The messages of one Slack
request leave in order: one waits while an earlier one of its request is still owed. Channel
"fhir" (appointments written back to the EHR) is sent by assistant.fhir_writeback through the
same claim and settle.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import Patient
from clinic.outbox_models import OUTBOX_STATUSES, OutboxMessage

ACTOR = "rota-outbox"
CHANNELS = ("email", "sms", "slack", "fhir")  # fhir: assistant.fhir_writeback sends those
SLACK = "slack"
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
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Queue a message in the caller's transaction; False when `key` was queued before (the
    same reminder asked for again). `status` "refused" records a disclosure the rules refused,
    so it is judged once. `extra`: what the row keeps after sending besides who and which
    template (never words)."""
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
        extra=dict(extra) if extra is not None else None,
    )
    try:
        with session.begin_nested():  # two jobs racing: the unique key decides, the rest stays
            session.add(row)
    except IntegrityError:
        return False
    return True


# --- Slack's messages ---------------------------------------------------------------------------


@dataclass
class SlackMessage:
    """One Web API call owed to a person: `channel` None means the recipient's DM with the bot;
    `audit` (recipient staff, channel type, patients, appointments) is set when it carries
    patient information; `template` names what kind of message it is (never its words)."""

    method: str  # chat.postMessage | chat.postEphemeral | chat.update
    slack_user: str | None
    channel: str | None
    payload: dict[str, Any]
    audit: dict[str, Any] | None = None
    template: str = "slack_answer"


def owe_slack(session: Session, key: str, messages: Sequence[SlackMessage], now: datetime) -> int:
    """Queue Slack messages under `key` (a request, or a job's run and recipient) in the
    caller's transaction, in order, each under `<key>:<seq>`; how many were new (a re-run
    queues nothing twice)."""
    queued = 0
    for seq, m in enumerate(messages):
        queued += enqueue(
            session,
            channel=SLACK,
            recipient=m.slack_user or "",
            template=m.template,
            context={"payload": m.payload},
            key=f"{key}:{seq}",
            appointment_ids=(m.audit or {}).get("appointments") or (),
            now=now,
            extra={
                "request": key,
                "seq": seq,
                "method": m.method,
                "slack_channel": m.channel,
                "audit": m.audit,
            },
        )
    return queued


# --- claim, send, settle -----------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A message taken for one try (leased until settled)."""

    id: int
    key: str
    channel: str
    recipient: str
    template: str
    context: dict[str, Any]
    attempts: int
    extra: dict[str, Any]

    @property
    def request(self) -> str | None:
        """The Slack request (or job run) whose answer this is a part of."""
        return self.extra.get("request")


def drain(
    db: Database,
    now: datetime,
    channels: Mapping[str, Sender] | None = None,
    *,
    limit: int = 200,
) -> dict[str, int]:
    """Send what is due at `now`: counts of sent, failed (to be retried) and dead messages."""
    channels = senders() if channels is None else channels
    claimed = claim(db, now, set(channels) - {SLACK}, limit=limit)
    counts = {"sent": 0, "failed": 0, "dead": 0}
    for message in claimed:
        try:
            channels[message.channel](render(message))
        except Exception as exc:  # an adapter's failure is a failed try, never a crash
            counts[settle_failed(db, message, now, f"{type(exc).__name__}: {exc}")] += 1
        else:
            settle_sent(db, message, now)
            counts["sent"] += 1
    return counts


def claim(
    db: Database,
    now: datetime,
    channels: Iterable[str],
    *,
    limit: int = 200,
    request: str | None = None,
) -> list[Claimed]:
    """Take the messages due at `now` on `channels` for one try each (only `request`'s, if
    given), oldest first: each is leased for `LEASE` and its try counted. A message waits while
    an earlier one of its request is still owed and not taken with it."""
    channels = set(channels)
    if not channels:
        return []
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
        if request is not None:
            query = query.where(OutboxMessage.key.startswith(f"{request}:", autoescape=True))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        batch = list(session.scalars(query))
        if request is not None:  # the prefix is a hint; the row's own request decides
            batch = [r for r in batch if (r.extra or {}).get("request") == request]
        batch = _in_order(session, batch)
        still = _still_consented(session, [r.patient_id for r in batch if r.patient_id])
        out = []
        for row in batch:
            if row.patient_id is not None and still.get(row.patient_id) != row.channel:
                # consent revoked (or the channel changed) since it was queued: not sent
                row.status, row.context = "refused", {}
                _audit(session, row, "outbox.withheld", now, "consent withdrawn")
                continue
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            out.append(
                Claimed(
                    row.id,
                    row.key,
                    row.channel,
                    row.recipient,
                    row.template,
                    dict(row.context),
                    row.attempts,
                    dict(row.extra or {}),
                )
            )
        return out


def _in_order(session: Session, batch: list[OutboxMessage]) -> list[OutboxMessage]:
    """The batch in id order, without the messages of a request that has an earlier message
    still owed outside the batch (backing off, or leased by another sender)."""
    batch = sorted(batch, key=lambda r: r.id)
    requests = {(r.extra or {}).get("request") for r in batch} - {None}
    if not requests:
        return batch
    taken = {r.id for r in batch}
    first_waiting: dict[str, int] = {}
    earlier = session.execute(
        select(OutboxMessage.id, OutboxMessage.extra)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.channel == SLACK,
            OutboxMessage.id < batch[-1].id,
        )
        .order_by(OutboxMessage.id)
    )
    for mid, extra in earlier:
        request = (extra or {}).get("request")
        if request in requests and mid not in taken and request not in first_waiting:
            first_waiting[request] = mid
    return [
        r for r in batch if r.id < first_waiting.get((r.extra or {}).get("request") or "", r.id + 1)
    ]


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


def settle_sent(
    db: Database, message: Claimed, now: datetime, *, where: Mapping[str, Any] | None = None
) -> None:
    """Delivered: the row keeps who, when and (`where`: a Slack message's channel and ts)
    where; the words are dropped. Audited, and a Slack message carrying patient information
    is audited as that disclosure too (PRIV-07, PRIV-10)."""
    with db.session() as session:
        row = session.get(OutboxMessage, message.id)
        if row is None or row.status == "sent":
            return
        row.status, row.sent_at, row.context, row.last_error = "sent", now, {}, None
        if where:
            row.extra = {**(row.extra or {}), **where}
        _audit(session, row, "outbox.sent", now)
        if row.channel == SLACK and (row.extra or {}).get("audit"):
            _slack_disclosure(session, row)


def settle_failed(
    db: Database, message: Claimed, now: datetime, error: str, *, final: str | None = None
) -> str:
    """A failed try: "failed" (due again after `backoff`), or "dead" after `MAX_ATTEMPTS` tries
    or at once when `final` is "dead" (retrying cannot help: a person may fix it and retry);
    `final` "refused": the rules withheld it, its words are dropped and it is never sent."""
    with db.session() as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None
        row.last_error = error[:200]
        if final == "refused":
            row.status, row.context = "refused", {}
            _audit(session, row, "outbox.withheld", now, row.last_error)
            return "refused"
        if final == "dead" or row.attempts >= MAX_ATTEMPTS:
            row.status = "dead"
            _audit(session, row, "outbox.dead", now, row.last_error)
            return "dead"
        row.next_attempt_at = now + backoff(row.attempts)
        return "failed"


def release(db: Database, messages: Iterable[Claimed], now: datetime) -> None:
    """Claimed but not tried (an earlier message of their request failed): due again, in
    their turn, with the try not counted."""
    with db.session() as session:
        for message in messages:
            row = session.get(OutboxMessage, message.id)
            if row is not None and row.status == "pending":
                row.attempts = max(0, row.attempts - 1)
                row.next_attempt_at = now


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … after the 1st, 2nd, 3rd failed try; never more than an hour."""
    return min(timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts - 1)), BACKOFF_CAP)


def _audit(
    session: Session, row: OutboxMessage, action: str, now: datetime, reason: str | None = None
) -> None:
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
        reason=reason,
    )


def _slack_disclosure(session: Session, row: OutboxMessage) -> None:
    """A Slack message that carried patient information: to whom, where, which patients and
    appointments (never the words)."""
    extra = row.extra or {}
    channel, ts = extra.get("slack_channel"), extra.get("ts")
    append_event(
        session,
        actor="rota-slack",
        action="slack.message",
        entity_type="slack_message",
        entity_id=f"{channel}:{ts}" if ts else channel,
        after={
            **extra["audit"],
            "slack_user": row.recipient or None,
            "channel": channel,
            "method": extra.get("method"),
            "request": extra.get("request"),
        },
        reason="message carrying patient information (PRIV-07, PRIV-10)",
    )


def mask(recipient: str) -> str:
    """Enough of an address to tell which one it was, not enough to use it."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return "***" + recipient[-4:]


# --- words -------------------------------------------------------------------------------------


def render(message: Claimed | OutboxMessage) -> Outgoing:
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


def counts(session: Session, channel: str) -> dict[str, int]:
    """How many messages of a channel are in each status."""
    found = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.channel == channel)
        .group_by(OutboxMessage.status)
    )
    return {status: n for status, n in found}


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
