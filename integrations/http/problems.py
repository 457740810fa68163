"""Errors as RFC 9457 problem details, and how the OpenAPI document declares them. No stack
trace ever reaches a client."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec

from clinic.errors import InvalidInput, LikelyDuplicate, RotaError, RuleViolation
from integrations.http.fields import PATTERN_WORDS

log = logging.getLogger("rota.http")
PROBLEM = "application/problem+json"


@dataclass
class Problem:
    """An error (RFC 9457): `errors` names each field at fault, `rules` the rules that refused,
    `existing` the record a likely duplicate matches, `failed` the weeks of a refused series."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[str] | None = None
    rules: list[Any] | None = None
    existing: dict[str, Any] | None = None
    failed: list[dict[str, Any]] | None = None


# What each status means on this API (the same words in the document as in the code's errors).
MEANING = {
    400: "Malformed request: a parameter or body that does not match this document",
    401: "No bearer token, or one that is unknown, expired or revoked",
    403: "The caller's roles, or the token's scope, may not do this",
    404: "No such record (or the caller may not know it exists)",
    409: "Conflict: the time or room is taken, a likely duplicate, or the record changed",
    422: "Well formed but refused: a value out of range, or a clinical or privacy rule says no",
    429: "Too many failed sign-ins from this client: wait for Retry-After seconds",
}


def problem_responses(
    *statuses: int, media_type: str = PROBLEM, model: type = Problem
) -> dict[int, ResponseSpec]:
    """The OpenAPI responses for these error statuses (route handlers' `responses=`); another
    error format (e.g. FHIR's OperationOutcome) passes its own media type and model."""
    return {
        status: ResponseSpec(
            data_container=model,
            media_type=media_type,
            description=MEANING.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in statuses
    }


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


def _in_words(error: dict[str, Any]) -> str:
    """One of Litestar's validation errors as a person reads it: a pattern's meaning, not the
    regular expression ("week: expected a week such as 2026-W49, …")."""
    key, message = str(error.get("key", "")), str(error.get("message", ""))
    for pattern, words in PATTERN_WORDS.items():
        if "matching regex" in message and pattern in message:
            message = f"expected {words}"
            break
    return f"{key}: {message}" if key else message


def http_detail(
    exc: HTTPException, request: Request[Any, Any, Any] | None = None
) -> tuple[str, list[str]]:
    """What an HTTP error says, and each field at fault in words (for every door's error page)."""
    detail = str(exc.detail)
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.route_handler.resolve_request_max_body_size() if request else None
        detail = f"the request body is larger than this server accepts{_bytes(limit)}"
    errors: list[str] = []
    if isinstance(exc, ValidationException) and exc.extra:
        errors = [
            _in_words(e) if isinstance(e, dict) else str(e)
            for e in (exc.extra if isinstance(exc.extra, list) else [exc.extra])
        ]
        detail = f"{detail}: " + "; ".join(errors)
    return detail, errors


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    extra: dict[str, Any] = {}
    detail, errors = http_detail(exc, request)
    if errors:
        extra["errors"] = errors
    headers = getattr(exc, "headers", None) or {}
    response = problem(exc.status_code, _title(exc.status_code), detail, **extra)
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


def _bytes(limit: int | None) -> str:
    return f" (at most {limit:,} bytes)" if limit else ""


def _title(status: int) -> str:
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
