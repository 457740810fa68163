"""Who is speaking: a Slack user id maps to one staff member (facility file or `rota slack link`)."""

from __future__ import annotations

import re

from sqlalchemy import select

from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import Staff
from clinic.tokens import Caller

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")


def caller_for(db: Database, slack_user: str) -> Caller | None:
    """The staff member behind a Slack user, or None for anyone Rota does not know."""
    if not slack_user:
        return None
    with db.read() as session:
        staff = session.scalars(select(Staff).where(Staff.slack_user_id == slack_user)).first()
        return None if staff is None else Caller(staff.id, staff.name, staff.role)


def slack_users(db: Database, staff_ids: list[str]) -> dict[str, str]:
    """staff id → Slack user id, for those who have one."""
    if not staff_ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(Staff.id, Staff.slack_user_id).where(Staff.id.in_(staff_ids))
        ).all()
    return {sid: uid for sid, uid in rows if uid}


def link(db: Database, staff_id: str, slack_user: str, *, actor: str = "operator") -> str | None:
    """Link a staff member to a Slack user id; returns the id it replaced (if any)."""
    slack_user = slack_user.strip()
    if not _SLACK_USER.match(slack_user):
        raise InvalidInput(
            f"{slack_user!r} is not a Slack user id (it looks like U0123ABCD; find it in the "
            "person's Slack profile under 'Copy member ID')"
        )
    with db.session() as session:
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"no staff member with id {staff_id!r}")
        holder = session.scalars(select(Staff).where(Staff.slack_user_id == slack_user)).first()
        if holder is not None and holder.id != staff_id:
            raise InvalidInput(f"Slack user {slack_user} is already linked to {holder.id}")
        before = staff.slack_user_id
        staff.slack_user_id = slack_user
        append_event(
            session,
            actor=actor,
            action="staff.slack_link",
            entity_type="staff",
            entity_id=staff_id,
            before={"slack_user_id": before},
            after={"slack_user_id": slack_user},
        )
        return before


def unlink(db: Database, staff_id: str, *, actor: str = "operator") -> str | None:
    with db.session() as session:
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"no staff member with id {staff_id!r}")
        before = staff.slack_user_id
        staff.slack_user_id = None
        append_event(
            session,
            actor=actor,
            action="staff.slack_unlink",
            entity_type="staff",
            entity_id=staff_id,
            before={"slack_user_id": before},
        )
        return before
