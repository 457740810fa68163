"""Who is at the browser: the session cookie → a Visitor; CSRF on every unsafe request.

A page handler that takes `visitor: NamedDependency[Visitor]` is for signed-in people only. Without a live
session the request is sent to /signin (an htmx request gets `HX-Redirect`, so the whole page
goes, not a fragment). POST, PUT, PATCH and DELETE must echo the session's CSRF token, as the
header `X-CSRF-Token` (htmx sends it on every request: static/rota.js) or the form field
`_csrf` (plain forms: `{{ csrf_field() }}`).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import quote, urlsplit

import anyio.to_thread
from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException

from assistant.usecases import web_sign_in
from assistant.usecases.web_sign_in import Visit
from clinic.db import Database
from integrations.http.observe import note_caller

Visitor = Visit
SESSION_COOKIE = "rota_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(HTTPException):
    """No live session: answered with a redirect to /signin (see integrations.web.errors)."""

    status_code = 401

    def __init__(self, next_path: str) -> None:
        super().__init__(detail="please sign in")
        self.next_path = next_path


class CsrfRefused(HTTPException):
    status_code = 403


def safe_next(path: str | None) -> str:
    """A local path to return to after signing in; anything else (another site, '//x') → '/'."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def signin_location(next_path: str) -> str:
    target = safe_next(next_path)
    return "/signin" if target == "/" else f"/signin?next={quote(target, safe='/')}"


async def provide_visitor(request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Visit:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    visit = await anyio.to_thread.run_sync(web_sign_in.visit, db, cookie) if cookie else None
    if visit is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method not in SAFE_METHODS:  # a form's target is no page to come back to
            here = "/"
        current = request.headers.get("hx-current-url")
        if request.headers.get("hx-request") and current:  # the page, not the fragment's URL
            parts = urlsplit(current)
            here = parts.path + (f"?{parts.query}" if parts.query else "")
        raise SignInRequired(here)
    note_caller(request.scope, visit.caller.staff_id)  # the request's log line names who acted
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and "form" in request.headers.get("content-type", ""):
            sent = (await request.form()).get(CSRF_FIELD)
        if not sent or not hmac.compare_digest(str(sent), visit.csrf):
            raise CsrfRefused(
                detail="this form is out of date (its security token does not match your "
                "session); reload the page and try again"
            )
    return visit
