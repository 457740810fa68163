"""Calendar feeds: one secret URL per clinician or room, revocable (see assistant.usecases.feeds).

Only the SHA-256 of a feed's token is kept, as with API tokens: the URL is shown once and the
database cannot give it back. The table is created by the hand-written migration 0016.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base

FEED_KINDS = ("staff", "room")


class CalendarFeed(Base):
    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # staff | room
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
