"""Bearer tokens per staff member. The token is shown once; only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinic.audit import append_event
from clinic.models import ApiToken, Staff
from clinic.placement import load_row
from clinic.timeutil import now_utc

PREFIX = "rota_"


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

    def __post_init__(self) -> None:
        # The staff role is always one of the roles, however the caller was built.
        object.__setattr__(self, "roles", frozenset({self.role}) | frozenset(self.roles))


def create_token(
    session: Session, staff_id: str, *, label: str | None = None, actor: str = "operator"
) -> str:
    load_row(session, Staff, staff_id, "staff member")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        staff_id=staff_id, token_hash=secret_digest(token), label=label, created_at=now_utc()
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="token.create",
        entity_type="staff",
        entity_id=staff_id,
        after={"token_id": row.id, "label": label},
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


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The staff member a live token speaks for, or None."""
    if not token.startswith(PREFIX):
        return None
    return session.scalars(
        select(Staff)
        .join(ApiToken, Staff.id == ApiToken.staff_id)
        .where(ApiToken.token_hash == secret_digest(token), ApiToken.revoked_at.is_(None))
    ).first()
