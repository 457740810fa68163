"""Failed sign-ins, recorded, and the lockout of a client that fails too often.

Kept in the database (models in clinic.auth_models) so that every `rota serve` process sees the
same lockout. The credential itself is never stored or logged: only `prefix_digest`, 12 hex
characters of the SHA-256 of its first few characters after the prefix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.auth_models import AuthFailure, AuthLockout

PREFIX_CHARS = 4
REASONS = ("unknown", "expired", "revoked", "malformed", "link")


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    """This many failures from one client within `window` lock it out..."""
    window: timedelta
    lockout: timedelta
    """...for this long, whatever it presents."""


def prefix_digest(secret: str) -> str:
    """A short, one-way name for the first characters of a secret (after `rota_`, `rotal_`…):
    the same guessed prefix gets the same digest; the secret cannot be read back from it."""
    _, sep, rest = secret.strip().partition("_")
    head = (rest if sep else secret.strip())[:PREFIX_CHARS]
    return hashlib.sha256(head.encode()).hexdigest()[:12]


def locked_until(session: Session, client: str, *, now: datetime) -> datetime | None:
    row = session.get(AuthLockout, client)
    return row.locked_until if row is not None and row.locked_until > now else None


def record_failure(
    session: Session,
    *,
    client: str,
    door: str,
    reason: str,
    prefix: str,
    now: datetime,
    policy: LockoutPolicy,
) -> datetime | None:
    """Record one failure; when it is one too many, lock the client and return until when."""
    session.add(
        AuthFailure(at=now, client=client[:64], door=door, reason=reason, prefix_digest=prefix)
    )
    session.flush()
    recent = session.scalar(
        select(func.count())
        .select_from(AuthFailure)
        .where(AuthFailure.client == client[:64], AuthFailure.at > now - policy.window)
    )
    if int(recent or 0) < policy.max_failures:
        return None
    until = now + policy.lockout
    row = session.get(AuthLockout, client[:64])
    if row is None:
        try:
            with session.begin_nested():  # another process may lock the same client at once
                session.add(AuthLockout(client=client[:64], locked_until=until, failures=recent))
        except IntegrityError:
            return until
    else:
        row.locked_until, row.failures = until, int(recent or 0)
    return until


def failures(session: Session, *, client: str | None = None, limit: int = 100) -> list[AuthFailure]:
    """The latest failures, newest first (an operator's view; `rota token failures`)."""
    query = select(AuthFailure).order_by(AuthFailure.id.desc()).limit(limit)
    if client is not None:
        query = query.where(AuthFailure.client == client)
    return list(session.scalars(query))
