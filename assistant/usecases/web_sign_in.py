"""Signing in to the web pages: with a bearer token or a one-time link, then a session cookie.

Policy from the environment: ROTA_WEB_IDLE_MINUTES (default 15: a clinic workstation left
unattended signs out) and ROTA_WEB_SESSION_HOURS (default 12: one working day at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from assistant import authentication, callers
from assistant.authentication import Throttle
from clinic import web_sessions
from clinic.db import Database
from clinic.settings import whole_number
from clinic.timeutil import now_utc
from clinic.tokens import Caller


def policy() -> web_sessions.SessionPolicy:
    return web_sessions.SessionPolicy(
        idle=timedelta(minutes=whole_number("ROTA_WEB_IDLE_MINUTES", 15, unit="minutes")),
        absolute=timedelta(hours=whole_number("ROTA_WEB_SESSION_HOURS", 12, unit="hours")),
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


def sign_in_with_link(
    db: Database, link_token: str, *, client: str = "local", throttle: Throttle | None = None
) -> str:
    """Redeem a one-time link; returns the new session's cookie secret. A bad link counts as a
    failed sign-in of `client` (assistant.authentication)."""
    secret = link_token.strip()

    def redeem() -> str:
        with db.session() as session:
            now = now_utc()
            staff_id = web_sessions.redeem_link(session, secret, now=now)
            return web_sessions.start(session, staff_id, how="link", now=now, policy=policy())

    brakes = throttle or Throttle()
    return authentication.one_time(db, brakes, secret, redeem, client=client, door="web")


def sign_in_with_token(
    db: Database, api_token: str, *, client: str = "local", throttle: Throttle | None = None
) -> str:
    """Exchange a staff member's bearer token for a session that keeps the token's scope;
    returns the cookie secret. NotAuthenticated / TooManyAttempts as for the HTTP API."""
    caller = authentication.bearer(db, throttle or Throttle(), api_token, client=client, door="web")
    with db.session() as session:
        return web_sessions.start(
            session,
            caller.staff_id,
            how="token",
            now=now_utc(),
            policy=policy(),
            scope=caller.scope,
        )


def visit(db: Database, cookie: str) -> Visit | None:
    """The signed-in person a session cookie speaks for, or None (ended, idle, expired)."""
    now = now_utc()
    with db.read() as session:
        found = web_sessions.find(session, cookie, now=now, policy=policy())
        if found is None:
            return None
        caller = callers.caller_of(found.staff, door="web", scope=found.scope)
    if found.needs_touch:
        with db.session() as session:
            web_sessions.touch(session, found.session_id, now=now)
    return Visit(caller=caller, csrf=found.csrf, session_id=found.session_id)


def sign_out(db: Database, cookie: str) -> bool:
    with db.session() as session:
        return web_sessions.end(session, cookie, now=now_utc())
