"""Errors as RFC 9457 problem details. No stack trace ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from clinic.errors import InvalidInput, LikelyDuplicate, RotaError, RuleViolation

log = logging.getLogger("rota.http")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM)


def rota_error(request: Request[Any, Any, Any], exc: RotaError) -> Response[dict[str, Any]]:
    extra: dict[str, Any] = {}
    if isinstance(exc, (InvalidInput, RuleViolation)) and exc.problems:
        extra["errors"] = exc.problems
    if isinstance(exc, RuleViolation) and exc.decision is not None:
        decision = exc.decision
        extra["rules"] = getattr(decision, "fired", None)
    if isinstance(exc, LikelyDuplicate):
        extra["existing"] = exc.existing
    return problem(exc.http_status, exc.__class__.__name__, str(exc), **extra)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        extra["errors"] = [
            f"{e.get('source', 'body')}.{e.get('key', '')}: {e.get('message', '')}".strip(".")
            if isinstance(e, dict)
            else str(e)
            for e in (exc.extra if isinstance(exc.extra, list) else [exc.extra])
        ]
    headers = getattr(exc, "headers", None) or {}
    response = problem(exc.status_code, _title(exc.status_code), str(exc.detail), **extra)
    response.headers.update(headers)
    return response


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # Logged without the request body (it may carry patient details).
    log.exception("internal error on %s %s", request.method, request.url.path)
    return problem(
        500,
        "Internal Server Error",
        "something went wrong on our side; nothing was changed",
    )


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS: dict[Any, Any] = {
    RotaError: rota_error,
    HTTPException: http_error,
    Exception: internal_error,
}
MEDIA = MediaType.JSON
