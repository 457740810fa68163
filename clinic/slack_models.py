"""Slack's durable bookkeeping: what arrived (deduplicated, so retries and double clicks act
once). What must be sent goes through the one outbox (clinic.outbox_models, channel "slack"),
so a Slack outage never loses a confirmation.

Kept apart from `clinic.models` because only the Slack door uses it; the table is created by
the hand-written migration 0005_slack (whose `slack_outbox` 0010_one_outbox folded into the
one outbox).
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
