"""Every request observed once: a request id (the caller's `X-Request-ID` when well formed, else
a new one; always sent back), its latency in the Prometheus histogram, and one log line on
`rota.requests` (JSON with ROTA_LOG_FORMAT=json: integrations/log_policy.py).

What is recorded is the route TEMPLATE (`/api/patients/{patient_id:str}`), never the path
(ids and names), never the query string, never a body or a message; the caller's staff id is the
one person named (who acted). The wrapper sits outside Litestar's router, because app-level
middleware never sees a 404 or a 405."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from clinic import metrics

log = logging.getLogger("rota.requests")

REQUEST_ID_HEADER = "X-Request-ID"
STATE_STAFF = "rota_staff"
STATE_REQUEST_ID = "rota_request_id"
# Hex digits and dashes only (a UUID, nginx's $request_id): a header that could spell a name
# is replaced, so nothing a client sends reaches the logs.
WELL_FORMED_ID = re.compile(r"[0-9A-Fa-f-]{8,64}")
UNMATCHED = "(unmatched)"
"""The route label of a request no route answered: never its path."""


def request_id(sent: str | None) -> str:
    """The id to log and send back: the caller's when well formed, else a new one."""
    if sent and WELL_FORMED_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def note_caller(scope: Scope, staff_id: str) -> None:
    """Record who is calling, for this request's log line (the doors' caller providers)."""
    scope.setdefault("state", {})[STATE_STAFF] = staff_id


class Observed:
    """The ASGI wrapper around Litestar's handler (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = request_id(sent.decode("latin-1") if sent is not None else None)
        scope.setdefault("state", {})[STATE_REQUEST_ID] = rid
        status = 500  # unless a response starts: a handler that died before answering
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            record(scope, rid, status, seconds)


def route_of(scope: Scope) -> str:
    template = scope.get("path_template")
    return str(template) if template and scope.get("route_handler") is not None else UNMATCHED


def record(scope: Scope, rid: str, status: int, seconds: float) -> None:
    route = route_of(scope)
    method = str(scope.get("method", ""))
    metrics.REQUEST_SECONDS.labels(route, method, str(status)).observe(seconds)
    fields: dict[str, Any] = {
        "request_id": rid,
        "route": route,
        "method": method,
        "status": status,
        "ms": round(seconds * 1000, 1),
        "staff": scope.get("state", {}).get(STATE_STAFF),
    }
    log.info("%s %s %s", method, route, status, extra={"rota": fields})


def observed(app: Any) -> Any:
    """The Litestar app with its handler wrapped (called once by create_app)."""
    app.asgi_handler = Observed(app.asgi_handler)
    return app
