"""Who is asking, for every door: a Caller carrying every role the person holds.

A person's roles are their staff role plus those the facility's rules data grants
(`data: {roles: {s001: director}}` in ROTA_RULES_DIR), read from the same packs as every
decision, so the gate, field redaction, approvers and the booking's own checks agree on them.
"""

from __future__ import annotations

from sqlalchemy import select

from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.models import Staff
from clinic.placement import load_row
from clinic.tokens import Caller
from rules import permissions

UNKNOWN_ROLE = "unknown"
"""The staff role of an actor not on the staff list (`operator`, a system actor): such an actor
holds only the roles the rules data grants it."""


def caller_of(staff: Staff, door: str = "cli", scope: str = "admin") -> Caller:
    """`door` is where the person came in (the access log's column); `scope` narrows what the
    roles allow: the scope of the token or session that brought them (clinic.tokens.SCOPES)."""
    return Caller(
        staff.id,
        staff.name,
        staff.role,
        roles=permissions.roles_granted(staff.id),
        door=door,
        scope=scope,
    )


def for_staff(db: Database, staff_id: str, door: str = "cli") -> Caller:
    with db.read() as session:
        return caller_of(load_row(session, Staff, staff_id, "staff member"), door)


def for_actor(db: Database, actor: str, door: str = "cli") -> Caller:
    """A staff member, or an actor the rules data names (the command line's `operator`)."""
    with db.read() as session:
        staff = session.get(Staff, actor)
        if staff is not None:
            return caller_of(staff, door)
    return Caller(actor, actor, UNKNOWN_ROLE, roles=permissions.roles_granted(actor), door=door)


def for_slack_user(db: Database, slack_user: str) -> Caller | None:
    """The staff member behind a Slack user, or None for anyone Rota does not know. On a
    network, a Slack user linked at another facility is who the network lets them be here
    (assistant.tenancy: their linked record, a network-wide grant), else no one."""
    if not slack_user:
        return None
    with db.read() as session:
        staff = session.scalars(select(Staff).where(Staff.slack_user_id == slack_user)).first()
        if staff is not None:
            return caller_of(staff, "slack")
    if db.facility is None:
        return None
    from assistant import tenancy  # the network's rules of who is who (it builds on this module)

    home = tenancy.slack_home(db, slack_user)
    if home is None:
        return None
    try:
        return tenancy.caller_at(db, home, door="slack")
    except PermissionDenied:
        return None


def who_may(db: Database, action: str) -> list[Caller]:
    """Staff members, in roster order, any of whose roles may ask for `action` for anyone."""
    allowed = permissions.roles_that_may(action)
    with db.read() as session:
        everyone = [caller_of(s) for s in session.scalars(select(Staff).order_by(Staff.position))]
    return [c for c in everyone if c.roles & allowed]


def approvers(db: Database) -> list[Caller]:
    """Who may approve schedule changes (a sick call's repair plan)."""
    return who_may(db, "approve_changes")


def with_role(db: Database, role: str) -> Caller | None:
    """The first staff member (roster order) holding `role`, granted or not."""
    with db.read() as session:
        for staff in session.scalars(select(Staff).order_by(Staff.position)):
            caller = caller_of(staff)
            if role in caller.roles:
                return caller
    return None


def slack_users(db: Database, staff_ids: list[str]) -> dict[str, str]:
    """staff id → Slack user id, for those who have one."""
    if not staff_ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(Staff.id, Staff.slack_user_id).where(Staff.id.in_(staff_ids))
        ).all()
    return {sid: uid for sid, uid in rows if uid}
