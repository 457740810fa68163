"""Bearer tokens per staff member. The token is shown once; only its hash is kept.

A token ends: it expires (ROTA_TOKEN_DAYS, default 90 days) or is revoked, and `rota token
rotate` does both at once for a new one. Its scope narrows what its holder's roles allow, never
widens it: `read` (look only), `booking` (read, and book, cancel, move, check in, record
attendance, chat) or `admin` (everything the roles allow); see rules/packs/permissions.yaml.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.errors import InvalidInput, NotFound
from clinic.models import ApiToken, Staff
from clinic.placement import load_row
from clinic.settings import whole_number
from clinic.timeutil import now_utc

PREFIX = "rota_"
SCOPES = ("read", "booking", "admin")
"""Narrowest first: each scope allows what the one before it does, and more."""
DEFAULT_SCOPE = "booking"
DEFAULT_DAYS = 90
DAYS_ENV = "ROTA_TOKEN_DAYS"
MAX_DAYS = 3660


def secret_digest(secret: str) -> str:
    """What is stored of a secret shown once (a token, a link, a cookie, a feed URL)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is speaking to a door: a staff member, their staff role, and every role they hold
    (the staff role plus any the facility's rules data grants; see assistant.callers), and the
    door they came through (the access log records it: `clinic.access_log.DOORS`)."""

    staff_id: str
    name: str
    role: str
    roles: frozenset[str] = field(default_factory=frozenset)
    door: str = "cli"
    scope: str = "admin"
    """What the credential that brought the caller may do within those roles (SCOPES)."""

    def __post_init__(self) -> None:
        # The staff role is always one of the roles, however the caller was built.
        object.__setattr__(self, "roles", frozenset({self.role}) | frozenset(self.roles))


def token_days(days: int | None = None) -> int:
    """How long a new token lives: `days` if given, else ROTA_TOKEN_DAYS, else 90."""
    if days is None:
        return whole_number(DAYS_ENV, DEFAULT_DAYS, unit="days", most=MAX_DAYS)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            f"--days must be a whole number of days from 1 to {MAX_DAYS}, not {days}"
        )
    return days


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InvalidInput(f"the scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    return scope


def create_token(
    session: Session,
    staff_id: str,
    *,
    label: str | None = None,
    actor: str = "operator",
    scope: str = "admin",
    days: int | None = None,
) -> str:
    """A new token (returned once). Library callers get `admin` (the roles decide); the
    command line's default is DEFAULT_SCOPE."""
    load_row(session, Staff, staff_id, "staff member")
    check_scope(scope)
    token = PREFIX + secrets.token_urlsafe(32)
    now = now_utc()
    row = ApiToken(
        staff_id=staff_id,
        token_hash=secret_digest(token),
        label=label,
        created_at=now,
        expires_at=now + timedelta(days=token_days(days)),
        scope=scope,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="token.create",
        entity_type="staff",
        entity_id=staff_id,
        after={
            "token_id": row.id,
            "label": label,
            "scope": scope,
            "expires_at": row.expires_at.isoformat(),
        },
    )
    return token


def revoke_tokens(session: Session, staff_id: str, *, actor: str = "operator") -> int:
    """Revoke every live token of a staff member; returns how many."""
    load_row(session, Staff, staff_id, "staff member")
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.staff_id == staff_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now_utc())
    )
    count = int(result.rowcount or 0)
    append_event(
        session,
        actor=actor,
        action="token.revoke",
        entity_type="staff",
        entity_id=staff_id,
        after={"revoked": count},
    )
    return count


@dataclass(frozen=True)
class Rotated:
    staff_id: str
    token: str
    revoked: list[int]


def rotate_tokens(
    session: Session,
    *,
    staff_id: str | None = None,
    token_id: int | None = None,
    actor: str = "operator",
    scope: str | None = None,
    days: int | None = None,
) -> Rotated:
    """A new token for a staff member, revoking their live ones (or only `token_id`, whose
    label and scope the new one keeps unless `scope` says otherwise)."""
    if (staff_id is None) == (token_id is None):
        raise InvalidInput("name the staff member (--staff) or one token (--token-id), not both")
    old: ApiToken | None = None
    if token_id is not None:
        old = session.get(ApiToken, token_id)
        if old is None:
            raise NotFound(f"no token with id {token_id}; `rota token list` shows them")
        staff_id = old.staff_id
    assert staff_id is not None
    load_row(session, Staff, staff_id, "staff member")
    live = select(ApiToken.id).where(ApiToken.staff_id == staff_id, ApiToken.revoked_at.is_(None))
    if old is not None:
        live = live.where(ApiToken.id == old.id)
    revoked = list(session.scalars(live))
    if revoked:
        session.execute(
            update(ApiToken).where(ApiToken.id.in_(revoked)).values(revoked_at=now_utc())
        )
    new_scope = scope or (old.scope if old is not None else DEFAULT_SCOPE)
    label = old.label if old is not None else "rotated"
    token = create_token(session, staff_id, label=label, actor=actor, scope=new_scope, days=days)
    append_event(
        session,
        actor=actor,
        action="token.rotate",
        entity_type="staff",
        entity_id=staff_id,
        after={"revoked": revoked, "scope": new_scope},
    )
    return Rotated(staff_id=staff_id, token=token, revoked=revoked)


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: everything but the token."""

    id: int
    staff_id: str
    label: str | None
    scope: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(session: Session, staff_id: str | None = None) -> list[TokenInfo]:
    query = select(ApiToken).order_by(ApiToken.staff_id, ApiToken.id)
    if staff_id is not None:
        load_row(session, Staff, staff_id, "staff member")
        query = query.where(ApiToken.staff_id == staff_id)
    return [
        TokenInfo(
            r.id,
            r.staff_id,
            r.label,
            r.scope,
            r.created_at,
            r.expires_at,
            r.last_used_at,
            r.revoked_at,
        )
        for r in session.scalars(query)
    ]


LAST_USED_EVERY = timedelta(minutes=5)
"""`last_used_at` is written at most this often per token: a request is not a write."""


@dataclass(frozen=True)
class TokenCheck:
    """The answer for a presented token: `reason` is "ok", "unknown", "expired" or "revoked";
    `staff` and `scope` are set only when it is "ok"."""

    reason: str
    staff: Staff | None = None
    scope: str = "read"
    token_id: int | None = None
    stale_use: bool = False


def check_token(session: Session, token: str, *, now: datetime | None = None) -> TokenCheck:
    """Whether a token is live, and if not, why (revoked before expired: revoking is an act)."""
    if not token.startswith(PREFIX):
        return TokenCheck("unknown")
    return check_digest(session, secret_digest(token), now=now)


def check_digest(session: Session, digest: str, *, now: datetime | None = None) -> TokenCheck:
    """`check_token` for a token known only by its digest (the command line's `rota login`)."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None:
        return TokenCheck("unknown")
    now = now or now_utc()
    if row.revoked_at is not None:
        return TokenCheck("revoked")
    if row.expires_at <= now:
        return TokenCheck("expired")
    staff = session.get(Staff, row.staff_id)
    if staff is None:
        return TokenCheck("unknown")
    stale = row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY
    return TokenCheck("ok", staff, row.scope, row.id, stale)


def mark_used(session: Session, token_id: int, *, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The staff member a live token speaks for, or None."""
    return check_token(session, token).staff
