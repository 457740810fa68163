"""Slack's durable bookkeeping: what arrived (deduplicated, so retries and double clicks act
once) and what must be sent (an outbox, so a Slack outage never loses a confirmation).

Kept apart from `clinic.models` because only the Slack door uses it; the tables are created by
the hand-written migration 0005_slack.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base


class SlackInbox(Base):
    """One request from Slack, claimed on receipt by its unique key (event id, the trigger id
    of a slash command, or the message and rendering a button belongs to)."""

    __tablename__ = "slack_inbox"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # message | mention | command | action
    # pending | running | done | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    slack_user: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # emptied once answered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_slack_inbox_status", "status"),)


class SlackOutbox(Base):
    """One Web API call the bot owes someone, in order within its request."""

    __tablename__ = "slack_outbox"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    inbox_key: Mapped[str] = mapped_column(String(200), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    # chat.postMessage | chat.postEphemeral | chat.update
    method: Mapped[str] = mapped_column(String(32))
    slack_user: Mapped[str | None] = mapped_column(String(32))  # recipient
    channel: Mapped[str | None] = mapped_column(String(32))  # None: the recipient's DM
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # emptied once sent
    audit: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # set when it carries patient data
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_slack_outbox_status", "status"),)
