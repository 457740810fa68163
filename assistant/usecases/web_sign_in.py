"""Signing in to the web pages: with a bearer token or a one-time link, then a session cookie.

Policy from the environment: ROTA_WEB_IDLE_MINUTES (default 15: a clinic workstation left
unattended signs out) and ROTA_WEB_SESSION_HOURS (default 12: one working day at most).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from assistant import callers
from clinic import web_sessions
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc
from clinic.tokens import Caller, staff_for_token


def _minutes(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def policy() -> web_sessions.SessionPolicy:
    return web_sessions.SessionPolicy(
        idle=timedelta(minutes=_minutes("ROTA_WEB_IDLE_MINUTES", 15)),
        absolute=timedelta(hours=_minutes("ROTA_WEB_SESSION_HOURS", 12)),
    )


@dataclass(frozen=True)
class Visit:
    """A signed-in browser: who, the token its forms must echo, and its session row."""

    caller: Caller
    csrf: str
    session_id: int


def create_link(db: Database, staff_id: str, *, actor: str = "operator") -> str:
    """A one-time sign-in secret for a staff member (valid LINK_MINUTES, once)."""
    with db.session() as session:
        return web_sessions.create_link(session, staff_id, actor=actor, now=now_utc())


def sign_in_with_link(db: Database, link_token: str) -> str:
    """Redeem a one-time link; returns the new session's cookie secret."""
    with db.session() as session:
        now = now_utc()
        staff_id = web_sessions.redeem_link(session, link_token.strip(), now=now)
        return web_sessions.start(session, staff_id, how="link", now=now, policy=policy())


def sign_in_with_token(db: Database, api_token: str) -> str:
    """Exchange a staff member's bearer token for a session; returns the cookie secret."""
    with db.session() as session:
        staff = staff_for_token(session, api_token.strip())
        if staff is None:
            raise InvalidInput(
                "that token is unknown or revoked; create one with `rota token create --staff ID`"
            )
        return web_sessions.start(session, staff.id, how="token", now=now_utc(), policy=policy())


def visit(db: Database, cookie: str) -> Visit | None:
    """The signed-in person a session cookie speaks for, or None (ended, idle, expired)."""
    now = now_utc()
    with db.read() as session:
        found = web_sessions.find(session, cookie, now=now, policy=policy())
        if found is None:
            return None
        caller = callers.caller_of(found.staff, "web")
    if found.needs_touch:
        with db.session() as session:
            web_sessions.touch(session, found.session_id, now=now)
    return Visit(caller=caller, csrf=found.csrf, session_id=found.session_id)


def sign_out(db: Database, cookie: str) -> bool:
    with db.session() as session:
        return web_sessions.end(session, cookie, now=now_utc())
