"""Errors on the web pages: a page in plain words (or, for htmx, a message in the page's alert
region), never a stack trace; no session → the sign-in page."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from clinic.errors import RotaError, RuleViolation
from integrations.http.problems import http_detail
from integrations.web.session import SignInRequired, signin_location

log = logging.getLogger("rota.web")

HEADINGS = {
    400: "That request did not make sense",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Someone else got there first",
    422: "Not allowed by the rules",
    500: "Something went wrong",
}


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return bool(request.headers.get("hx-request"))


def error_response(
    request: Request[Any, Any, Any], status: int, message: str, reasons: list[str] | None = None
) -> Response[Any]:
    context = {
        "heading": HEADINGS.get(status, "Something went wrong"),
        "message": message,
        "reasons": reasons or [],
        "status": status,
        "title": f"{HEADINGS.get(status, 'Error')} — Rota",
    }
    if _is_htmx(request):
        # htmx swaps it into the page's alert region, whatever the element that asked.
        return Template(
            template_name="error_fragment.html",
            context=context,
            status_code=status,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    return Template(template_name="error.html", context=context, status_code=status)


def rota_error(request: Request[Any, Any, Any], exc: RotaError) -> Response[Any]:
    reasons: list[str] = []
    if isinstance(exc, RuleViolation) and exc.decision is not None:
        reasons = [f.message for f in getattr(exc.decision, "fired", ()) if f.message]
    return error_response(request, exc.http_status, str(exc), reasons)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, SignInRequired):
        location = signin_location(exc.next_path)
        if _is_htmx(request):
            return Response(b"", status_code=401, headers={"HX-Redirect": location})
        return Redirect(location, status_code=303)
    detail, errors = http_detail(exc, request)
    return error_response(request, exc.status_code, detail, errors)


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "Nothing was changed. Please try again in a moment.")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    RotaError: rota_error,
    HTTPException: http_error,
    Exception: internal_error,
}
