"""The waitlist: patients waiting for a session type (a clinician, a time window), and the offers
made to them when a slot frees up.

Kept apart from `clinic.models` like the outbox's tables; created by the hand-written migration
0012_waitlist. An offer names its slot (`slot_key`: clinician and start): every offer of one
freed slot shares it, and accepting one claims them all in one transaction, so the first to
accept books it and the rest are told.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base

ENTRY_STATUSES = ("waiting", "offered", "booked", "withdrawn")
"""waiting: on the list | offered: an offer is open | booked: an offer was accepted |
withdrawn: taken off the list by a person."""
OFFER_STATUSES = ("open", "accepted", "taken", "declined", "expired")
"""open: waiting for an answer | accepted: this patient booked it | taken: someone else did, or
the time went | declined | expired: nobody answered in time."""
OFFER_CHANNELS = ("case_manager", "sms")


class WaitlistEntry(Base):
    """One patient waiting for one kind of session, in a window, with the priority inputs a
    person gave (acuity and court orders are read from the record when offers are ranked)."""

    __tablename__ = "waitlist_entry"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    session_type_id: Mapped[str] = mapped_column(ForeignKey("session_type.id"))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))  # None: any clinician
    days: Mapped[list[str] | None] = mapped_column(JSON)  # ["tue", "thu"]; None: any open day
    time_from: Mapped[str | None] = mapped_column(String(5))  # "08:00", facility local time
    time_until: Mapped[str | None] = mapped_column(String(5))  # "12:00": the session ends by then
    earliest: Mapped[date | None] = mapped_column(Date)
    latest: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 0 normal, 1 high, 2 urgent
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    appointment_id: Mapped[str | None] = mapped_column(String(64))  # once booked
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_waitlist_entry_status_type", "status", "session_type_id"),)


class WaitlistOffer(Base):
    """A freed slot offered to one waiting patient, over one channel, until `expires_at`."""

    __tablename__ = "waitlist_offer"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    slot_key: Mapped[str] = mapped_column(String(200), index=True)
    session_type_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime]
    end: Mapped[datetime]
    staff_id: Mapped[str] = mapped_column(String(64))
    room_id: Mapped[str | None] = mapped_column(String(64))
    freed_by: Mapped[str | None] = mapped_column(String(64))  # the appointment that left the gap
    channel: Mapped[str] = mapped_column(String(16))  # case_manager | sms
    offered_by: Mapped[str | None] = mapped_column(String(100))  # the case manager (books it)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    appointment_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_waitlist_offer_status_expires", "status", "expires_at"),)
