"""Failed sign-ins and the lockouts they cause (see clinic.auth_failures).

Both live in the database, not in a server's memory: `rota serve` processes are stateless, and
a client locked out by one of them is locked out by all. Created by migration 0019.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base


class AuthFailure(Base):
    """One refused credential: where from, through which door, why. Never the credential: only
    a short digest of its first characters, enough to see one token being guessed at."""

    __tablename__ = "auth_failure"
    __table_args__ = (Index("ix_auth_failure_client_at", "client", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    client: Mapped[str] = mapped_column(String(64))
    door: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    prefix_digest: Mapped[str] = mapped_column(String(16))


class AuthLockout(Base):
    """A client refused every credential, good or bad, until `locked_until`."""

    __tablename__ = "auth_lockout"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[datetime]
    failures: Mapped[int]
