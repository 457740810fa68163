"""What Rota owes the outside world (the outbox) and what patients answered (replies).

Kept apart from `clinic.models` like Slack's bookkeeping; the tables are created by the
hand-written migration 0009_outbox. A message's `context` (the words' ingredients) is kept only
until it is sent: the row then keeps who, over which channel, which template and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base

# pending: waiting (or between retries) | sent | dead: gave up after N tries (a person retries)
# | refused: the disclosure rules said no (kept so the refusal is judged and audited once)
OUTBOX_STATUSES = ("pending", "sent", "dead", "refused")


class OutboxMessage(Base):
    """One outbound message, claimed by its idempotency key: at most one row per key."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | sms
    recipient: Mapped[str] = mapped_column(String(320))  # an address or a phone number
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    template: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)  # emptied once sent
    appointment_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)


class PatientReply(Base):
    """A patient's answer to a reminder ("C" confirms, "R" asks for a call back); the message's
    own words are not kept, only what they meant."""

    __tablename__ = "patient_reply"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the provider's message id
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    answer: Mapped[str] = mapped_column(String(16))  # confirm | callback | unknown
    appointment_ids: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[datetime]
