"""Who presents a credential, for every door that takes one: a bearer token (HTTP API, FHIR, the
web sign-in form) or a one-time sign-in link.

A failure is recorded (clinic.auth_failures: client, door, reason, a short prefix digest; never
the credential) and logged. Two brakes, configurable from the environment:
- per process, a rate limit on failures (the `limits` package, in memory): per client
  (ROTA_AUTH_CLIENT_RATE, default 10/minute) and per token prefix (ROTA_AUTH_PREFIX_RATE,
  default 5/minute, one token being guessed at from many addresses); 429 while it holds;
- across processes, a lockout in the database: ROTA_AUTH_MAX_FAILURES (default 10) failures
  from one client within ROTA_AUTH_WINDOW_MINUTES (15) refuse that client every credential,
  good ones too, for ROTA_AUTH_LOCKOUT_MINUTES (15), with Retry-After.
A client is its network address as the server sees it: behind a proxy, that is the proxy's
unless the server is told to trust forwarded addresses (uvicorn --forwarded-allow-ips).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from limits import parse, storage, strategies
from sqlalchemy.orm import Session

from assistant import callers
from clinic import auth_failures, tokens
from clinic.auth_failures import LockoutPolicy
from clinic.db import Database
from clinic.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from clinic.settings import whole_number
from clinic.timeutil import now_utc
from clinic.tokens import Caller

log = logging.getLogger("rota.auth")
T = TypeVar("T")

WHAT_TO_DO = {
    "unknown": "that token is not known: check it was copied whole, or ask an operator for one "
    "(`rota token create --staff ID`)",
    "expired": "that token has expired: ask an operator for a new one "
    "(`rota token rotate --staff ID`)",
    "revoked": "that token was revoked: ask an operator for a new one "
    "(`rota token rotate --staff ID`)",
    "malformed": "send 'Authorization: Bearer <token>'; create one with "
    "`rota token create --staff ID`",
}


def _rate(name: str, default: str) -> str:
    raw = os.environ.get(name, "").strip() or default
    try:
        parse(raw)
    except ValueError:
        raise InvalidInput(
            f"{name} must read like '10/minute' or '100/hour', not {raw!r}"
        ) from None
    return raw


@dataclass(frozen=True)
class AuthPolicy:
    lockout: LockoutPolicy
    client_rate: str
    prefix_rate: str

    @classmethod
    def from_env(cls) -> AuthPolicy:
        return cls(
            lockout=LockoutPolicy(
                max_failures=whole_number("ROTA_AUTH_MAX_FAILURES", 10),
                window=timedelta(
                    minutes=whole_number("ROTA_AUTH_WINDOW_MINUTES", 15, unit="minutes")
                ),
                lockout=timedelta(
                    minutes=whole_number("ROTA_AUTH_LOCKOUT_MINUTES", 15, unit="minutes")
                ),
            ),
            client_rate=_rate("ROTA_AUTH_CLIENT_RATE", "10/minute"),
            prefix_rate=_rate("ROTA_AUTH_PREFIX_RATE", "5/minute"),
        )


class Throttle:
    """One server process's brakes and policy; a door holds one for its lifetime."""

    def __init__(self, policy: AuthPolicy | None = None) -> None:
        self.policy = policy or AuthPolicy.from_env()
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._per_client = parse(self.policy.client_rate)
        self._per_prefix = parse(self.policy.prefix_rate)

    def _keys(self, client: str, prefix: str) -> list[tuple[object, str]]:
        return [(self._per_client, f"client:{client}"), (self._per_prefix, f"prefix:{prefix}")]

    def wait(self, client: str, prefix: str) -> int:
        """Seconds until this client may fail again (0: it may try now)."""
        longest = 0.0
        for limit, key in self._keys(client, prefix):
            if not self._limiter.test(limit, key):  # type: ignore[arg-type]
                reset = self._limiter.get_window_stats(limit, key).reset_time  # type: ignore[arg-type]
                longest = max(longest, reset - time.time())
        return math.ceil(longest) if longest > 0 else 0

    def failed(self, client: str, prefix: str) -> None:
        for limit, key in self._keys(client, prefix):
            self._limiter.hit(limit, key)  # type: ignore[arg-type]


def _too_many(seconds: int) -> TooManyAttempts:
    minutes = max(1, math.ceil(seconds / 60))
    return TooManyAttempts(
        f"too many failed sign-ins from this address; try again in {minutes} minute(s)",
        retry_after=max(1, seconds),
    )


def _refuse_if_held(
    db: Database, throttle: Throttle, client: str, prefix: str, session: Session | None = None
) -> None:
    """429 while this process's rate limits or the database's lockout hold the client (in
    `session` when the caller has one open: one transaction per request, not two)."""
    wait = throttle.wait(client, prefix)
    if wait:
        raise _too_many(wait)
    now = now_utc()
    if session is None:
        with db.read() as own:
            until = auth_failures.locked_until(own, client, now=now)
    else:
        until = auth_failures.locked_until(session, client, now=now)
    if until is not None:
        raise _too_many(math.ceil((until - now).total_seconds()))


def _fail(
    db: Database,
    throttle: Throttle,
    *,
    client: str,
    door: str,
    reason: str,
    prefix: str,
    message: str,
) -> NotAuthenticated:
    """Record and log a failure; the error to raise (401), or raise 429 if it locked out."""
    throttle.failed(client, prefix)
    now = now_utc()
    with db.session() as session:
        until = auth_failures.record_failure(
            session,
            client=client,
            door=door,
            reason=reason,
            prefix=prefix,
            now=now,
            policy=throttle.policy.lockout,
        )
    log.warning(
        "auth failure: door=%s client=%s reason=%s prefix=%s%s",
        door,
        client,
        reason,
        prefix,
        " (client locked out)" if until else "",
    )
    return NotAuthenticated(message, reason)


def bearer(db: Database, throttle: Throttle, token: str, *, client: str, door: str) -> Caller:
    """The caller a bearer token speaks for, within its scope; NotAuthenticated (401) or
    TooManyAttempts (429) otherwise."""
    token = token.strip()
    prefix = auth_failures.prefix_digest(token)
    now = now_utc()
    with db.read() as session:
        _refuse_if_held(db, throttle, client, prefix, session)
        check = tokens.check_token(session, token, now=now)
        caller = (
            None
            if check.staff is None
            else callers.caller_of(check.staff, door=door, scope=check.scope)
        )
    if caller is None:
        raise _fail(
            db,
            throttle,
            client=client,
            door=door,
            reason=check.reason,
            prefix=prefix,
            message=WHAT_TO_DO[check.reason],
        )
    if check.stale_use and check.token_id is not None:
        with db.session() as session:
            tokens.mark_used(session, check.token_id, now=now)
    return caller


def one_time(
    db: Database,
    throttle: Throttle,
    secret: str,
    redeem: Callable[[], T],
    *,
    client: str,
    door: str,
) -> T:
    """Run `redeem` (which checks a one-time secret, e.g. a sign-in link) under the same brakes
    as a bearer token: its InvalidInput is recorded as a failure (reason "link") and re-raised."""
    prefix = auth_failures.prefix_digest(secret)
    _refuse_if_held(db, throttle, client, prefix)
    try:
        return redeem()
    except InvalidInput as exc:
        _fail(
            db, throttle, client=client, door=door, reason="link", prefix=prefix, message=str(exc)
        )
        raise


def remembered(db: Database, digest: str) -> Caller | None:
    """The caller a stored token digest (`rota login`) still speaks for: None once that token
    has expired or been revoked."""
    with db.read() as session:
        check = tokens.check_digest(session, digest)
        if check.staff is None:
            return None
        return callers.caller_of(check.staff, door="cli", scope=check.scope)
