"""Browser sign-in: one-time links and sessions, stored hashed (models in clinic.web_models).

A link works once and for LINK_MINUTES; a session ends at sign-out, after `idle` without a
request, or at its absolute expiry, whichever comes first. Secrets are shown once (the link,
the cookie) and only their SHA-256 is kept.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.errors import InvalidInput
from clinic.models import Staff
from clinic.placement import load_row
from clinic.tokens import secret_digest
from clinic.web_models import SignInLink, WebSession

LINK_MINUTES = 15
LINK_PREFIX = "rotal_"
SESSION_PREFIX = "rotaw_"
TOUCH_EVERY = timedelta(seconds=60)
"""`last_seen_at` is written at most once a minute per session: a page view is not a write."""


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class OpenSession:
    """A live session: whose it is, and the token forms must echo (CSRF)."""

    staff: Staff
    csrf: str
    session_id: int
    needs_touch: bool
    scope: str
    """The idle clock was last written more than TOUCH_EVERY ago (see `touch`)."""


def create_link(session: Session, staff_id: str, *, actor: str, now: datetime) -> str:
    load_row(session, Staff, staff_id, "staff member")
    token = LINK_PREFIX + secrets.token_urlsafe(32)
    row = SignInLink(
        staff_id=staff_id,
        token_hash=secret_digest(token),
        created_at=now,
        created_by=actor,
        expires_at=now + timedelta(minutes=LINK_MINUTES),
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="web.link_create",
        entity_type="staff",
        entity_id=staff_id,
        after={"link_id": row.id, "expires_at": row.expires_at.isoformat()},
    )
    return token


def redeem_link(session: Session, token: str, *, now: datetime) -> str:
    """The staff id a link signs in, marking it used; InvalidInput when it cannot."""
    row = session.scalars(
        select(SignInLink).where(SignInLink.token_hash == secret_digest(token)).with_for_update()
    ).first()
    if row is None:
        raise InvalidInput("that sign-in link is not valid; ask for a new one")
    if row.used_at is not None:
        raise InvalidInput("that sign-in link was already used; each link works once")
    if row.expires_at <= now:
        raise InvalidInput(
            f"that sign-in link expired (links last {LINK_MINUTES} minutes); ask for a new one"
        )
    # Conditional update: of two browsers racing on one link, only one signs in.
    claimed = session.execute(
        update(SignInLink)
        .where(SignInLink.id == row.id, SignInLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not claimed:
        raise InvalidInput("that sign-in link was already used; each link works once")
    return row.staff_id


def start(
    session: Session,
    staff_id: str,
    *,
    how: str,
    now: datetime,
    policy: SessionPolicy,
    scope: str = "admin",
) -> str:
    """A new session for a staff member; returns the cookie's secret. `scope`: that of the
    token it was started with (a link's session has every right the roles give)."""
    load_row(session, Staff, staff_id, "staff member")
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = WebSession(
        staff_id=staff_id,
        token_hash=secret_digest(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        scope=scope,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=staff_id,
        action="web.sign_in",
        entity_type="staff",
        entity_id=staff_id,
        after={"session_id": row.id, "how": how, "scope": scope},
    )
    return secret


def find(
    session: Session, secret: str, *, now: datetime, policy: SessionPolicy
) -> OpenSession | None:
    """The live session a cookie carries, or None. Reads only: see `touch`."""
    if not secret.startswith(SESSION_PREFIX):
        return None
    row = session.scalars(
        select(WebSession).where(
            WebSession.token_hash == secret_digest(secret), WebSession.ended_at.is_(None)
        )
    ).first()
    if row is None or row.expires_at <= now or row.last_seen_at + policy.idle <= now:
        return None
    staff = session.get(Staff, row.staff_id)
    if staff is None:
        return None
    stale = now - row.last_seen_at >= TOUCH_EVERY
    return OpenSession(
        staff=staff, csrf=row.csrf_token, session_id=row.id, needs_touch=stale, scope=row.scope
    )


def touch(session: Session, session_id: int, *, now: datetime) -> None:
    """Restart a session's idle clock."""
    session.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now))


def end(session: Session, secret: str, *, now: datetime) -> bool:
    """Sign a session out; False when there was nothing live to end."""
    row = session.scalars(
        select(WebSession).where(
            WebSession.token_hash == secret_digest(secret), WebSession.ended_at.is_(None)
        )
    ).first()
    if row is None:
        return False
    row.ended_at = now
    append_event(
        session,
        actor=row.staff_id,
        action="web.sign_out",
        entity_type="staff",
        entity_id=row.staff_id,
        after={"session_id": row.id},
    )
    return True
