"""Web sign-in: one-time links and browser sessions (see clinic.web_sessions).

As with API tokens, only the SHA-256 of a link's or a session's secret is kept: a copy of the
database cannot sign anyone in. Sessions live in the database, not in a server's memory, so any
`rota serve` process answers any browser. The tables are created by migration 0017.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base


class SignInLink(Base):
    """A link that signs a staff member in once, within minutes of its creation."""

    __tablename__ = "sign_in_link"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: ends at sign-out, after idle minutes, or at its absolute expiry."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    scope: Mapped[str] = mapped_column(String(16), default="admin")
    """A session started with a bearer token keeps that token's scope (clinic.tokens)."""
