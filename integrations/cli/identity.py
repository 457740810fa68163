"""Who the command line acts as. Anyone at a keyboard may run `rota`; only a configured operator
changes anything:

- ROTA_OPERATOR: a staff id, or `operator` (the local administrator the permissions pack makes a
  director). For servers, scripts and `make run`. On a network of facilities, `STAFF@FACILITY`
  names a person of one facility: at another (`--facility`) they act as the network allows
  (assistant.tenancy: linked, granted network-wide, or refused).
- `rota login`: a staff member's token, verified once; its digest (never the token) and staff id
  are kept in a 0600 file under $XDG_CONFIG_HOME/rota (default ~/.config/rota). It acts with that
  token's scope, and stops when the token expires or is revoked. `rota logout` forgets it.

Otherwise the CLI acts as the read-only `viewer` role, and `--actor` is not honoured. With an
operator, `--actor STAFF_ID` acts for that person (their roles; the audit log names them).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from assistant import authentication, callers, tenancy
from clinic.db import Database
from clinic.errors import InvalidInput, PermissionDenied
from clinic.tokens import Caller, secret_digest

OPERATOR_ENV = "ROTA_OPERATOR"
DEFAULT_ACTOR = "operator"
"""--actor's default: "whoever the configured operator is"."""
VIEWER = Caller("cli", "command line (read-only)", "viewer", scope="read")
HINT = (
    "the command line is read-only until an operator is configured: set ROTA_OPERATOR to your "
    "staff id (or `operator` for the local administrator), or run `rota login`"
)


def login_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(base) / "rota" / "login.json"


@dataclass(frozen=True)
class Operator:
    """The configured operator: who, and the scope their credential allows."""

    staff_id: str
    scope: str
    how: str


def operator(db: Database) -> Operator | None:
    """The configured operator, or None (then the command line is read-only)."""
    named = os.environ.get(OPERATOR_ENV, "").strip()
    if named:
        return Operator(named, "admin", OPERATOR_ENV)
    path = login_file()
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        digest = str(stored["token_digest"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    caller = authentication.remembered(db, digest)
    if caller is None:  # the token behind the login expired or was revoked
        return None
    return Operator(caller.staff_id, caller.scope, "rota login")


def caller(db: Database, actor: str = DEFAULT_ACTOR) -> Caller:
    """Who a command acts as: the operator (or, with --actor, whom they act for), else VIEWER."""
    found = operator(db)
    if found is None:
        return VIEWER
    home = tenancy.parse_operator(found.staff_id) if actor == DEFAULT_ACTOR else None
    if home is not None:  # STAFF@FACILITY: that person at the facility in force, or refused
        return tenancy.caller_at(db, replace(home, scope=found.scope), door="cli")
    who = found.staff_id if actor == DEFAULT_ACTOR else actor
    acting = callers.for_actor(db, who)
    if found.scope == "admin":
        return acting
    return Caller(acting.staff_id, acting.name, acting.role, acting.roles, scope=found.scope)


def acting(db: Database, actor: str = DEFAULT_ACTOR) -> str:
    """The actor id a change without a use case's own check is recorded under; refuses
    (PermissionDenied with HINT) unless an operator with an admin credential is configured."""
    found = operator(db)
    if found is None:
        raise PermissionDenied(HINT)
    if found.scope != "admin":
        raise PermissionDenied(
            f"you are logged in with a {found.scope}-scoped token, which may not do this: "
            "`rota login` with an admin-scoped token, or set ROTA_OPERATOR"
        )
    if actor != DEFAULT_ACTOR:
        return actor
    home = tenancy.parse_operator(found.staff_id)
    return found.staff_id if home is None else tenancy.caller_at(db, home, door="cli").staff_id


def login(db: Database, token: str) -> Caller:
    """Verify a token (a failure counts like any other: assistant.authentication) and remember
    its digest in a file only the user may read."""
    token = token.strip()
    if not token:
        raise InvalidInput("paste a Rota token (it starts with rota_)")
    who = os.environ.get("USER", "") or "cli"
    found = authentication.bearer(
        db, authentication.Throttle(), token, client=f"cli:{who}"[:64], door="cli"
    )
    path = login_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"staff_id": found.staff_id, "token_digest": secret_digest(token)}, out)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return found


def logout() -> bool:
    path = login_file()
    if not path.exists():
        return False
    path.unlink()
    return True
