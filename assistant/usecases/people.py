"""People and how they reach Rota: bearer tokens for the HTTP API, Slack links (a Slack user id
maps to one staff member: the facility file or `rota slack link`). Operator commands; each
change is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant import callers
from clinic import auth_failures as clinic_auth_failures
from clinic import tokens
from clinic.audit import append_event
from clinic.auth_models import AuthFailure
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import Staff
from clinic.placement import load_row
from clinic.tokens import Caller

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")


def link_slack(
    db: Database, staff_id: str, slack_user: str, *, actor: str = "operator"
) -> str | None:
    """Link a staff member to a Slack user id; returns the id it replaced (if any)."""
    slack_user = slack_user.strip()
    if not _SLACK_USER.match(slack_user):
        raise InvalidInput(
            f"{slack_user!r} is not a Slack user id (it looks like U0123ABCD; find it in the "
            "person's Slack profile under 'Copy member ID')"
        )
    with db.session() as session:
        staff = load_row(session, Staff, staff_id, "staff member")
        holder = session.scalars(select(Staff).where(Staff.slack_user_id == slack_user)).first()
        if holder is not None and holder.id != staff_id:
            raise InvalidInput(f"Slack user {slack_user} is already linked to {holder.id}")
        return _set_slack_user(session, staff, slack_user, actor)


def unlink_slack(db: Database, staff_id: str, *, actor: str = "operator") -> str | None:
    with db.session() as session:
        return _set_slack_user(
            session, load_row(session, Staff, staff_id, "staff member"), None, actor
        )


def _set_slack_user(
    session: Session, staff: Staff, slack_user: str | None, actor: str
) -> str | None:
    """Link (or, with None, unlink) and audit; returns the Slack user id it replaced."""
    before, staff.slack_user_id = staff.slack_user_id, slack_user
    append_event(
        session,
        actor=actor,
        action="staff.slack_link" if slack_user else "staff.slack_unlink",
        entity_type="staff",
        entity_id=staff.id,
        before={"slack_user_id": before},
        after={"slack_user_id": slack_user} if slack_user else None,
    )
    return before


@dataclass(frozen=True)
class SlackLinks:
    linked: int
    total: int


def slack_links(db: Database) -> SlackLinks:
    """How many staff members are linked to a Slack user."""
    with db.read() as session:
        linked = session.scalar(
            select(func.count()).select_from(Staff).where(Staff.slack_user_id.is_not(None))
        )
        total = session.scalar(select(func.count()).select_from(Staff))
    return SlackLinks(int(linked or 0), int(total or 0))


def create_token(
    db: Database,
    staff_id: str,
    *,
    label: str | None = None,
    actor: str = "operator",
    scope: str = "admin",
    days: int | None = None,
) -> str:
    """A new bearer token for a staff member (shown once; only its hash is kept)."""
    with db.session() as session:
        return tokens.create_token(
            session, staff_id, label=label, actor=actor, scope=scope, days=days
        )


def rotate_token(
    db: Database,
    *,
    staff_id: str | None = None,
    token_id: int | None = None,
    actor: str = "operator",
    scope: str | None = None,
    days: int | None = None,
) -> tokens.Rotated:
    """A new token, revoking the old one(s) (audited as token.rotate)."""
    with db.session() as session:
        return tokens.rotate_tokens(
            session, staff_id=staff_id, token_id=token_id, actor=actor, scope=scope, days=days
        )


def list_tokens(db: Database, staff_id: str | None = None) -> list[tokens.TokenInfo]:
    with db.read() as session:
        return tokens.list_tokens(session, staff_id)


def token_for_role(
    db: Database, role: str, *, label: str, actor: str = "operator"
) -> tuple[Caller, str]:
    """A fresh token for the first staff member holding `role` (granted roles count)."""
    caller = callers.with_role(db, role)
    if caller is None:
        raise InvalidInput(f"no staff member has the role {role!r}")
    return caller, create_token(db, caller.staff_id, label=label, actor=actor)


def revoke_tokens(db: Database, staff_id: str, *, actor: str = "operator") -> int:
    with db.session() as session:
        return tokens.revoke_tokens(session, staff_id, actor=actor)


def auth_failures(db: Database, *, client: str | None = None, limit: int = 50) -> list[AuthFailure]:
    """The latest failed sign-ins, newest first (never the credential)."""
    with db.read() as session:
        rows = clinic_auth_failures.failures(session, client=client, limit=limit)
        session.expunge_all()
        return rows
