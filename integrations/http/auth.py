"""Bearer tokens → the calling staff member, within the token's scope. Every /api and /fhir
route needs one.

The scope is checked here, once per request: a route's `opt={"scope": ...}` names the scope it
needs; otherwise reading (GET, HEAD) needs `read` and anything else `admin`. The use cases check
the scope again with the role for each action (assistant.access), which is what limits chat.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException

from assistant import authentication, tenancy
from assistant.authentication import Throttle
from clinic.db import Database
from clinic.errors import NotAuthenticated, PermissionDenied, TooManyAttempts
from clinic.tokens import SCOPES, Caller
from integrations.http.observe import note_caller
from integrations.http.tenants import Tenants

READING = frozenset({"GET", "HEAD"})
BOOKING = {"scope": "booking"}
"""`opt=` of the routes a booking-scoped token may use beyond reading."""
ANY_SCOPE = {"scope": "read"}
"""`opt=` of a route every token may post to (chat: its use cases decide what each may do)."""

FHIR_PREFIX = "/fhir/"  # integrations.http.fhir.context.ROOT's first segment


def client_of(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def door_of(request: Request[Any, Any, Any]) -> str:
    """`fhir` under /fhir/, else `http`: the door the access log and failure records name."""
    return "fhir" if request.url.path.startswith(FHIR_PREFIX) else "http"


def required_scope(request: Request[Any, Any, Any]) -> str:
    declared = request.route_handler.opt.get("scope")
    if declared in SCOPES:
        return str(declared)
    return "read" if request.method in READING else "admin"


def provide_caller(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    throttle: NamedDependency[Throttle],
    tenants: NamedDependency[Tenants],
) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            authentication.WHAT_TO_DO["malformed"], headers={"WWW-Authenticate": "Bearer"}
        )
    # On a network, a token of another facility is that person there: linked, granted, or 403.
    home = tenancy.foreign_home(db, token.strip()) if tenants.facilities.is_network() else None
    try:
        caller = (
            tenancy.caller_at(db, home, door_of(request))
            if home is not None
            else authentication.bearer(
                db, throttle, token, client=client_of(request), door=door_of(request)
            )
        )
    except NotAuthenticated as exc:
        raise NotAuthorizedException(
            str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None
    except TooManyAttempts as exc:
        raise TooManyRequestsException(
            str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    note_caller(request.scope, caller.staff_id)  # the request's log line names who acted
    needed = required_scope(request)
    if SCOPES.index(caller.scope) < SCOPES.index(needed):
        raise PermissionDenied(
            f"this token's {caller.scope} scope may not {request.method} {request.url.path}: "
            f"that needs the {needed} scope (`rota token create --scope {needed}`)"
        )
    return caller
