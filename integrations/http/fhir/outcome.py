"""Errors on the FHIR facade as OperationOutcome resources (never problem+json, never a stack
trace), and how the OpenAPI document declares them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from clinic.errors import InvalidInput, RotaError, RuleViolation
from integrations.http.problems import problem_responses

log = logging.getLogger("rota.fhir")
FHIR_JSON = "application/fhir+json"
PREFIX = "/fhir/"
"""Requests under this path are answered in FHIR's terms, errors included."""

# HTTP status → OperationOutcome.issue.code (http://hl7.org/fhir/R4/valueset-issue-type.html).
ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "processing",
    429: "throttled",
}


@dataclass
class Issue:
    severity: str
    code: str
    diagnostics: str | None = None
    details: dict[str, Any] | None = None
    expression: list[str] | None = None


@dataclass
class OperationOutcome:
    """FHIR R4 OperationOutcome: what went wrong, one issue per problem, in plain words."""

    resourceType: str = "OperationOutcome"  # FHIR's own field name
    issue: list[Issue] = field(default_factory=list)


def outcome_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI responses of these error statuses, as OperationOutcome in FHIR JSON."""
    return problem_responses(*statuses, media_type=FHIR_JSON, model=OperationOutcome)


def outcome(
    status: int, text: str, *, code: str | None = None, more: list[str] | None = None
) -> Response[dict[str, Any]]:
    """An OperationOutcome response: the first issue says `text`, one more issue per `more`."""
    kind = code or ISSUE_CODE.get(status, "exception" if status >= 500 else "processing")
    issues = [{"severity": "error", "code": kind, "details": {"text": text}, "diagnostics": text}]
    issues += [{"severity": "error", "code": kind, "diagnostics": m} for m in more or []]
    return Response(
        {"resourceType": "OperationOutcome", "issue": issues},
        status_code=status,
        media_type=FHIR_JSON,
    )


def rota_error(request: Request[Any, Any, Any], exc: RotaError) -> Response[dict[str, Any]]:
    more: list[str] = []
    code = None
    if isinstance(exc, (InvalidInput, RuleViolation)):
        more = list(exc.problems)
    if isinstance(exc, RuleViolation):
        code = "business-rule"
        # One issue per rule that refused (the booking's decision lists them as records).
        fired = [_record(f) for f in getattr(exc.decision, "fired", None) or []]
        more += [
            f"{f.get('id')}: {f.get('message')}"
            for f in fired
            if f.get("severity") in ("deny", "require_override") and not f.get("overridden")
        ]
    return outcome(exc.http_status, str(exc), code=code, more=more)


def _record(fired: Any) -> dict[str, Any]:
    return fired if isinstance(fired, dict) else fired.to_dict()


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    more: list[str] = []
    if isinstance(exc, ValidationException) and exc.extra:
        items = exc.extra if isinstance(exc.extra, list) else [exc.extra]
        more = [
            f"{e.get('source', 'body')}.{e.get('key', '')}: {e.get('message', '')}".strip(".")
            if isinstance(e, dict)
            else str(e)
            for e in items
        ]
    detail = str(exc.detail) or HTTPStatus(exc.status_code).phrase
    response = outcome(exc.status_code, detail, more=more)
    response.headers.update(getattr(exc, "headers", None) or {})
    return response


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # Logged without the request body (it may carry patient details).
    log.exception("internal error on %s %s", request.method, request.url.path)
    return outcome(500, "something went wrong on our side; nothing was changed")


FHIR_HANDLERS: dict[type[Exception], Callable[..., Response[Any]]] = {
    RotaError: rota_error,
    HTTPException: http_error,
    Exception: internal_error,
}


def fhir_aware(handlers: dict[Any, Any]) -> dict[Any, Any]:
    """The app's exception handlers, answering in OperationOutcome under /fhir/ (unknown paths
    and methods there too, which no route's own handlers ever see)."""

    def pick(kind: type[Exception], other: Callable[..., Any]) -> Callable[..., Any]:
        ours = next(h for k, h in FHIR_HANDLERS.items() if issubclass(kind, k))

        def handle(request: Request[Any, Any, Any], exc: Exception) -> Any:
            if request.url.path.startswith(PREFIX):
                return ours(request, exc)
            return other(request, exc)

        return handle

    return {kind: pick(kind, handler) for kind, handler in handlers.items()}
