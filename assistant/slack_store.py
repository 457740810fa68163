"""The inbox (claimed on receipt, so a retried event or a double click acts once, and work
survives a restart) and the outbox (what the bot owes people, sent with retries).

Message text is kept only until it is answered or sent: the rows then keep who, where and
when, never the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.db import Database
from clinic.slack_models import SlackInbox, SlackOutbox
from clinic.timeutil import now_utc

ACTOR = "rota-slack"


@dataclass(frozen=True)
class Job:
    key: str
    kind: str
    slack_user: str
    channel: str | None
    payload: dict[str, Any]
    attempts: int


@dataclass
class Outgoing:
    """One Web API call to make: `channel` None means the recipient's DM with the bot."""

    method: str
    slack_user: str | None
    channel: str | None
    payload: dict[str, Any]
    audit: dict[str, Any] | None = None


@dataclass(frozen=True)
class Owed:
    id: int
    inbox_key: str
    method: str
    slack_user: str | None
    channel: str | None
    payload: dict[str, Any]
    audit: dict[str, Any] | None
    attempts: int


def refused(db: Database, slack_user: str, kind: str, channel_type: str) -> None:
    """Audit a request from a Slack user Rota does not know (never its words)."""
    with db.session() as session:
        append_event(
            session,
            actor=ACTOR,
            action="slack.refused",
            entity_type="slack_user",
            entity_id=slack_user,
            after={"kind": kind, "channel_type": channel_type},
            reason="unknown Slack user",
        )


def claim(
    db: Database, key: str, kind: str, slack_user: str, channel: str | None, payload: dict[str, Any]
) -> bool:
    """Record a request on receipt; False if this key was seen before (a retry, a double click)."""
    try:
        with db.session() as session:
            if session.get(SlackInbox, key) is not None:
                return False
            session.add(
                SlackInbox(
                    key=key,
                    kind=kind,
                    status="pending",
                    slack_user=slack_user,
                    channel=channel,
                    payload=payload,
                    attempts=0,
                    received_at=now_utc(),
                )
            )
            session.flush()
        return True
    except IntegrityError:  # two copies racing on PostgreSQL: the primary key decides
        return False


def start(db: Database, key: str) -> Job | None:
    """Take a claimed request for processing (None if it was already answered)."""
    with db.session() as session:
        row = session.get(SlackInbox, key)
        if row is None or row.status in {"done", "failed"}:
            return None
        row.status, row.attempts = "running", row.attempts + 1
        return Job(row.key, row.kind, row.slack_user, row.channel, dict(row.payload), row.attempts)


def finish(db: Database, key: str, outgoing: list[Outgoing], *, error: str | None = None) -> None:
    """Answered: queue what must be sent and forget the request's text, in one transaction."""
    now = now_utc()
    with db.session() as session:
        row = session.get(SlackInbox, key)
        if row is None:
            return
        row.status = "failed" if error else "done"
        row.error = error
        row.finished_at = now
        row.payload = {}
        owe(session, key, outgoing, now)


def owe(session: Session, key: str, outgoing: list[Outgoing], now: datetime) -> None:
    """Queue `outgoing` under `key` in the caller's transaction (the door's sweep sends them in
    order, with retries)."""
    for seq, message in enumerate(outgoing):
        session.add(
            SlackOutbox(
                inbox_key=key,
                seq=seq,
                method=message.method,
                slack_user=message.slack_user,
                channel=message.channel,
                payload=message.payload,
                audit=message.audit,
                status="pending",
                attempts=0,
                created_at=now,
            )
        )


def queue_once(db: Database, key: str, outgoing: list[Outgoing]) -> bool:
    """Queue messages Rota sends on its own (a scheduled job's DMs) under `key`, once: False if
    messages under this key were queued before (a re-run after a crash sends nothing twice)."""
    now = now_utc()
    with db.session() as session:
        seen = session.scalars(select(SlackOutbox.id).where(SlackOutbox.inbox_key == key)).first()
        if seen is not None:
            return False
        owe(session, key, outgoing, now)
    return True


def unfinished(db: Database) -> list[str]:
    """Requests claimed but never answered (the process stopped): to run again."""
    with db.read() as session:
        return list(
            session.scalars(
                select(SlackInbox.key)
                .where(SlackInbox.status.in_(("pending", "running")))
                .order_by(SlackInbox.received_at)
            )
        )


def owed(db: Database, key: str | None = None) -> list[Owed]:
    """Messages not yet sent, oldest first (those of one request, if given)."""
    query = select(SlackOutbox).where(SlackOutbox.status == "pending")
    if key is not None:
        query = query.where(SlackOutbox.inbox_key == key)
    with db.read() as session:
        return [
            Owed(
                r.id,
                r.inbox_key,
                r.method,
                r.slack_user,
                r.channel,
                dict(r.payload),
                dict(r.audit) if r.audit else None,
                r.attempts,
            )
            for r in session.scalars(query.order_by(SlackOutbox.id))
        ]


def sent(db: Database, message: Owed, channel: str | None, ts: str | None, attempts: int) -> None:
    """Delivered: keep the record (and audit a message carrying patient data), drop the words."""
    with db.session() as session:
        row = session.get(SlackOutbox, message.id)
        if row is None or row.status == "sent":
            return
        row.status, row.sent_at, row.payload = "sent", now_utc(), {}
        row.attempts = message.attempts + attempts
        row.channel = channel or row.channel
        if message.audit:
            append_event(
                session,
                actor=ACTOR,
                action="slack.message",
                entity_type="slack_message",
                entity_id=f"{channel}:{ts}" if ts else channel,
                after={
                    **message.audit,
                    "slack_user": message.slack_user,
                    "channel": channel,
                    "method": message.method,
                    "request": message.inbox_key,
                },
                reason="message carrying patient information (PRIV-07, PRIV-10)",
            )


def not_sent(db: Database, message: Owed, error: str, attempts: int, *, final: bool) -> None:
    with db.session() as session:
        row = session.get(SlackOutbox, message.id)
        if row is None:
            return
        row.attempts = message.attempts + attempts
        row.last_error = error[:200]
        if final:
            row.status, row.payload = "failed", {}


def counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        out: dict[str, int] = {}
        for table, name in ((SlackInbox, "requests"), (SlackOutbox, "messages")):
            for status in session.scalars(select(table.status)):
                out[f"{name}_{status}"] = out.get(f"{name}_{status}", 0) + 1
        return out
