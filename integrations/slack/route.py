"""POST /slack/events on the Litestar app: events, slash commands and interactivity on one URL.

A plain route hands the raw body to Bolt (the signature covers the exact bytes), following
Bolt's own Starlette adapter; Bolt's ASGI adapter is not mounted (Litestar rewrites mounted
paths; see ../shared/notes/stack.md section 1).
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, post
from litestar.handlers import HTTPRouteHandler
from slack_sdk.signature import SignatureVerifier

from assistant.dialogue import Dialogue
from clinic.db import Database
from integrations.http.api import webhook_operation
from integrations.slack.door import SlackDoor
from integrations.slack.settings import SlackSettings

INVALID = b'{"error": "invalid request"}'  # Bolt's own answer to a bad signature
NOT_CONFIGURED = (
    "Slack is not configured on this server: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN."
)


def slack_events_route(
    db: Database, dialogue: Dialogue, settings: SlackSettings | None = None
) -> HTTPRouteHandler:
    settings = settings or SlackSettings.from_env()
    door = SlackDoor(db, dialogue, settings) if settings.configured else None
    verifier = SignatureVerifier(settings.signing_secret or "unset")  # unused when unset

    @post(
        "/slack/events",
        tags=["webhooks"],
        security=[{"slackSignature": []}],
        operation_class=webhook_operation(
            requests=("application/x-www-form-urlencoded", "application/json"),
            answers={
                200: ("application/json", "text/plain"),
                401: ("application/json",),
                503: ("text/plain",),
            },
        ),
        opt={"slack_door": door},
        status_code=200,
        request_max_body_size=1_000_000,
    )
    async def slack_events(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Slack's events, slash commands and interactivity, signed. 503 when
        SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are not set on this server."""
        if door is None:
            return Response(NOT_CONFIGURED.encode(), status_code=503, media_type="text/plain")
        body = (await request.body()).decode("utf-8", errors="replace")  # bad bytes: 401, not 500
        headers = dict(request.headers)
        # Checked before Bolt parses the body: an unsigned body that is not what Slack sends
        # (bad JSON, a JSON list) is refused like any unsigned one, not a 500 inside Bolt.
        if not verifier.is_valid_request(body, headers):
            return Response(INVALID, status_code=401, media_type="application/json")
        answer = await door.dispatch(body, request.url.query or "", headers)
        return Response(
            content=(answer.body or "").encode(),
            status_code=answer.status,
            headers=answer.first_headers_without_set_cookie(),
        )

    return slack_events


def door_of(app: Litestar) -> SlackDoor | None:
    """The Slack door an app serves (for tests, benchmarks and operators)."""
    for route in app.routes:
        if route.path == "/slack/events":
            for handler in getattr(route, "route_handlers", []):
                door = handler.opt.get("slack_door")
                if door is not None:
                    return door
    return None
