"""What Rota owes the outside world (the outbox) and what patients answered (replies).

Kept apart from `clinic.models` like Slack's bookkeeping; the tables are created by the
hand-written migrations 0009_outbox and 0010_one_outbox. A message's `context` (the words'
ingredients, or a Slack message's Block Kit payload) is kept only until it is sent: the row then
keeps who, over which channel, which template and when, and (`extra`) where a Slack message went
and what it disclosed.
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
    channel: Mapped[str] = mapped_column(String(16))  # email | sms | slack | fhir
    # an address, a phone number or a Slack user id
    recipient: Mapped[str] = mapped_column(String(320))
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
    # Slack's: the request it answers and its place in the answer (`request`, `seq`), the Web
    # API method, the Slack channel (None: the recipient's DM), the ts once sent, and `audit`
    # (recipient staff, patients, appointments) for the PRIV check and the disclosure audit.
    # Never the words; kept after sending.
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)

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
