"""Bearer tokens → the calling staff member. Every /api and /fhir route needs one; the caller
carries the door it came through (`fhir` under /fhir/, else `http`) for the access log."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from assistant import callers
from clinic.db import Database
from clinic.tokens import Caller

FHIR_PREFIX = "/fhir/"  # integrations.http.fhir.context.ROOT's first segment


def provide_caller(request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException(
            "send 'Authorization: Bearer <token>'; create one with `rota token create --staff ID`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    door = "fhir" if request.url.path.startswith(FHIR_PREFIX) else "http"
    caller = callers.for_token(db, token.strip(), door)
    if caller is None:
        raise NotAuthorizedException(
            "that token is unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return caller
