"""Slack's inbox: a request claimed on receipt (so a retried event or a double click acts
once, and work survives a restart), then answered. What the answer owes people goes through the
one outbox (assistant.outbox, channel "slack") in the same transaction, and the Slack door sends
it from there.

A request's text is kept only until it is answered: the row then keeps who, where and when,
never the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant import outbox
from assistant.outbox import SlackMessage
from clinic.audit import append_event
from clinic.db import Database
from clinic.slack_models import SlackInbox
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


def finish(
    db: Database, key: str, outgoing: list[SlackMessage], *, error: str | None = None
) -> None:
    """Answered: queue what must be sent (in order, under `<key>:<seq>`) and forget the
    request's text, in one transaction."""
    now = now_utc()
    with db.session() as session:
        row = session.get(SlackInbox, key)
        if row is None:
            return
        row.status = "failed" if error else "done"
        row.error = error
        row.finished_at = now
        row.payload = {}
        outbox.owe_slack(session, key, outgoing, now)


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


def counts(db: Database) -> dict[str, int]:
    """Requests by status, and the Slack messages in the outbox by status."""
    with db.read() as session:
        out: dict[str, int] = {}
        for status in session.scalars(select(SlackInbox.status)):
            out[f"requests_{status}"] = out.get(f"requests_{status}", 0) + 1
        for status, n in outbox.counts(session, outbox.SLACK).items():
            out[f"messages_{status}"] = n
        return out
